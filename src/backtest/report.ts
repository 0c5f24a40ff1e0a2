import { demandClassOf, type BatchResult } from '../forecast/wire.js';
import { CalibrationBuilder, seriesQuantiles } from './conformal.js';
import { coverage, pinball, pointScores, scaledPinball } from './metrics.js';
import { quantileColumn } from '../publish/format.js';

/**
 * The backtest report: every candidate model (and the selection that ships) scored on every
 * series and window. Intervals are calibrated leave-one-window-out, so a window's pinball loss
 * and coverage are measured on errors its own calibration never saw.
 */

export interface ReportRow {
  readonly sid: number;
  readonly model: string;
  /** 1 = oldest window. */
  readonly window: number;
  readonly metric: string;
  readonly value: number;
}

export interface ModelSummary {
  readonly series: number;
  readonly windows: number;
  readonly metrics: Record<string, number>;
}

const SELECTED = 'selected';

interface Path {
  readonly actual: Float64Array;
  readonly forecast: Float64Array;
  readonly unit: number;
}

/** Central intervals present in the quantile set: [lower level index, upper index, nominal coverage]. */
function centralIntervals(levels: readonly number[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  levels.forEach((lo, i) => {
    const j = levels.findIndex((hi) => Math.abs(hi - (1 - lo)) < 1e-9);
    if (lo < 0.5 && j > i) out.push([i, j, 1 - 2 * lo]);
  });
  return out;
}

/** Which backtest target periods are holiday/event periods, for scores split by kind of period. */
export interface PeriodSplit {
  /** Index of the last period of the data set (window origins are counted back from it). */
  readonly lastT: number;
  isEvent(sid: number, t: number): boolean;
}

/** Mean absolute error and mean pinball loss (both scaled) over the steps where `mask` is true; NaN if none. */
function subsetScores(p: Path, qs: Float64Array[], levels: readonly number[], scale: number, mask: boolean[]): { mase: number; pinball: number } {
  let n = 0;
  let ae = 0;
  let pl = 0;
  for (let s = 0; s < mask.length; s++) {
    if (!mask[s] || Number.isNaN(p.actual[s])) continue;
    n++;
    ae += Math.abs(p.actual[s] - p.forecast[s]);
    let q = 0;
    levels.forEach((tau, k) => { q += pinball(p.actual[s], qs[k][s], tau); });
    pl += q / levels.length;
  }
  return n ? { mase: ae / n / scale, pinball: pl / n / scale } : { mase: NaN, pinball: NaN };
}

export function buildReport(results: readonly { result: BatchResult; sids: Int32Array }[], levels: readonly number[], windows: number, h: number, split?: PeriodSplit): { rows: ReportRow[]; summary: Record<string, ModelSummary> } {
  const first = results[0]?.result;
  const names = first ? [...first.candidateNames, SELECTED] : [SELECTED];
  const C = names.length - 1;
  /** path(model index, series) per window, or null. */
  const pathOf = (r: BatchResult, i: number, c: number, w: number): Path | null => {
    const d = r.detail;
    if (!d) return null;
    // A series with fewer windows than asked has no origin for the missing ones.
    if (d.fromEnd[i * windows + w] === 0) return null;
    const a = d.actuals.subarray((i * windows + w) * h, (i * windows + w + 1) * h);
    if (c === C) {
      const res = r.residuals.subarray((i * windows + w) * h, (i * windows + w + 1) * h);
      if (res.every((x) => Number.isNaN(x))) return null;
      const unit = r.sd[i * h] > 0 ? r.sd[i * h] : r.scale[i];
      return { actual: a, forecast: a.map((v, s) => v - res[s]), unit };
    }
    const f = d.forecasts.subarray(((i * C + c) * windows + w) * h, ((i * C + c) * windows + w + 1) * h);
    if (Number.isNaN(f[0])) return null;
    const u = d.units[(i * C + c) * windows + w];
    return { actual: a, forecast: f, unit: u > 0 ? u : r.scale[i] };
  };

  const rows: ReportRow[] = [];
  const summary: Record<string, ModelSummary> = {};
  const intervals = centralIntervals(levels);
  for (let c = 0; c < names.length; c++) {
    const model = names[c];
    // Leave-one-window-out calibration: one builder per held-out window.
    const builders = Array.from({ length: windows }, () => new CalibrationBuilder(h, windows));
    const ones = new Float64Array(h).fill(1);
    for (const { result } of results) {
      for (let i = 0; i < result.labelIds.length; i++) {
        const cls = demandClassOf(result.classIds[i]);
        const z = new Float64Array(windows * h).fill(NaN);
        for (let w = 0; w < windows; w++) {
          const p = pathOf(result, i, c, w);
          if (p) for (let s = 0; s < h; s++) z[w * h + s] = (p.actual[s] - p.forecast[s]) / p.unit;
        }
        for (let out = 0; out < windows; out++) {
          const zo = z.slice();
          zo.fill(NaN, out * h, (out + 1) * h);
          builders[out].add(cls, zo, ones);
        }
      }
    }
    const cals = builders.map((b) => b.build(levels));
    const sums: Record<string, number> = {};
    const counts: Record<string, number> = {};
    let count = 0;
    let absError = 0;
    let absActual = 0;
    const seriesSeen = new Set<number>();
    for (const { result, sids } of results) {
      for (let i = 0; i < result.labelIds.length; i++) {
        const cls = demandClassOf(result.classIds[i]);
        for (let w = 0; w < windows; w++) {
          const p = pathOf(result, i, c, w);
          if (!p || !(result.scale[i] > 0)) continue;
          const ps = pointScores(p.actual, p.forecast, result.scale[i], result.rscale[i]);
          const unit = new Float64Array(h).fill(p.unit);
          const qs = seriesQuantiles(cals[w], cls, p.forecast, unit, unit);
          const pins = scaledPinball(p.actual, qs, levels, result.scale[i]);
          const metrics: Record<string, number> = { mase: ps.mase, rmsse: ps.rmsse, wape: ps.absActual > 0 ? ps.absError / ps.absActual : NaN, bias: ps.bias };
          levels.forEach((tau, k) => { metrics[`pinball_${quantileColumn(tau)}`] = pins[k]; });
          metrics.pinball = pins.reduce((a, b) => a + b, 0) / pins.length;
          for (const [lo, hi, nominal] of intervals) metrics[`coverage_${Math.round(nominal * 100)}`] = coverage(p.actual, qs[lo], qs[hi]);
          const sid = sids[i];
          if (split && result.detail) {
            const origin = split.lastT + 1 - result.detail.fromEnd[i * windows + w];
            const mask = Array.from({ length: h }, (_, s) => split.isEvent(sid, origin + s));
            const ev = subsetScores(p, qs, levels, result.scale[i], mask);
            const other = subsetScores(p, qs, levels, result.scale[i], mask.map((m) => !m));
            metrics.mase_event = ev.mase;
            metrics.pinball_event = ev.pinball;
            metrics.mase_other = other.mase;
            metrics.pinball_other = other.pinball;
          }
          for (const [metric, value] of Object.entries(metrics)) {
            rows.push({ sid, model, window: w + 1, metric, value });
            if (metric !== 'wape' && Number.isFinite(value)) {
              sums[metric] = (sums[metric] ?? 0) + value;
              counts[metric] = (counts[metric] ?? 0) + 1;
            }
          }
          absError += ps.absError;
          absActual += ps.absActual;
          count++;
          seriesSeen.add(sid);
        }
      }
    }
    const metrics: Record<string, number> = {};
    for (const [k, v] of Object.entries(sums)) metrics[k] = v / (counts[k] ?? 1);
    metrics.wape = absActual > 0 ? absError / absActual : NaN;
    summary[model] = { series: seriesSeen.size, windows: count, metrics };
  }
  return { rows, summary };
}

