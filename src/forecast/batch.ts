import { DEMAND_CLASSES } from '../models/classify.js';
import { MODEL_NAMES, type ModelName } from '../models/library.js';
import { forecastSeries } from './series.js';
import { SERIES_KINDS, type FixedSelection, type ModelResolver, type SeriesTask } from './types.js';
import { seriesGlobal, type GlobalTask } from './global-batch.js';
import type { FittedSpec } from '../models/types.js';
import type { SeriesEvents } from '../models/events.js';
import { SCORE_FIELDS, type BacktestDetail, type BatchFixed, type BatchResult, type CalendarTask, type SeriesBatch } from './wire.js';

/** A batch of series in the wire format (wire.ts) forecast on a worker: the codecs and the loop over series. */

function fixedSelection(b: SeriesBatch, i: number): FixedSelection | undefined {
  const fx = b.fixed;
  if (!fx || fx.offsets[i] === fx.offsets[i + 1]) return undefined;
  const models: ModelName[] = [];
  const weights: number[] = [];
  const specs: FittedSpec[] = [];
  let forward = true;
  for (let j = fx.offsets[i]; j < fx.offsets[i + 1]; j++) {
    models.push(MODEL_NAMES[fx.models[j]]);
    weights.push(fx.weights[j]);
    specs.push({ structure: fx.labels[j], params: fx.params[j] ? (JSON.parse(fx.params[j]) as Record<string, number>) : {} });
    if (!fx.params[j]) forward = false;
  }
  return { models, weights, specs, how: forward ? 'forward' : 'restore' };
}

/** Encode per-series stored selections (undefined: select afresh) for a batch. */
export function encodeFixed(selections: readonly (FixedSelection | undefined)[]): BatchFixed {
  const offsets = new Int32Array(selections.length + 1);
  const models: number[] = [];
  const weights: number[] = [];
  const labels: string[] = [];
  const params: string[] = [];
  selections.forEach((sel, i) => {
    offsets[i] = models.length;
    sel?.models.forEach((m, k) => {
      models.push(MODEL_NAMES.indexOf(m));
      weights.push(sel.weights[k]);
      labels.push(sel.specs[k]?.structure ?? '');
      // Parameters travel only to be run forward; a restore re-estimates them.
      params.push(sel.how === 'forward' && sel.specs[k] ? JSON.stringify(sel.specs[k].params) : '');
    });
  });
  offsets[selections.length] = models.length;
  return { offsets, models: Int16Array.from(models), weights: Float64Array.from(weights), labels, params };
}

function seriesEvents(b: SeriesBatch, i: number, cal: CalendarTask | undefined): SeriesEvents | undefined {
  const ev = b.events;
  if (!ev || !cal) return undefined;
  const lo = ev.offsets[i];
  const hi = ev.offsets[i + 1];
  return {
    t: ev.t.subarray(lo, hi),
    f: ev.f.subarray(lo, hi),
    prior: ev.priors.subarray(i * cal.features, (i + 1) * cal.features),
    priorWeight: cal.priorWeight,
    baselineStep: cal.baselineStep,
  };
}

export interface BatchRequest {
  readonly batch: SeriesBatch;
  readonly task: SeriesTask;
  readonly calendar?: CalendarTask;
  /** The run's global networks, when it has them (the batches then carry each series' codes). */
  readonly global?: GlobalTask;
}

function seriesCount(batch: SeriesBatch): number {
  return batch.offsets.length - 1;
}

/** Every model named for any class, in a stable order. */
function candidateUnion(task: SeriesTask): ModelName[] {
  return [...new Set(DEMAND_CLASSES.flatMap((c) => task.candidates[c]))];
}

