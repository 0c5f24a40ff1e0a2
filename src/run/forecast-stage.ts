import type { DuckDBConnection } from '@duckdb/node-api';
import type { Piscina } from 'piscina';
import type { Config } from '../config/schema.js';
import type { Ingested } from '../ingest/index.js';
import { readSeriesBatches, type ReadBatch, type SeriesKeys } from '../ingest/series-reader.js';
import type { CalendarPlan } from '../calendars/plan.js';
import type { ClosurePlan } from '../calendars/closure-plan.js';
import { forecastAll } from '../forecast/pool.js';
import { demandClassOf, SCORE_FIELDS, type BatchFixed, type BatchResult } from '../forecast/wire.js';
import type { SeriesTask } from '../forecast/types.js';
import { CalibrationBuilder } from '../backtest/conformal.js';
import type { RunEvents } from './events.js';

/** A batch's results and the dense id of its first series. */
export interface PlacedResult {
  readonly result: BatchResult;
  readonly firstSid: number;
}

export interface ForecastOutcome {
  /** In series order. */
  readonly results: readonly PlacedResult[];
  readonly calibration: CalibrationBuilder;
}

/**
 * Stream every series from DuckDB through the worker pool (backtest, select, fit) and gather
 * the results in series order, feeding their backtest errors to the interval calibration.
 */
export async function forecastStage(
  conn: DuckDBConnection, pool: Piscina, ingested: Ingested, task: SeriesTask, cfg: Config, events: RunEvents, keys: SeriesKeys,
  plan: CalendarPlan | null, closures: ClosurePlan | null, fixed?: (firstSid: number, count: number) => BatchFixed,
  observe?: (read: ReadBatch) => void,
): Promise<ForecastOutcome> {
  const results: PlacedResult[] = [];
  const calibration = new CalibrationBuilder(task.horizon, task.windows);
  let done = 0;
  events.progress(0, ingested.series);
  const batches = readSeriesBatches(conn, { lastT: ingested.lastT, gapValue: cfg.quality.gaps === 'zero' ? 0 : NaN, batchSize: cfg.batchSize });
  const tagged = (async function* () {
    for await (const read of batches) {
      // Before closures mark closed history periods unobserved: what the series sold.
      observe?.(read);
      const count = read.batch.offsets.length - 1;
      const batch = {
        ...read.batch,
        ...(plan ? { events: plan.forBatch(read, keys, ingested.lastT) } : {}),
        ...(closures ? { closed: closures.forBatch(read, keys) } : {}),
        ...(fixed ? { fixed: fixed(read.firstSid, count) } : {}),
      };
      yield { batch, tag: read.firstSid };
    }
  })();
  await forecastAll(pool, tagged, task, (result, firstSid) => {
    const span = task.windows * task.horizon;
    for (let i = 0; i < result.labelIds.length; i++) {
      calibration.add(demandClassOf(result.classIds[i]), result.residuals.subarray(i * span, (i + 1) * span), calibrationUnit(result, i, task.horizon));
    }
    results.push({ result, firstSid });
    done += result.labelIds.length;
    events.progress(done, ingested.series);
  }, plan?.task());
  return { results, calibration };
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

/** Mean backtest scores of what was selected, over the series that had a backtest. */
export function summarizeBacktest(results: readonly PlacedResult[]): BacktestSummary | null {
  const F = SCORE_FIELDS.length;
  const idx = (f: (typeof SCORE_FIELDS)[number]): number => SCORE_FIELDS.indexOf(f);
  let n = 0;
  let mase = 0;
  let rmsse = 0;
  let bias = 0;
  let ae = 0;
  let aa = 0;
  for (const { result } of results) {
    for (let i = 0; i < result.labelIds.length; i++) {
      const m = result.scores[i * F + idx('mase')];
      if (!Number.isFinite(m)) continue;
      n++;
      mase += m;
      rmsse += result.scores[i * F + idx('rmsse')];
      bias += result.scores[i * F + idx('bias')];
      ae += result.scores[i * F + idx('absError')];
      aa += result.scores[i * F + idx('absActual')];
    }
  }
  if (n === 0) return null;
  return { series: n, mase: mase / n, rmsse: rmsse / n, wape: aa > 0 ? ae / aa : NaN, bias: bias / n };
}
