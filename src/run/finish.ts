import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { configHash } from '../config/load.js';
import { UserError } from '../errors.js';
import { calibrationFromJson, type CalibrationBuilder } from '../backtest/conformal.js';
import { fiscalAggregate, forecastCsvToParquet } from '../publish/parquet.js';
import { describeFiles, readManifest, writeManifest, type WrittenFiles } from '../publish/manifest.js';
import { postSigned } from '../publish/notify.js';
import { logApplied, OverrideBook } from '../publish/overrides.js';
import { promote, runDir, switchLatest } from '../publish/atomic.js';
import { artifactPath, type ArtifactName } from '../publish/artifacts.js';
import { publishedSettings } from '../publish/published-paths.js';
import { StateBusy, inTransaction, recordRun, recordVersions, setPublishedRun, storeCalendarPriors, storeCalibration, withState } from '../registry/state.js';
import { forecastingSettings } from './run-id.js';
import { summarizeBacktest, type PlacedResult } from './forecast-stage.js';
import { inSeriesOrder, writeForecastFiles } from './publish-stage.js';
import { forecastLaunches } from './launch-peers.js';
import { faultPoint } from './fault.js';
import { pruneAfterPublish } from './retention.js';
import type { RunKind, RunPlan } from './run-plan.js';
import { ComponentNames, writeBacktestWindows, writeComponents } from './explain-stage.js';
import { writeExceptions, type PreviousRun } from './exceptions.js';
import { recordNetwork, recordRunNetwork } from '../registry/networks.js';
import { countFlags, erpTables, publishedNotice, SeriesTable, writeSchema } from './erp-stage.js';
import { writeErpFiles } from './erp-publish.js';

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

export interface FinishContext {
  readonly out: string;
  readonly conn: DuckDBConnection;
  /** The staging folder prepareRun wrote its files into. */
  readonly staging: string;
  readonly threads: number;
  /** The run.published webhook's secret (publish/notify.ts webhookSecretOf), read when the command started. */
  readonly secret: string | null;
  stage(name: string): void;
  stages(): Record<string, number>;
  info(message: string): void;
  /** The last check before the registry commits: a stop, or a lost lease, still prevents the publish. */
  beforeRegistering(): void;
  /** Called once the run is registered: from then on it is published whatever happens. */
  registered(): void;
}

/**
 * Everything a run does once every series is forecast: calibrate the bands (or keep the
 * registered calibration), write the forecast files and the manifest into the staging folder,
 * register the run, then rename it into place and switch `latest`. The same for a run on one
 * machine and for the publish of a sharded run, whose results come from its shards' parts.
 */
