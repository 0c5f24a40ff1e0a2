import type { Config } from '../config/schema.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import { classDist, type Calibration, type ClassDist } from '../backtest/conformal.js';
import { ABS_GRID, countCdf, countQuantile, hashSeed, normalDraw, seededRandom, sortedQuantile } from '../backtest/distribution.js';
import { countVariance } from '../backtest/conformal.js';
import { demandClassOf } from '../forecast/wire.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { csvField, formatNumber, quantileColumn } from '../publish/format.js';
import { artifactEntry, type DictionaryEntry } from '../publish/dictionary.js';
import { artifactPath } from '../publish/artifacts.js';
import type { RunManifest } from '../publish/manifest.js';
import { calibrationUnit } from './forecast-stage.js';
import { FLUSH_EVERY, isCount, type SeriesResult } from './publish-stage.js';
import type { ErpTables } from './erp-stage.js';

/**
 * Lead-time demand (leadtime.csv): how much a store will sell of a SKU over the time a
 * replenishment takes, as a distribution, which is what a reorder point needs. The sum of daily
 * p90s is not the p90 of the sum, and the days are not independent: a forecast that is too low
 * is usually too low all week. So each series gets simulated demand paths: its mean per step
 * plus a whole normalised backtest error path of its demand class (one window of one series,
 * as the selections missed it out of sample), scaled by the series' unit and given a random
 * sign — a block bootstrap that keeps the dependence across steps and whose steps follow the
 * published band. A count series maps the path's ranks through its negative binomial instead
 * (backtest/distribution.ts), so its sums are whole units. Seeded by store, SKU and
 * `leadtime.seed`: the same inputs give the same file.
 */

export interface LeadtimeOutcome {
  readonly rows: number;
  readonly summary: NonNullable<RunManifest['leadtime']>;
  readonly entry: DictionaryEntry;
}

/** Lead time of a SKU in days: its own, its supplier's, or the default. */
export function leadTimeDays(cfg: Config['leadtime'], tables: ErpTables, sku: string): number {
  const item = tables.items.get(sku);
  return item?.leadTimeDays ?? (item?.supplier !== undefined ? cfg.suppliers[item.supplier] : undefined) ?? (cfg.days as number);
}

/** The symmetric CDF of a normalised error e from the class's |score| grid at step s: P(E ≤ e). */
function pit(d: ClassDist, s: number, e: number): number {
  const G = ABS_GRID.length;
  const a = Math.abs(e);
  const base = s * G;
  let p = ABS_GRID[G - 1];
  for (let k = 0; k < G - 1; k++) {
    const lo = d.absGrid[base + k];
    const hi = d.absGrid[base + k + 1];
    if (a <= hi) { p = hi > lo ? ABS_GRID[k] + ((ABS_GRID[k + 1] - ABS_GRID[k]) * Math.max(0, a - lo)) / (hi - lo) : ABS_GRID[k + 1]; break; }
  }
  return Math.min(1 - 1e-9, Math.max(1e-9, 0.5 + 0.5 * Math.sign(e) * p));
}

/** Index of a path drawn with probability proportional to its weight. */
function drawPath(cum: Float64Array, r: () => number): number {
  const x = r() * cum[cum.length - 1];
  let lo = 0;
  let hi = cum.length - 1;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (cum[mid] >= x) hi = mid; else lo = mid + 1; }
  return lo;
}

/**
 * Sums over the first `periods` steps of `samples` simulated paths of one series, sorted.
 * `point`, `sd`, `unit`, `closed` per step; `d`: its class's tables (null: Gaussian steps from
 * the model's own spread, independent).
 */
export function leadTimeSums(point: ArrayLike<number>, sd: ArrayLike<number>, unit: ArrayLike<number>, closed: ArrayLike<number>, periods: number, samples: number, d: ClassDist | null, count: boolean, r: () => number): Float64Array {
  const h = point.length;
  const out = new Float64Array(samples);
  const P = d ? d.weights.length : 0;
  const cum = new Float64Array(P);
  for (let i = 0, acc = 0; i < P; i++) { acc += d!.weights[i]; cum[i] = acc; }
  const cdfs = count && d ? Array.from({ length: periods }, (_, s) => countCdf(point[s], countVariance(d, unit[s] > 0 && Number.isFinite(unit[s]) ? unit[s] : 0, s))) : null;
  for (let k = 0; k < samples; k++) {
    const p = P > 0 ? drawPath(cum, r) : -1;
    const sign = r() < 0.5 ? -1 : 1;
    let sum = 0;
    for (let s = 0; s < periods; s++) {
      if (closed[s]) continue;
      if (!d || P === 0) {
        sum += Math.max(0, point[s] + normalDraw(r) * (Number.isFinite(sd[s]) ? sd[s] : 0));
        continue;
      }
      let e = d.paths[p * h + s];
      // A step the path lacks (a short series, a closed day): that step of another path.
      for (let tries = 0; Number.isNaN(e) && tries < 8; tries++) e = d.paths[drawPath(cum, r) * h + s];
      if (Number.isNaN(e)) e = 0;
      if (cdfs) sum += countQuantile(cdfs[s], pit(d, s, sign * e));
      else {
        const u = unit[s] > 0 && Number.isFinite(unit[s]) ? unit[s] : 0;
        sum += Math.max(0, point[s] + sign * u * e);
      }
    }
    out[k] = sum;
  }
  return out.sort();
}

