import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { UserError } from '../errors.js';
import { openDuckDb } from '../db/duckdb.js';
import { openIngest } from '../ingest/index.js';
import { openSource } from '../ingest/source.js';
import { qualityWarnings, rejectShareProblem, type QualityReport } from '../ingest/quality.js';
import { writeRejects } from '../ingest/rejects.js';
import { readSeriesKeys } from '../ingest/series-reader.js';
import { targetDates, todayIso } from '../ingest/dates.js';
import { encodeFixed } from '../forecast/batch.js';
import { createForecastPool, defaultThreads } from '../forecast/pool.js';
import { fiscalAggregate, forecastCsvToParquet } from '../publish/parquet.js';
import { fiscalLabel } from '../calendars/fiscal454.js';
import { historyStart, writeHistory } from '../publish/history.js';
import { describeFiles, readManifest, RunManifest, writeJson, writeManifest, type WrittenFiles } from '../publish/manifest.js';
import { createStaging, discardStaging, promote, runDir, switchLatest } from '../publish/atomic.js';
import { artifactPath, type ArtifactName } from '../publish/artifacts.js';
import { lockOutput } from '../publish/recover.js';
import { postSigned, webhookSecret } from '../publish/notify.js';
import { createOutputFolder } from '../publish/output-folder.js';
import { publishedName, publishedSettings } from '../publish/published-paths.js';
import { StateBusy, driftFlags, inTransaction, latestCalendarPriors, latestCalibration, liveVersions, pinnedSeries, recordRun, recordVersions, registeredRunCount, seriesKey, setPublishedRun, storeCalendarPriors, storeCalibration, withState } from '../registry/state.js';
import { planReuse } from '../registry/reuse.js';
import { assertStateNotLost } from '../publish/lost-state.js';
import { codeVersion } from '../version.js';
import { forecastingSettings, makeRunId } from './run-id.js';
import { seriesTask } from './task.js';
import { allSettledOrThrow } from './settle.js';
import { calendarStage, closureStage, futureStage } from './calendar-stage.js';
import { forecastStage, summarizeBacktest } from './forecast-stage.js';
import { writeForecastFiles } from './publish-stage.js';
import { writeLeadtime } from './leadtime-stage.js';
import { forecastAggregates, HierarchyPlan, reconcileAndWrite } from './hierarchy-stage.js';
import { publishedNotice, readErpTables, SeriesObserver, SeriesTable, writeOutputs, writeSchema } from './erp-stage.js';
import { silentEvents, timedStages, type RunEvents } from './events.js';
import { faultPoint } from './fault.js';
import { failUnusable, keepFailed } from './failed.js';
import { pruneAfterPublish } from './retention.js';
import { throwIfStopped } from './stop.js';

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
  /** Which calendar the stores follow, e.g. "US (default) 4 stores", or "off". */
  readonly calendars: string;
  /** What the data-quality rules want a person to know (also in quality.json). */
  readonly warnings: readonly string[];
  readonly seconds: number;
}


export interface RunOptions {
  /** Start a new registry although runs are published (the operator lost state.duckdb; see registry/lost-state.ts). */
  readonly newState?: boolean;
  /** Aborted on SIGTERM/SIGINT: the run stops at its next safe point (see the function's notes). */
  readonly stop?: AbortSignal;
}

/**
 * One forecasting run: ingest and check the data; forecast every series on the worker pool,
 * re-selecting models by backtest where the registry says so (`retrain`: all; `run`: new,
 * stale, drifting) and reusing registered versions elsewhere; calibrate the intervals; stage
 * the files; register what was selected; then publish the files atomically. Holds the output
 * folder's lock throughout. Throws a UserError (nothing published) on bad input, and a
 * RunStopped when `stop` aborts before the run is registered; once it is registered, the run
 * is published whatever `stop` says, since `latest` must show the run the registry has.
 */
