import type { DuckDBConnection } from '@duckdb/node-api';
import type { Piscina } from 'piscina';
import type { Config } from '../config/schema.js';
import type { Ingested } from '../ingest/index.js';
import { readSeriesBatches, type ReadBatch, type SeriesKeys } from '../ingest/series-reader.js';
import type { CalendarPlan } from '../calendars/plan.js';
import type { ClosurePlan } from '../calendars/closure-plan.js';
import { workerThreads, forecastAll } from '../forecast/pool.js';
import { demandClassOf, SCORE_FIELDS, type BatchClosures, type BatchFixed, type BatchResult, type CalendarTask, type SeriesBatch } from '../forecast/wire.js';
import type { GlobalTask } from '../forecast/global-batch.js';
import type { NewItem } from '../ingest/new-items.js';
import type { GlobalPlan } from './global-stage.js';
import type { SeriesTask } from '../forecast/types.js';
import { CalibrationBuilder } from '../backtest/conformal.js';
import type { RunEvents } from './events.js';

/** A batch's results and the ids of its series, in the batch's order. */
export interface PlacedResult {
  readonly result: BatchResult;
  readonly sids: Int32Array;
}

/** A batch on its way to the workers, tagged with the ids of its series. */
export interface TaggedBatch {
  readonly batch: SeriesBatch;
  readonly tag: Int32Array;
}

export interface ForecastOutcome {
  /** In the order the batches came. */
  readonly results: readonly PlacedResult[];
  readonly calibration: CalibrationBuilder;
}

/**
 * Every series as worker batches, in series order, read from the `clean` table as they are
 * pulled: values, calendar features, closures, (for a run) the registered selections to reuse,
 * and with a global network each series' codes for it; then the new items (`newItems`, ids from
 * `firstSid`), which have no values and are closed before their launch. `observe` sees each
 * batch as read, before closures mark closed history periods unobserved.
 */
export async function* seriesBatches(
  conn: DuckDBConnection, ingested: Ingested, cfg: Config, keys: SeriesKeys, plan: CalendarPlan | null, closures: ClosurePlan | null, fixed?: (firstSid: number, count: number) => BatchFixed,
  global?: GlobalPlan | null, newItems?: { readonly items: readonly NewItem[]; readonly firstSid: number } | null,
  observe?: (read: ReadBatch) => void,
): AsyncGenerator<TaggedBatch> {
  const encode = (read: ReadBatch, launch?: readonly number[]): TaggedBatch => {
    observe?.(read);
    const count = read.batch.offsets.length - 1;
    const closed = closures ? closures.forBatch(read, keys) : undefined;
    const batch: SeriesBatch = {
      ...read.batch,
      ...(plan ? { events: plan.forBatch(read, keys, ingested.lastT) } : {}),
      ...(closed ? { closed: launch ? beforeLaunch(closed, launch) : closed } : {}),
      ...(fixed ? { fixed: fixed(read.firstSid, count) } : {}),
      ...(global ? { global: global.forBatch(read.firstSid, count) } : {}),
    };
    return { batch, tag: Int32Array.from({ length: count }, (_, i) => read.firstSid + i) };
  };
  let index = 0;
  for await (const read of readSeriesBatches(conn, { lastT: ingested.lastT, gapValue: cfg.quality.gaps === 'zero' ? 0 : NaN, batchSize: cfg.batchSize, workers: workerThreads(cfg.threads) })) {
    index = read.batch.index + 1;
    yield encode(read);
  }
  // New items have no values: every period they are forecast for is ahead of the data end.
  if (global && newItems && newItems.items.length > 0) {
    const n = newItems.items.length;
    const read: ReadBatch = { batch: { index, offsets: new Int32Array(n + 1), values: new Float64Array(0) }, firstSid: newItems.firstSid, flags: new Uint8Array(0) };
    yield encode(read, newItems.items.map((item) => item.launchT - (ingested.lastT + 1)));
  }
}