export async function writeLeadtime(staging: string, cfg: Config, keys: SeriesKeys, results: readonly SeriesResult[], calibration: Calibration, count: Uint8Array | undefined, tables: ErpTables, dates: readonly string[], stepDays: number): Promise<LeadtimeOutcome> {
  const lt = cfg.leadtime;
  const levels = cfg.quantiles;
  const service = lt.serviceLevel;
  const columns = ['store_id', 'sku', 'lead_time_days', 'periods', 'from', 'to', 'mean', ...levels.map(quantileColumn), ...(service !== undefined ? ['service_level', 'reorder_point', 'safety_stock'] : [])];
  const w = new CsvWriter(artifactPath(staging, 'leadtime.csv'), columns);
  const h = dates.length;
  const periodsSeen: Record<string, number> = {};
  let capped = 0;
  let n = 0;
  for (const { result, sid, i } of results) {
    const store = keys.store[sid];
    const sku = keys.sku[sid];
    const cls = demandClassOf(result.classIds[i]);
    const days = leadTimeDays(lt, tables, sku);
    let periods = Math.ceil(days / stepDays);
    if (periods > h) { periods = h; capped++; }
    periodsSeen[String(periods)] = (periodsSeen[String(periods)] ?? 0) + 1;
    const point = result.point.subarray(i * h, (i + 1) * h);
    const closed = result.closed.subarray(i * h, (i + 1) * h);
    const r = seededRandom(hashSeed(`${store}\u0000${sku}`, lt.seed));
    const whole = isCount(count, sid, cls);
    const sums = leadTimeSums(point, result.sd.subarray(i * h, (i + 1) * h), calibrationUnit(result, i, h), closed, periods, lt.samples, classDist(calibration, cls), whole, r);
    let mean = 0;
    for (let s = 0; s < periods; s++) mean += point[s];
    // Whole units stay whole: the inverse of the empirical distribution, not an interpolation.
    const quantile = (l: number): number => (whole ? sums[Math.max(0, Math.ceil(l * sums.length) - 1)] : sortedQuantile(sums, l));
    const qs = levels.map(quantile);
    for (let k = 1; k < qs.length; k++) if (qs[k] < qs[k - 1]) qs[k] = qs[k - 1];
    const extra: string[] = [];
    if (service !== undefined) {
      const rop = quantile(service);
      extra.push(formatNumber(service), formatNumber(rop), formatNumber(Math.max(0, rop - mean)));
    }
    w.add([csvField(store), csvField(sku), days, periods, dates[0], dates[periods - 1], formatNumber(mean), ...qs.map(formatNumber), ...extra].join(','));
    if (++n % FLUSH_EVERY === 0) await w.flush();
  }
  await w.close();
  const entry = artifactEntry('leadtime.csv', [
    { name: 'store_id', type: 'text', meaning: 'store' }, { name: 'sku', type: 'text', meaning: 'SKU' },
    { name: 'lead_time_days', type: 'integer', meaning: 'the lead time: the item\'s `lead_time_days`, else its supplier\'s (`leadtime.suppliers`), else `leadtime.days`' },
    { name: 'periods', type: 'integer', meaning: `forecast periods the lead time spans (days / ${stepDays}, rounded up; at most the horizon)` },
    { name: 'from', type: 'date', meaning: 'first period of the lead time (the first forecast date)' }, { name: 'to', type: 'date', meaning: 'last period of the lead time' },
    { name: 'mean', type: 'number', meaning: 'mean demand over the lead time: the sum of the periods\' means' },
    ...levels.map((l) => ({ name: quantileColumn(l), type: 'number', meaning: `quantile ${l} of the demand summed over the lead time (simulated paths), not a sum of per-period quantiles` })),
    ...(service !== undefined ? [
      { name: 'service_level', type: 'number', meaning: 'the cycle service level asked for (`leadtime.serviceLevel`)' },
      { name: 'reorder_point', type: 'number', meaning: 'the lead-time demand quantile at the service level: reorder when the inventory position falls to it' },
      { name: 'safety_stock', type: 'number', meaning: 'reorder point − mean lead-time demand (not below 0)' },
    ] : []),
  ], [`${lt.samples} simulated demand paths per series (seed ${lt.seed}): a whole normalised backtest error path of the series' demand class with a random sign, on top of its means; whole units for count series.`]);
  return { rows: w.rows, entry, summary: { default_days: lt.days as number, periods: periodsSeen, samples: lt.samples, seed: lt.seed, service_level: service ?? null, capped } };
}
