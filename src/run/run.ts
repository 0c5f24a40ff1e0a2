import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { UserError } from '../errors.js';
import { openDuckDb } from '../db/duckdb.js';
import { ingest } from '../ingest/index.js';
import { assertInputFile } from '../ingest/source.js';
import { rejectShareProblem, writeRejects } from '../ingest/quality.js';
import { fingerprintInput } from '../ingest/fingerprint.js';
import { readSeriesKeys } from '../ingest/series-reader.js';
import { targetDates, todayIso } from '../ingest/dates.js';
import { encodeFixed } from '../forecast/batch.js';
import { createForecastPool, defaultThreads } from '../forecast/pool.js';
import { fiscalAggregate, forecastCsvToParquet } from '../publish/parquet.js';
import { fiscalLabel } from '../calendars/fiscal454.js';
import { historyStart, writeHistory } from '../publish/history.js';
import { describeFiles, writeJson } from '../publish/manifest.js';
import { createStaging, discardStaging, promote, switchLatest } from '../publish/atomic.js';
import { createOutputFolder } from '../publish/output-folder.js';
import { publishedName, publishedSettings } from '../publish/published-paths.js';
import { acquireLock } from '../registry/lock.js';
import { driftFlags, latestCalendarPriors, latestCalibration, liveVersions, pinnedSeries, recordRun, recordVersions, registeredRunCount, seriesKey, storeCalendarPriors, storeCalibration, withState } from '../registry/state.js';
import { planReuse } from '../registry/reuse.js';
import { assertStateNotLost } from '../registry/lost-state.js';
import { codeVersion, packageRoot } from '../version.js';
import { forecastingSettings, makeRunId } from './run-id.js';
import { seriesTask } from './task.js';
import { allSettledOrThrow } from './settle.js';
import { calendarStage } from './calendar-stage.js';
import { forecastStage, summarizeBacktest } from './forecast-stage.js';
import { writeForecastFiles } from './publish-stage.js';
import { silentEvents, timedStages, type RunEvents } from './events.js';

export type RunKind = 'run' | 'retrain';

export interface RunSummary {
  readonly runId: string;
  readonly kind: RunKind;
  readonly dir: string;
  readonly series: number;
  readonly rows: number;
  readonly rowsRejected: number;
  readonly seriesPerModel: Record<string, number>;
  /** How many series were re-selected, reused, pinned… (see registry/reuse.ts). */
  readonly decisions: Record<string, number>;
  readonly fallbacks: number;
  readonly seconds: number;
}

/** The bundled demo data, used when no input is given. */
export function demoInput(): string {
  return join(packageRoot(), 'data', 'demo', 'sales.csv');
}

export interface RunOptions {
  /** Start a new registry although runs are published (the operator lost state.duckdb; see registry/lost-state.ts). */
  readonly newState?: boolean;
}

/**
 * One forecasting run: ingest and check the data; forecast every series on the worker pool,
 * re-selecting models by backtest where the registry says so (`retrain`: all; `run`: new,
 * stale, drifting) and reusing registered versions elsewhere; calibrate the intervals; publish
 * the files atomically; register what was selected. Holds the output folder's lock
 * throughout. Throws a UserError (nothing published) on bad input.
 */