export async function runForecast(cfg: Config, userEvents: RunEvents = silentEvents, now = new Date(), kind: RunKind = 'run', options: RunOptions = {}): Promise<RunSummary> {
  const stop = options.stop;
  const started = Date.now();
  const { events, stages } = timedStages(userEvents);
  const out = resolve(cfg.out);
  // A webhook secret named but not set stops the run before any work: no notice goes out unsigned.
  const secret = cfg.webhook.url ? webhookSecret(cfg.webhook.secretEnv) : null;
  const input = openSource(cfg.input);
  const inputPath = input.path;
  createOutputFolder(out);
  const lock = await lockOutput(out, kind, (m) => events.info(m));
  let staging: string | null = null;
  let registered = false;
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  const threads = cfg.threads ?? defaultThreads();
  const pool = createForecastPool(threads);
  // Stopping fails the query or batch in progress, so the run reaches its error path now
  // rather than at the end of a stage that may take minutes.
  const halt = (): void => { conn.interrupt(); void pool.destroy(); };
  stop?.addEventListener('abort', halt, { once: true });
  const stage = (name: string): void => {
    faultPoint(name);
    throwIfStopped(stop);
    lock.assertHeld();
    events.stage(name);
  };
  try {
    stage('ingest');
    // The registry is read while DuckDB ingests (30,490 versions take seconds of JSON parsing).
    const [{ registered: source, ingested }, fingerprint, state] = await allSettledOrThrow([
      openIngest(conn, cfg, todayIso(now), input).catch((e: unknown) => failUnusable(e, conn, out, inputPath, cfg)),
      input.fingerprint(),
      withState(out, async (db) => ({ live: await liveVersions(db), drift: await driftFlags(db), pins: await pinnedSeries(db), registered: await registeredRunCount(db) })),
    ]);
    assertStateNotLost(out, state.registered, options.newState === true);
    const { report, freq } = ingested;
    const code = codeVersion();
    events.info(`${report.rows_read} rows read, ${report.rows_rejected} rejected, ${report.series} series, ${freq.name === 'day' ? 'daily' : 'weekly'} ${report.first_date} → ${report.last_date}`);
    const warnings = qualityWarnings(report);
    for (const w of warnings) events.info(`warning: ${w}`);
    const problem = rejectShareProblem(report, cfg.quality.maxRejectedShare) ?? gateProblem(cfg, report, out, warnings);
    if (problem) {
      const rejects = await keepFailed(conn, source, join(out, 'failed', makeRunId(report.last_date, fingerprint.sha256, cfg, code, 'rejected')), report);
      throw new UserError(`${problem}; nothing published; see ${rejects}`);
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
    writeJson(artifactPath(staging, 'quality.json'), report);
    await writeRejects(conn, source, artifactPath(staging, 'rejects.csv'));

    stage('calendars');
    const future = await futureStage(conn, cfg, ingested, seriesSettings);
    const plan = await calendarStage(conn, cfg, ingested, keys, seriesSettings, storedPriors, future);
    const closures = await closureStage(conn, cfg, ingested, keys, seriesSettings, plan, future);
    stage('forecast');
    const tables = readErpTables(cfg);
    const observer = new SeriesObserver(keys.store.length);
    // The hierarchy's aggregates are summed from the series as they stream past, then forecast as more series.
    const hierarchy = cfg.hierarchy.enabled ? new HierarchyPlan(cfg, keys, tables, ingested.lastT) : null;
    if (hierarchy) observer.onBatch((read) => hierarchy.tap(read));
    const { results, calibration: builder } = await forecastStage(conn, pool, ingested, seriesSettings, cfg, events, keys, plan, closures, (firstSid, count) => encodeFixed(reuse.fixed.slice(firstSid, firstSid + count)), (read) => observer.observe(read));
    const aggregates = hierarchy ? await forecastAggregates(pool, hierarchy, seriesSettings, cfg, keys, plan, closures, ingested.lastT) : null;
    const fresh = builder.build(cfg.quantiles);
    // Nightly runs keep the retrain's calibration; a retrain (or a first run) makes a new one.
    const calibration = stored ?? fresh;

    stage('publish');
    const dates = targetDates(report.last_date, freq.days, seriesSettings.horizon);
    const fiscal = cfg.calendars.fiscal === 'nrf-454' ? dates.map(fiscalLabel) : null;
    const seriesTable = new SeriesTable(keys, seriesSettings.horizon, cfg.quantiles);
    const written = await writeForecastFiles(staging, runId, cfg, seriesSettings, dates, fiscal, keys, results, calibration, reuse, state.live, closures, {
      ...(cfg.intervals.counts === 'discrete' ? { count: observer.count } : {}),
      collect: (sid, point, qs) => seriesTable.collect(sid, point, qs),
    });
    await forecastCsvToParquet(conn, artifactPath(staging, 'forecasts.csv'), artifactPath(staging, 'forecasts.parquet'), cfg.quantiles, fiscal !== null);
    if (fiscal) await fiscalAggregate(conn, artifactPath(staging, 'forecasts.csv'), artifactPath(staging, 'forecasts-fiscal.csv'));
    const historyRows = await writeHistory(conn, ingested, artifactPath(staging, 'history.parquet'));
    const eventRows = plan ? await plan.writeEvents(artifactPath(staging, 'events.csv'), keys, historyStart(ingested), dates[dates.length - 1]) : 0;
    const counts = cfg.intervals.counts === 'discrete' ? observer.count : undefined;
    const reconciled = hierarchy && aggregates ? await reconcileAndWrite(staging, cfg, hierarchy, results, calibration, counts, aggregates, tables, dates, seriesSettings) : null;
    const leadtime = cfg.leadtime.days !== undefined ? await writeLeadtime(staging, cfg, keys, results, calibration, counts, tables, dates, freq.days) : null;
    const erp = await writeOutputs(conn, staging, cfg, reconciled?.table ?? seriesTable.table(tables, dates), freq.name === 'week');
    if (leadtime) erp.entries.unshift(leadtime.entry);
    if (reconciled) erp.entries.unshift(reconciled.entry);
    const writtenFiles: WrittenFiles = {
      'forecasts.csv': written.rows,
      'forecasts.parquet': written.rows,
      'series.csv': written.seriesRows,
      'history.parquet': historyRows,
      ...(plan ? { 'events.csv': eventRows } : {}),
      ...(fiscal ? { 'forecasts-fiscal.csv': null } : {}),
      'quality.json': null,
      'rejects.csv': report.rows_rejected + report.rows_corrected,
      ...(reconciled ? { 'hierarchy.csv': reconciled.rows } : {}),
      ...(leadtime ? { 'leadtime.csv': leadtime.rows } : {}),
      'SCHEMA.md': null,
    };
    writeSchema(staging, runId, cfg, Object.keys(writtenFiles) as ArtifactName[], fiscal !== null, erp.entries);
    const files = await describeFiles(staging, writtenFiles, erp.outputs.flatMap((o) => o.files));
    const finished = new Date();
    const calendarLocations = plan ? plan.storeCalendars(keys.store) : [];
    const calendars: RunManifest['calendars'] = plan ? { locations: calendarLocations, features: plan.featureNames().length, default_location: { country: cfg.calendars.country, region: cfg.calendars.region ?? null }, files: plan.versions(), pooled_effects: storedPriors ? 'from the last retrain' : 'estimated by this run' } : null;
    writeManifest(staging, {
      run_id: runId,
      kind,
      started_at: new Date(started).toISOString(),
      finished_at: finished.toISOString(),
      duration_s: (finished.getTime() - started) / 1000,
      code_version: code,
      config_hash: configHash(forecastingSettings(cfg)),
      // Settings only: server tokens never reach a published file, nor the server's folders.
      config: publishedSettings(forecastingSettings(cfg)),
      input: { ...fingerprint, path: input.describe(), format: source.format, columns: source.columns, rows_read: report.rows_read, rows_rejected: report.rows_rejected },
      data: { frequency: freq.name, first_date: report.first_date, last_date: report.last_date, series: report.series, horizon: seriesSettings.horizon, seasons: seriesSettings.seasons, target_dates: { first: dates[0], last: dates[dates.length - 1] } },
      calendars,
      closures: closures.summary(),
      future: future?.report ?? null,
      quantiles: cfg.quantiles,
      files,
      ...(cfg.outputs.length ? { outputs: erp.outputs.map((o) => ({ name: o.name, profile: o.profile, format: o.format, layout: o.layout, levels: [...o.levels], files: o.files.map((f) => f.path) })) } : {}),
      ...(reconciled ? { hierarchy: reconciled.summary } : {}),
      ...(leadtime ? { leadtime: leadtime.summary } : {}),
      rows: { forecasts: written.rows, rejected: report.rows_rejected },
      series_per_model: sortKeys(written.perModel),
      series_per_class: sortKeys(written.perClass),
      model_versions: { decisions: reuse.counts, registered: written.newVersions.length, pins: state.pins, calibration: stored ? 'from the last retrain' : 'from this run' },
      backtest: { windows: seriesSettings.windows, metric: seriesSettings.metric, combine: seriesSettings.combine, selected: summarizeBacktest(results), calibration_errors: calibration.samples },
      fallbacks: written.fallbacks,
      warnings,
      threads,
      stage_seconds: stages(),
    });
    // Register first, then publish: `latest` only ever shows a registered run. The last
    // chance to stop, or to notice the lease was lost, is before the registry commits.
    throwIfStopped(stop);
    lock.assertHeld();
    // The registry keeps the run's own time (`now`, which a scheduler or test may set), so
    // version ages and catch-up decisions follow the schedule rather than the wall clock.
    const at = now.toISOString();
    const done = new Date(now.getTime() + (finished.getTime() - started)).toISOString();
    const dir = runDir(out, runId);
    await withState(out, (db) => inTransaction(db, async () => {
      await recordVersions(db, runId, at, written.newVersions);
      if (!stored) {
        await storeCalibration(db, runId, done, fresh);
        if (plan) await storeCalendarPriors(db, runId, cfg.calendars.pool, plan.priorRows());
      }
      await recordRun(db, {
        run_id: runId, kind, started_at: at, finished_at: done, input_path: inputPath,
        input_sha256: fingerprint.sha256, code_version: code, config_hash: configHash(forecastingSettings(cfg)), config: forecastingSettings(cfg),
        calendars, series: report.series, retrained: written.newVersions.length, reused: reuse.counts.reused, pinned: reuse.counts.pinned, dir,
      });
      await setPublishedRun(db, runId);
    })).catch((e: unknown) => {
      throw e instanceof StateBusy ? new UserError(`${e.message}; nothing published`) : e;
    });
    // From here the staging folder is the registered run's only copy until it is renamed: if
    // this process dies or fails before `latest` is switched, the next command finishes it.
    registered = true;
    faultPoint('registered');
    promote(out, staging, runId);
    staging = null;
    faultPoint('promoted');
    switchLatest(out, runId);
    faultPoint('switched');
    if (cfg.webhook.url) {
      const problem = await postSigned(cfg.webhook.url, 'run.published', publishedNotice(runId, kind, finished, dates, report.last_date, report.series, files), secret);
      if (problem) events.info(`warning: webhook ${cfg.webhook.url} ${problem}; run ${runId} is published regardless`);
    }
    await pruneAfterPublish(out, cfg.retention, (m) => events.info(m));
    return { runId, kind, dir, series: report.series, rows: written.rows, rowsRejected: report.rows_rejected, seriesPerModel: sortKeys(written.perModel), decisions: reuse.counts, fallbacks: written.fallbacks.length, warnings, calendars: calendarLocations.map((l) => `${l.location}${l.default ? ' (default)' : ''} ${l.stores} stores`).join(', ') || 'off', seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    // Before the run is registered, what fails once it was stopping (an interrupted query, a
    // destroyed worker) is the stop, and what fails once its lease was lost (the new holder
    // removes this run's staging) is the lost lease.
    if (!registered) {
      throwIfStopped(stop);
      lock.assertHeld();
    }
    throw e;
  } finally {
    stop?.removeEventListener('abort', halt);
    if (staging && !registered) discardStaging(staging);
    await pool.destroy();
    conn.closeSync();
    await lock.release();
  }
}

/**
 * The configurable gates beyond the rejected share: a store missing from the feed's end
 * (`quality.missingStores: stop`), and a feed that ends before the data of the run already
 * published (`quality.olderFeed`, stop by default): publishing it would move `latest` back in time.
 * A gate set to warn adds its line to `warnings`.
 */
function gateProblem(cfg: Config, report: QualityReport, out: string, warnings: string[]): string | null {
  const stores = report.missing_stores.stores;
  if (cfg.quality.missingStores === 'stop' && stores.length > 0) return `${stores.length} stores have no rows at the data end ${report.last_date} (${stores.slice(0, 5).join(', ')}${stores.length > 5 ? ', …' : ''}), and quality.missingStores = stop`;
  const published = publishedDataEnd(out);
  if (published && report.last_date < published.date) {
    const line = `the feed ends ${report.last_date}, before the data of the published run ${published.runId} (${published.date})`;
    if (cfg.quality.olderFeed === 'stop') return `${line}; set quality.olderFeed = "warn" to publish it anyway`;
    warnings.push(line);
  }
  return null;
}

/** Data end of the run `latest` points at, if any. */
function publishedDataEnd(out: string): { runId: string; date: string } | null {
  const m = readManifest(join(out, 'latest'), RunManifest.pick({ run_id: true, data: true }));
  return m && { runId: m.run_id, date: m.data.last_date };
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
