import type { Config } from '../config/schema.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import { demandClassOf, SCORE_FIELDS } from '../forecast/wire.js';
import type { SeriesTask } from '../forecast/types.js';
import { predictiveQuantiles, type Calibration } from '../backtest/conformal.js';
import type { FiscalLabel } from '../calendars/fiscal454.js';
import { ForecastCsvWriter, SERIES_COLUMNS, seriesLine } from '../publish/forecast-csv.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { artifactPath } from '../publish/artifacts.js';
import { seriesKey, type LiveVersion, type NewVersion } from '../registry/state.js';
import type { ReusePlan } from '../registry/reuse.js';
import type { ClosurePlan } from '../calendars/closure-plan.js';
import { calibrationUnit, type PlacedResult } from './forecast-stage.js';

export interface WrittenForecasts {
  readonly rows: number;
  readonly seriesRows: number;
  readonly perModel: Record<string, number>;
  readonly perClass: Record<string, number>;
  readonly fallbacks: { store_id: string; sku: string; model: string; reason: string }[];
  /** Versions this run registers: every series that was selected afresh and did not fall back. */
  readonly newVersions: NewVersion[];
}

/** What the ERP outputs need from the forecast files as they are written (run/erp-stage.ts). */
export interface PublishExtras {
  /** Per series id, 1 where the history is whole units (intermittent and lumpy ones get a count distribution). */
  readonly count?: Uint8Array;
  /** Called with each series' mean and published quantiles. */
  readonly collect?: (sid: number, point: Float64Array, quantiles: readonly Float64Array[]) => void;
}

/** Whether series `sid` gets the discrete distribution (backtest/distribution.ts). */
export function isCount(count: Uint8Array | undefined, sid: number, cls: string): boolean {
  return count !== undefined && count[sid] === 1 && (cls === 'intermittent' || cls === 'lumpy');
}

/**
 * Write forecasts.csv and series.csv in series order: calibrated quantiles, the model and
 * its version for every series, and the new versions to register.
 */
export async function writeForecastFiles(
  staging: string, runId: string, cfg: Config, task: SeriesTask, dates: readonly string[], fiscal: readonly FiscalLabel[] | null,
  keys: SeriesKeys, results: readonly PlacedResult[], calibration: Calibration, reuse: ReusePlan, live: ReadonlyMap<string, LiveVersion>, closures: ClosurePlan | null,
  extra: PublishExtras = {},
): Promise<WrittenForecasts> {
  const writer = new ForecastCsvWriter(artifactPath(staging, 'forecasts.csv'), runId, cfg.quantiles, dates, fiscal);
  const seriesOut = new CsvWriter(artifactPath(staging, 'series.csv'), SERIES_COLUMNS);
  const perModel: Record<string, number> = {};
  const perClass: Record<string, number> = {};
  const fallbacks: WrittenForecasts['fallbacks'] = [];
  const newVersions: NewVersion[] = [];
  const h = task.horizon;
  const F = SCORE_FIELDS.length;
  const score = (sc: Float64Array, f: (typeof SCORE_FIELDS)[number]): number => sc[SCORE_FIELDS.indexOf(f)];
  for (const { result, firstSid } of results) {
    const reasons = new Map(result.failures.map((f) => [f.series, f.reason]));
    for (let i = 0; i < result.labelIds.length; i++) {
      const sid = firstSid + i;
      const store = keys.store[sid];
      const sku = keys.sku[sid];
      const label = result.labels[result.labelIds[i]];
      const cls = demandClassOf(result.classIds[i]);
      perModel[label] = (perModel[label] ?? 0) + 1;
      perClass[cls] = (perClass[cls] ?? 0) + 1;
      const prev = live.get(seriesKey(store, sku));
      const reused = reuse.fixed[sid] !== undefined;
      const selected = result.selections[i] !== '';
      // A reused (or pinned) series keeps its version; a fresh selection registers the next one.
      let version: number | null = prev ? prev.version : null;
      const sc = result.scores.subarray(i * F, (i + 1) * F);
      if (!reused && selected) {
        version = (prev?.version ?? 0) + 1;
        newVersions.push({ store_id: store, sku, version, label, demand_class: cls, selection: result.selections[i], backtest_mase: score(sc, 'mase'), backtest_rmsse: score(sc, 'rmsse'), backtest_bias: score(sc, 'bias'), scale: result.scale[i] });
      }
      const point = result.point.subarray(i * h, (i + 1) * h);
      const qs = predictiveQuantiles(calibration, cls, point, result.sd.subarray(i * h, (i + 1) * h), calibrationUnit(result, i, h), result.closed.subarray(i * h, (i + 1) * h), isCount(extra.count, sid, cls));
      writer.addSeries(store, sku, label, point, qs, version);
      extra.collect?.(sid, point, qs);
      const btMase = reused && prev ? prev.backtest_mase ?? NaN : score(sc, 'mase');
      const btRmsse = reused && prev ? prev.backtest_rmsse ?? NaN : score(sc, 'rmsse');
      const btBias = reused && prev ? prev.backtest_bias ?? NaN : score(sc, 'bias');
      seriesOut.add(seriesLine(store, sku, cls, label, version, reuse.decisions[sid], btMase, btRmsse, btBias, result.scale[i], reasons.get(i) ?? '', result.effects[i], closures?.ruleOf(store) ?? ''));
    }
    for (const f of result.failures) {
      const sid = firstSid + f.series;
      fallbacks.push({ store_id: keys.store[sid], sku: keys.sku[sid], model: result.labels[result.labelIds[f.series]], reason: f.reason });
    }
    await writer.flush();
    await seriesOut.flush();
  }
  await writer.close();
  await seriesOut.close();
  return { rows: writer.rows, seriesRows: seriesOut.rows, perModel, perClass, fallbacks, newVersions };
}