export async function runForecast(cfg: Config, userEvents: RunEvents = silentEvents, now = new Date(), kind: RunKind = 'run', options: RunOptions = {}): Promise<RunSummary> {
  const started = Date.now();
  const { events, stages } = timedStages(userEvents);
  const out = resolve(cfg.out);
  const inputPath = resolve(cfg.input.path ?? demoInput());
  createOutputFolder(out);
  const lock = acquireLock(out, kind, now);
  let staging: string | null = null;
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  const threads = cfg.threads ?? defaultThreads();
  const pool = createForecastPool(threads);
  try {
    events.stage('ingest');
    assertInputFile(inputPath);
    // The registry is read while DuckDB ingests (30,490 versions take seconds of JSON parsing).
    const [{ source, ingested }, fingerprint, state] = await allSettledOrThrow([
      ingest(conn, cfg, inputPath, todayIso(now)),
      fingerprintInput(inputPath),
      withState(out, async (db) => ({ live: await liveVersions(db), drift: await driftFlags(db), pins: await pinnedSeries(db), registered: await registeredRunCount(db) })),
    ]);
    assertStateNotLost(out, state.registered, options.newState === true);
    const { report, freq } = ingested;
    const code = codeVersion();
    events.info(`${report.rows_read} rows read, ${report.rows_rejected} rejected, ${report.series} series, ${freq.name === 'day' ? 'daily' : 'weekly'} ${report.first_date} → ${report.last_date}`);
    const problem = rejectShareProblem(report, cfg.quality.maxRejectedShare);
    if (problem) {
      const failed = join(out, 'failed', makeRunId(report.last_date, fingerprint.sha256, cfg, code, 'rejected'));
      mkdirSync(failed, { recursive: true });
      writeJson(join(failed, 'quality.json'), report);
      await writeRejects(conn, source, join(failed, 'rejects.csv'));
      throw new UserError(`${problem}; nothing published; see ${join(failed, 'rejects.csv')}`);
    }

    const seriesSettings = seriesTask(cfg, freq);
    const keys = await readSeriesKeys(conn);
    const reuse = planReuse(kind, keys, state.live, state.drift, now, cfg.lifecycle.retrainAfterDays, cfg.lifecycle.nightly);
    // Nightly runs keep what the last retrain learned from the whole history: the interval
    // calibration and the pooled calendar effects.
    const learned = kind === 'run'
      ? await withState(out, async (db) => ({ calibration: await latestCalibration(db, cfg.quantiles, seriesSettings.horizon), priors: await latestCalendarPriors(db, cfg.calendars.pool) }))
      : null;
    const stored = learned?.calibration ?? null;
    const storedPriors = stored ? learned?.priors ?? null : null;
    // The same data, settings, code and registered versions make the same run, byte for byte.
    const lineage = createHash('sha256').update(kind);
    reuse.decisions.forEach((d, sid) => lineage.update(`${d}:${state.live.get(seriesKey(keys.store[sid], keys.sku[sid]))?.version ?? 0};`));
    const runId = makeRunId(report.last_date, fingerprint.sha256, cfg, code, lineage.digest('hex'));
    staging = createStaging(out, runId);
    writeJson(join(staging, 'quality.json'), report);
    await writeRejects(conn, source, join(staging, 'rejects.csv'));

    events.stage('calendars');
    const plan = await calendarStage(conn, cfg, ingested, keys, seriesSettings, storedPriors);
    events.stage('forecast');
    const { results, calibration: builder } = await forecastStage(conn, pool, ingested, seriesSettings, cfg, events, keys, plan, (firstSid, count) => encodeFixed(reuse.fixed.slice(firstSid, firstSid + count)));
    const fresh = builder.build(cfg.quantiles);
    // Nightly runs keep the retrain's calibration; a retrain (or a first run) makes a new one.
    const calibration = stored ?? fresh;

    events.stage('publish');
    const dates = targetDates(report.last_date, freq.days, seriesSettings.horizon);
    const fiscal = cfg.calendars.fiscal === 'nrf-454' ? dates.map(fiscalLabel) : null;
    const written = await writeForecastFiles(staging, runId, cfg, seriesSettings, dates, fiscal, keys, results, calibration, reuse, state.live);
    await forecastCsvToParquet(conn, join(staging, 'forecasts.csv'), join(staging, 'forecasts.parquet'), cfg.quantiles, fiscal !== null);
    if (fiscal) await fiscalAggregate(conn, join(staging, 'forecasts.csv'), join(staging, 'forecasts-fiscal.csv'));
    const historyRows = await writeHistory(conn, ingested, join(staging, 'history.parquet'));
    const eventRows = plan ? await plan.writeEvents(join(staging, 'events.csv'), keys, historyStart(ingested), dates[dates.length - 1]) : 0;
    const files = await describeFiles(staging, {
      'forecasts.csv': written.rows,
      'forecasts.parquet': written.rows,
      'series.csv': written.seriesRows,
      'history.parquet': historyRows,
      ...(plan ? { 'events.csv': eventRows } : {}),
      ...(fiscal ? { 'forecasts-fiscal.csv': undefined } : {}),
      'quality.json': undefined,
      'rejects.csv': report.rows_rejected,
    });
    const finished = new Date();
    const calendars = plan ? { features: plan.featureNames().length, default_location: { country: cfg.calendars.country, region: cfg.calendars.region ?? null }, files: plan.versions(), pooled_effects: storedPriors ? 'from the last retrain' : 'estimated by this run' } : null;
    writeJson(join(staging, 'manifest.json'), {
      run_id: runId,
      kind,
      started_at: new Date(started).toISOString(),
      finished_at: finished.toISOString(),
      duration_s: (finished.getTime() - started) / 1000,
      code_version: code,
      config_hash: configHash(forecastingSettings(cfg) as Config),
      // Settings only: server tokens never reach a published file, nor the server's folders.
      config: publishedSettings(forecastingSettings(cfg)),
      input: { ...fingerprint, path: publishedName(fingerprint.path), format: source.format, columns: source.columns, rows_read: report.rows_read, rows_rejected: report.rows_rejected },
      data: { frequency: freq.name, first_date: report.first_date, last_date: report.last_date, series: report.series, horizon: seriesSettings.horizon, seasons: seriesSettings.seasons, target_dates: { first: dates[0], last: dates[dates.length - 1] } },
      calendars,
      quantiles: cfg.quantiles,
      files,
      rows: { forecasts: written.rows, rejected: report.rows_rejected },
      series_per_model: sortKeys(written.perModel),
      series_per_class: sortKeys(written.perClass),
      model_versions: { decisions: reuse.counts, registered: written.newVersions.length, pins: state.pins, calibration: stored ? 'from the last retrain' : 'from this run' },
      backtest: { windows: seriesSettings.windows, metric: seriesSettings.metric, combine: seriesSettings.combine, selected: summarizeBacktest(results), calibration_errors: calibration.samples },
      fallbacks: written.fallbacks,
      threads,
      stage_seconds: stages(),
    });
    const dir = promote(out, staging, runId);
    staging = null;
    switchLatest(out, runId);
    // The registry keeps the run's own time (`now`, which a scheduler or test may set), so
    // version ages and catch-up decisions follow the schedule rather than the wall clock.
    const at = now.toISOString();
    const done = new Date(now.getTime() + (finished.getTime() - started)).toISOString();
    await withState(out, async (db) => {
      await recordVersions(db, runId, at, written.newVersions);
      if (!stored) {
        await storeCalibration(db, runId, done, fresh);
        if (plan) await storeCalendarPriors(db, runId, cfg.calendars.pool, plan.priorRows());
      }
      await recordRun(db, {
        run_id: runId, kind, started_at: at, finished_at: done, input_path: inputPath,
        input_sha256: fingerprint.sha256, code_version: code, config_hash: configHash(forecastingSettings(cfg) as Config), config: forecastingSettings(cfg),
        calendars, series: report.series, retrained: written.newVersions.length, reused: reuse.counts.reused, pinned: reuse.counts.pinned, dir,
      });
    });
    return { runId, kind, dir, series: report.series, rows: written.rows, rowsRejected: report.rows_rejected, seriesPerModel: sortKeys(written.perModel), decisions: reuse.counts, fallbacks: written.fallbacks.length, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (staging) discardStaging(staging);
    await pool.destroy();
    conn.closeSync();
    lock.release();
  }
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