export async function finishRun(ctx: FinishContext, plan: RunPlan, results: readonly PlacedResult[], builder: CalibrationBuilder): Promise<RunSummary> {
  const { out, conn, staging } = ctx;
  const cfg = plan.config as Config;
  ctx.stage('publish');
  const fresh = builder.build(cfg.quantiles);
  // Nightly runs keep the retrain's calibration; a retrain (or a first run) makes a new one.
  const stored = plan.storedCalibration ? calibrationFromJson(plan.storedCalibration, cfg.quantiles, plan.task.horizon) : null;
  const calibration = stored ?? fresh;
  // The series, then the hierarchy's aggregates (ids from the ledger's series on: those with history, then new items).
  const ordered = inSeriesOrder(results);
  const series = ordered.slice(0, plan.ledger.store.length);
  const aggregates = ordered.slice(plan.ledger.store.length);
  // Launches take their shape from their peers' forecasts, which exist only now.
  if (plan.launches) forecastLaunches(series, plan.launches, plan.task.horizon);
  const book = new OverrideBook(plan.overrides);
  const tables = erpTables(plan.erp.tables);
  const countSeries = plan.erp.counts ? countFlags(plan.erp.counts) : undefined;
  const seriesTable = new SeriesTable(plan.ledger, plan.task.horizon, cfg.quantiles);
  const written = await writeForecastFiles(staging, plan, series, calibration, book, { ...(countSeries ? { count: countSeries } : {}), collect: (sid, point, qs, overridden) => seriesTable.collect(sid, point, qs, overridden) });
  const fiscal = cfg.calendars.fiscal === 'nrf-454';
  await forecastCsvToParquet(conn, artifactPath(staging, 'forecasts.csv'), artifactPath(staging, 'forecasts.parquet'), cfg.quantiles, fiscal);
  if (fiscal) await fiscalAggregate(conn, artifactPath(staging, 'forecasts.csv'), artifactPath(staging, 'forecasts-fiscal.csv'));
  const { report } = plan;
  const step = report.frequency.days;
  const componentRows = await writeComponents(conn, staging, plan.ledger, plan.dates, series, new ComponentNames(step, plan.components.features, plan.components.eventKinds));
  const previous = previousRun(out, plan.runId);
  const previousWindows = previous && previous.manifest.files['backtest.parquet'] ? artifactPath(previous.dir, 'backtest.parquet') : null;
  const backtestRows = await writeBacktestWindows(conn, staging, plan.ledger, report.last_date, step, plan.task.horizon, plan.task.windows, series, previousWindows);
  const exceptionRows = await writeExceptions(conn, staging, report.last_date, step, plan.task.horizon, previous, new Map(Object.entries(plan.drift)), (k) => k.split('\u0001') as [string, string]);
  const erp = await writeErpFiles(conn, staging, plan, series, aggregates, calibration, countSeries, tables, seriesTable);
  const writtenFiles: WrittenFiles = {
    'forecasts.csv': written.rows,
    'forecasts.parquet': written.rows,
    'series.csv': written.seriesRows,
    'history.parquet': plan.preparedRows.history,
    'components.parquet': componentRows,
    'backtest.parquet': backtestRows,
    'exceptions.csv': exceptionRows,
    ...(plan.preparedRows.events !== null ? { 'events.csv': plan.preparedRows.events } : {}),
    ...(fiscal ? { 'forecasts-fiscal.csv': null } : {}),
    'quality.json': null,
    'rejects.csv': report.rows_rejected + report.rows_corrected,
    ...erp.rows,
    'SCHEMA.md': null,
  };
  writeSchema(staging, plan.runId, cfg, Object.keys(writtenFiles) as ArtifactName[], fiscal, erp.entries);
  const files = await describeFiles(staging, writtenFiles, erp.members, plan.preparedRows.historyPrint ? { 'history.parquet': plan.preparedRows.historyPrint } : {});
  const finished = new Date();
  const started = Date.parse(plan.startedAt);
  const counts = countDecisions(plan);
  writeManifest(staging, {
    run_id: plan.runId,
    kind: plan.kind,
    started_at: plan.startedAt,
    finished_at: finished.toISOString(),
    duration_s: (finished.getTime() - started) / 1000,
    code_version: plan.codeVersion,
    config_hash: configHash(forecastingSettings(cfg)),
    // Settings only: server tokens never reach a published file, nor the server's folders.
    config: publishedSettings(forecastingSettings(cfg)),
    input: { ...plan.input.fingerprint, path: plan.input.name, format: plan.input.format, columns: plan.input.columns, rows_read: report.rows_read, rows_rejected: report.rows_rejected },
    data: { frequency: report.frequency.name, first_date: report.first_date, last_date: report.last_date, series: report.series, horizon: plan.task.horizon, seasons: plan.task.seasons, target_dates: { first: plan.dates[0], last: plan.dates[plan.dates.length - 1] } },
    calendars: plan.calendars,
    closures: plan.closures,
    future: plan.future,
    global: plan.global?.summary ?? null,
    new_items: plan.newItems,
    quantiles: cfg.quantiles,
    files,
    ...erp.manifest,
    rows: { forecasts: written.rows, rejected: report.rows_rejected },
    series_per_model: sortKeys(written.perModel),
    series_per_class: sortKeys(written.perClass),
    model_versions: { decisions: counts, registered: written.newVersions.length, pins: plan.pins, calibration: stored ? 'from the last retrain' : 'from this run' },
    backtest: { windows: plan.task.windows, metric: plan.task.metric, combine: plan.task.combine, selected: summarizeBacktest(series), calibration_errors: calibration.samples },
    fallbacks: written.fallbacks,
    warnings: [...plan.warnings],
    overrides: { base_run: null, active: book.size, applied: book.applied.size, rows: [...book.applied.values()].reduce((a, b) => a + b, 0) },
    threads: ctx.threads,
    stage_seconds: ctx.stages(),
  });
  // Register first, then publish: `latest` only ever shows a registered run.
  ctx.beforeRegistering();
  // The registry keeps the run's own time (`now`, which a scheduler or test may set), so
  // version ages and catch-up decisions follow the schedule rather than the wall clock.
  const at = plan.now;
  const done = new Date(Date.parse(plan.now) + (finished.getTime() - started)).toISOString();
  const dir = runDir(out, plan.runId);
  await withState(out, (db) => inTransaction(db, async () => {
    await recordVersions(db, plan.runId, at, written.newVersions);
    for (const n of plan.global?.trained ?? []) await recordNetwork(db, plan.runId, at, n.version, n.dir, n.record);
    if (plan.global) await recordRunNetwork(db, plan.runId, plan.global.summary.network, plan.global.summary.trained);
    if (!stored) {
      await storeCalibration(db, plan.runId, done, fresh);
      if (plan.priors) await storeCalendarPriors(db, plan.runId, cfg.calendars.pool, plan.priors);
    }
    await recordRun(db, {
      run_id: plan.runId, kind: plan.kind, started_at: at, finished_at: done, input_path: plan.input.path,
      input_sha256: plan.input.fingerprint.sha256, code_version: plan.codeVersion, config_hash: configHash(forecastingSettings(cfg)), config: forecastingSettings(cfg),
      calendars: plan.calendars, series: report.series, retrained: written.newVersions.length, reused: counts.reused, pinned: counts.pinned, dir,
    });
    await setPublishedRun(db, plan.runId);
    if (book.applied.size) await logApplied(db, plan.runId, book.applied, done, plan.kind);
  })).catch((e: unknown) => {
    throw e instanceof StateBusy ? new UserError(`${e.message}; nothing published`) : e;
  });
  // From here the staging folder is the registered run's only copy until it is renamed: if
  // this process dies or fails before `latest` is switched, the next command finishes it.
  ctx.registered();
  faultPoint('registered');
  promote(out, staging, plan.runId);
  faultPoint('promoted');
  switchLatest(out, plan.runId);
  faultPoint('switched');
  if (cfg.webhook.url) {
    const problem = await postSigned(cfg.webhook.url, 'run.published', publishedNotice(plan.runId, plan.kind, finished, plan.dates, report.last_date, report.series, files), ctx.secret);
    if (problem) ctx.info(`warning: webhook ${cfg.webhook.url} ${problem}; run ${plan.runId} is published regardless`);
  }
  await pruneAfterPublish(out, cfg.retention, ctx.info);
  return {
    runId: plan.runId, kind: plan.kind, dir, series: report.series, rows: written.rows, rowsRejected: report.rows_rejected, seriesPerModel: sortKeys(written.perModel),
    decisions: counts, fallbacks: written.fallbacks.length, warnings: plan.warnings, calendars: plan.calendarSummary, seconds: (Date.now() - started) / 1000,
  };
}

/** The run `latest` points at, unless it is this run (a rerun): what exceptions compare against. */
function previousRun(out: string, runId: string): PreviousRun | null {
  const m = readManifest(join(out, 'latest'));
  return m && m.run_id !== runId ? { dir: runDir(out, m.run_id), manifest: m } : null;
}

function countDecisions(plan: RunPlan): Record<string, number> {
  const counts: Record<string, number> = { pinned: 0, reused: 0, new: 0, stale: 0, drift: 0, retrain: 0 };
  for (const d of plan.ledger.decisions) counts[d]++;
  return counts;
}

function sortKeys(o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}