/** The closures of new items with the periods before their launch added (counted from the data end, as their values are empty). */
function beforeLaunch(closed: BatchClosures, launch: readonly number[]): BatchClosures {
  const parts = launch.map((l, i) => Int32Array.from(new Set([...Array.from({ length: Math.max(0, l) }, (_, t) => t), ...closed.t.subarray(closed.offsets[i], closed.offsets[i + 1])])).sort());
  const offsets = new Int32Array(parts.length + 1);
  parts.forEach((p, i) => { offsets[i + 1] = offsets[i] + p.length; });
  const t = new Int32Array(offsets[parts.length]);
  parts.forEach((p, i) => t.set(p, offsets[i]));
  return { offsets, t };
}

/**
 * Forecast every batch on the worker pool (backtest, select, fit) and gather the results in
 * batch order, feeding the backtest errors of the series (ids below `series`; the hierarchy's
 * aggregates come after them and are calibrated apart) to the interval calibration.
 */
export async function forecastStage(pool: Piscina, batches: AsyncIterable<TaggedBatch>, task: SeriesTask, calendar: CalendarTask | null, events: RunEvents, series: number, total = series, global?: GlobalTask): Promise<ForecastOutcome> {
  const results: PlacedResult[] = [];
  const calibration = new CalibrationBuilder(task.horizon, task.windows);
  let done = 0;
  events.progress(0, total);
  await forecastAll(pool, batches, task, (result, sids) => {
    for (let i = 0; i < sids.length; i++) if (sids[i] < series) calibrateSeries(calibration, result, i, task);
    results.push({ result, sids });
    done += result.labelIds.length;
    events.progress(done, total);
  }, { ...(calendar ? { calendar } : {}), ...(global ? { global } : {}) });
  return { results, calibration };
}

/** Feed series i of a batch to the calibration. */
export function calibrateSeries(calibration: CalibrationBuilder, result: BatchResult, i: number, task: SeriesTask): void {
  const span = task.windows * task.horizon;
  calibration.add(demandClassOf(result.classIds[i]), result.residuals.subarray(i * span, (i + 1) * span), calibrationUnit(result, i, task.horizon));
}

/**
 * The unit in which a series' errors are pooled: its fitted model's one-step error spread,
 * the same at every step (the widening with the horizon is learned from the backtest).
 * Falls back to the MASE scale for a model that claims no spread.
 */
export function calibrationUnit(result: BatchResult, i: number, h: number): Float64Array {
  const sd1 = result.sd[i * h];
  return new Float64Array(h).fill(sd1 > 0 ? sd1 : result.scale[i]);
}

export interface BacktestSummary {
  readonly series: number;
  readonly mase: number;
  readonly rmsse: number;
  readonly wape: number;
  readonly bias: number;
}

/** Mean backtest scores of what was selected, over the series that had a backtest (in the order given). */
export function summarizeBacktest(series: Iterable<{ readonly result: BatchResult; readonly i: number }>): BacktestSummary | null {
  const F = SCORE_FIELDS.length;
  const idx = (f: (typeof SCORE_FIELDS)[number]): number => SCORE_FIELDS.indexOf(f);
  let n = 0;
  let mase = 0;
  let rmsse = 0;
  let bias = 0;
  let ae = 0;
  let aa = 0;
  for (const { result, i } of series) {
    const m = result.scores[i * F + idx('mase')];
    if (!Number.isFinite(m)) continue;
    n++;
    mase += m;
    rmsse += result.scores[i * F + idx('rmsse')];
    bias += result.scores[i * F + idx('bias')];
    ae += result.scores[i * F + idx('absError')];
    aa += result.scores[i * F + idx('absActual')];
  }
  if (n === 0) return null;
  return { series: n, mase: mase / n, rmsse: rmsse / n, wape: aa > 0 ? ae / aa : NaN, bias: bias / n };
}
