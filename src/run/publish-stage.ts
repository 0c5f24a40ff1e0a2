import { demandClassOf, SCORE_FIELDS, type BatchResult } from '../forecast/wire.js';
import { seriesQuantiles, type Calibration } from '../backtest/conformal.js';
import { SERIES_KINDS } from '../forecast/types.js';
import { fiscalLabel } from '../calendars/fiscal454.js';
import { ForecastCsvWriter, SERIES_COLUMNS, seriesLine } from '../publish/forecast-csv.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { artifactPath } from '../publish/artifacts.js';
import type { NewVersion } from '../registry/state.js';
import { calibrationUnit, type PlacedResult } from './forecast-stage.js';
import type { RunPlan } from './run-plan.js';
import type { OverrideBook } from '../publish/overrides.js';

export interface WrittenForecasts {
  readonly rows: number;
  readonly seriesRows: number;
  readonly perModel: Record<string, number>;
  readonly perClass: Record<string, number>;
  readonly fallbacks: { store_id: string; sku: string; model: string; reason: string }[];
  /** Versions this run registers: every series that was selected afresh and did not fall back. */
  readonly newVersions: NewVersion[];
}

/** One series' result: where it sits in which batch. */
export interface SeriesResult {
  readonly sid: number;
  readonly result: BatchResult;
  readonly i: number;
}

/** The series of some batches, in series order, whatever order the batches came in (a sharded run's parts). */
export function inSeriesOrder(results: readonly PlacedResult[]): SeriesResult[] {
  const out: SeriesResult[] = [];
  for (const { result, sids } of results) for (let i = 0; i < sids.length; i++) out.push({ sid: sids[i], result, i });
  return out.sort((a, b) => a.sid - b.sid);
}

/** Rows flushed to disk at a time. */
const FLUSH_EVERY = 200;

/**
 * Write forecasts.csv and series.csv in series order: calibrated quantiles, the model and
 * its version for every series, and the new versions to register.
 */
export async function writeForecastFiles(staging: string, plan: RunPlan, series: Iterable<SeriesResult>, calibration: Calibration, overrides?: OverrideBook): Promise<WrittenForecasts> {
  const cfg = plan.config;
  const fiscal = cfg.calendars.fiscal === 'nrf-454' ? plan.dates.map(fiscalLabel) : null;
  const writer = new ForecastCsvWriter(artifactPath(staging, 'forecasts.csv'), plan.runId, cfg.quantiles, plan.dates, fiscal);
  const seriesOut = new CsvWriter(artifactPath(staging, 'series.csv'), SERIES_COLUMNS);
  const perModel: Record<string, number> = {};
  const perClass: Record<string, number> = {};
  const fallbacks: WrittenForecasts['fallbacks'] = [];
  const newVersions: NewVersion[] = [];
  const h = plan.task.horizon;
  const F = SCORE_FIELDS.length;
  const score = (sc: Float64Array, f: (typeof SCORE_FIELDS)[number]): number => sc[SCORE_FIELDS.indexOf(f)];
  const uncalibrated: Calibration = { ...calibration, byClass: { smooth: null, erratic: null, intermittent: null, lumpy: null }, pooled: null };
  const { ledger } = plan;
  let n = 0;
  for (const { sid, result, i } of series) {
    const store = ledger.store[sid];
    const sku = ledger.sku[sid];
    const label = result.labels[result.labelIds[i]];
    const cls = demandClassOf(result.classIds[i]);
    perModel[label] = (perModel[label] ?? 0) + 1;
    perClass[cls] = (perClass[cls] ?? 0) + 1;
    const prev = ledger.previous[sid];
    const reused = ledger.reused[sid];
    const selected = result.selections[i] !== '';
    // A reused (or pinned) series keeps its version; a fresh selection registers the next one.
    let version: number | null = prev ? prev.version : null;
    const sc = result.scores.subarray(i * F, (i + 1) * F);
    if (!reused && selected) {
      version = (prev?.version ?? 0) + 1;
      newVersions.push({ store_id: store, sku, version, label, demand_class: cls, selection: result.selections[i], backtest_mase: score(sc, 'mase'), backtest_rmsse: score(sc, 'rmsse'), backtest_bias: score(sc, 'bias'), scale: result.scale[i] });
    }
    const point = result.point.subarray(i * h, (i + 1) * h);
    // A cold-start series has no backtest errors, and those of series with history understate
    // what a launch misses: it keeps the network's own band (trained on cut histories too).
    const coldStart = SERIES_KINDS[result.kinds[i]] === 'cold-start';
    const qs = seriesQuantiles(coldStart ? uncalibrated : calibration, cls, point, result.sd.subarray(i * h, (i + 1) * h), calibrationUnit(result, i, h), result.closed.subarray(i * h, (i + 1) * h));
    writer.addSeries(store, sku, label, point, qs, version, overrides?.size ? overrides.apply(store, sku, plan.dates, point) : undefined);
    const btMase = reused && prev ? prev.backtest_mase ?? NaN : score(sc, 'mase');
    const btRmsse = reused && prev ? prev.backtest_rmsse ?? NaN : score(sc, 'rmsse');
    const btBias = reused && prev ? prev.backtest_bias ?? NaN : score(sc, 'bias');
    const failure = result.failures.find((f) => f.series === i);
    // A series too short for the local models says so, whatever the registry decided for it.
    const why = coldStart ? 'cold-start' : ledger.decisions[sid];
    seriesOut.add(seriesLine(store, sku, cls, label, version, why, btMase, btRmsse, btBias, result.scale[i], failure?.reason ?? '', result.effects[i], ledger.closures[store] ?? ''));
    if (failure) fallbacks.push({ store_id: store, sku, model: label, reason: failure.reason });
    if (++n % FLUSH_EVERY === 0) {
      await writer.flush();
      await seriesOut.flush();
    }
  }
  await writer.close();
  await seriesOut.close();
  return { rows: writer.rows, seriesRows: seriesOut.rows, perModel, perClass, fallbacks, newVersions };
}