/** Forecast every series of a batch. Pure: the worker calls it, and so can a test. */
export function forecastBatch(req: BatchRequest, library?: ModelResolver): BatchResult {
  const { batch, task } = req;
  const k = seriesCount(batch);
  const h = task.horizon;
  const w = task.windows;
  const names = candidateUnion(task);
  const point = new Float64Array(k * h);
  const sd = new Float64Array(k * h);
  const scale = new Float64Array(k);
  const rscale = new Float64Array(k);
  const residuals = new Float64Array(k * w * h).fill(NaN);
  const scores = new Float64Array(k * SCORE_FIELDS.length).fill(NaN);
  const candidateErrors = new Float64Array(k * names.length).fill(NaN);
  const labelIds = new Uint16Array(k);
  const classIds = new Uint8Array(k);
  const kinds = new Uint8Array(k);
  const labels: string[] = [];
  const labelIndex = new Map<string, number>();
  const failures: { series: number; reason: string }[] = [];
  const selections: string[] = [];
  const closed = new Uint8Array(k * h);
  const effects = new Int16Array(k);
  const C = names.length;
  const detail: BacktestDetail | undefined = task.detail
    ? { actuals: new Float64Array(k * w * h).fill(NaN), forecasts: new Float64Array(k * C * w * h).fill(NaN), units: new Float64Array(k * C * w).fill(NaN), fromEnd: new Int32Array(k * w) }
    : undefined;
  const partOffsets = new Int32Array(k + 1);
  const partKeys: string[] = [];
  const partWeights: number[] = [];
  const partValues: Float64Array[] = [];
  const backtestPoint = new Float64Array(k * w * h).fill(NaN);
  const backtestFromEnd = new Int32Array(k * w);
  for (let i = 0; i < k; i++) {
    const y = batch.values.subarray(batch.offsets[i], batch.offsets[i + 1]);
    const shut = batch.closed ? batch.closed.t.subarray(batch.closed.offsets[i], batch.closed.offsets[i + 1]) : undefined;
    const events = seriesEvents(batch, i, req.calendar);
    const global = req.global && batch.global ? seriesGlobal(req.global, batch.global, i, y, events, shut) : undefined;
    const f = forecastSeries(y, task, library, events, fixedSelection(batch, i), shut, global);
    kinds[i] = SERIES_KINDS.indexOf(f.kind);
    closed.set(f.closed, i * h);
    effects[i] = f.effects;
    selections.push('selection' in f ? JSON.stringify(f.selection) : '');
    let id = labelIndex.get(f.label);
    if (id === undefined) {
      id = labels.length;
      labels.push(f.label);
      labelIndex.set(f.label, id);
    }
    labelIds[i] = id;
    classIds[i] = DEMAND_CLASSES.indexOf(f.cls);
    if (f.kind === 'fallback' || f.kind === 'zero') failures.push({ series: i, reason: f.reason });
    point.set(f.point, i * h);
    sd.set(f.sd, i * h);
    partOffsets[i] = partKeys.length;
    for (const p of f.parts ?? [{ key: 'level', values: f.point }]) { partKeys.push(p.key); partWeights.push(NaN); partValues.push(p.values); }
    for (const m of f.members ?? []) { partKeys.push(`model:${m.model}`); partWeights.push(m.weight); partValues.push(m.values); }
    if (f.kind === 'selected' && f.windows) {
      const nw = f.windows.fromEnd.length;
      backtestPoint.set(f.windows.forecast, i * w * h + (w - nw) * h);
      backtestFromEnd.set(f.windows.fromEnd, i * w + (w - nw));
    }
    scale[i] = f.scale;
    rscale[i] = f.rscale;
    if (f.kind === 'selected') {
      // Residuals of the latest windows line up at the end, so step s of the newest window is comparable across series.
      residuals.set(f.residuals, i * w * h + (w * h - f.residuals.length));
      SCORE_FIELDS.forEach((field, j) => { scores[i * SCORE_FIELDS.length + j] = f.score[field]; });
      names.forEach((n, j) => { const e = f.candidateErrors.get(n); if (e !== undefined) candidateErrors[i * names.length + j] = e; });
    }
    if (detail && 'backtest' in f && f.backtest) {
      const { run } = f.backtest;
      const skip = w - run.origins.length;
      detail.actuals.set(run.actuals, (i * w + skip) * h);
      detail.fromEnd.set(f.backtest.fromEnd, i * w + skip);
      f.backtest.names.forEach((n, c) => {
        const j = names.indexOf(n);
        const fc = run.forecasts[c];
        const un = run.units[c];
        if (fc) detail.forecasts.set(fc, ((i * C + j) * w + skip) * h);
        if (un) detail.units.set(un, (i * C + j) * w + skip);
      });
    }
  }
  partOffsets[k] = partKeys.length;
  const values = new Float64Array(partKeys.length * h);
  partValues.forEach((v, j) => values.set(v, j * h));
  const parts = { offsets: partOffsets, keys: partKeys, weights: Float64Array.from(partWeights), values };
  return { index: batch.index, point, sd, scale, rscale, residuals, scores, candidateErrors, candidateNames: names, labelIds, labels, classIds, kinds, failures, selections, closed, effects, ...(detail ? { detail } : {}), parts, backtestPoint, backtestFromEnd };
}
