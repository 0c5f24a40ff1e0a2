import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openIngest } from '../ingest/index.js';
import type { Source } from '../ingest/source.js';
import { qualityWarnings, rejectShareProblem, type QualityReport } from '../ingest/quality.js';
import { writeRejects } from '../ingest/rejects.js';
import { readSeriesKeys } from '../ingest/series-reader.js';
import { targetDates, todayIso } from '../ingest/dates.js';
import { encodeFixed } from '../forecast/batch.js';
import { calibrationToJson } from '../backtest/conformal.js';
import { historyPrint, historyStart, publishHistory } from '../publish/history.js';
import { findLaunchPeers } from './launch-peers.js';
import { readManifest, RunManifest, writeJson } from '../publish/manifest.js';
import { artifactPath } from '../publish/artifacts.js';
import { assertStateNotLost } from '../publish/lost-state.js';
import { driftFlags, latestCalendarPriors, latestCalibration, liveVersions, pinnedSeries, registeredRunCount, seriesKey, withState } from '../registry/state.js';
import { planReuse } from '../registry/reuse.js';
import { codeVersion } from '../version.js';
import { makeRunId } from './run-id.js';
import { seriesTask } from './task.js';
import { allSettledOrThrow } from './settle.js';
import { calendarStage, closureStage, futureStage } from './calendar-stage.js';
import { failUnusable, keepFailed } from './failed.js';
import { makeLedger, type RunKind, type RunPlan } from './run-plan.js';
import { seriesBatches, type TaggedBatch } from './forecast-stage.js';
import { erpTables, readErpTables, SeriesObserver } from './erp-stage.js';
import { HierarchyPlan, withAggregates } from './hierarchy-stage.js';
import { seriesCost } from '../plan/shards.js';
import { activeOverrides, OverrideBook } from '../publish/overrides.js';
import { eventKindsOf } from './explain-stage.js';
import { globalStage, type GlobalPlan } from './global-stage.js';
import { readNewItems } from '../ingest/new-items.js';
import { sha256File } from '../ingest/fingerprint.js';
import { readItems } from '../calendars/scoped.js';
import { registeredNetworks } from '../registry/networks.js';
import { publishedName } from '../publish/published-paths.js';

export interface Prepared {
  readonly plan: RunPlan;
  /** The staging folder holding the files written so far. */
  readonly staging: string;
  /** Every series of the run as worker batches, in series order (read from `conn` as they are pulled), then the hierarchy's aggregates. */
  readonly batches: AsyncIterable<TaggedBatch>;
  /** The run's global networks, which every batch's request carries (null: none). */
  readonly global: GlobalPlan | null;
  /** The plan with what the batches taught as they streamed (erp.counts); throws before every batch was pulled. */
  complete(): RunPlan;
  /** The estimated cost of each aggregate of the hierarchy (plan/shards.ts), once the series have streamed. */
  aggregateCosts(): Float64Array;
}

export interface PrepareContext {
  readonly cfg: Config;
  readonly kind: RunKind;
  /** The run's own time. */
  readonly now: Date;
  readonly started: number;
  readonly out: string;
  readonly conn: DuckDBConnection;
  readonly source: Source;
  readonly newState: boolean;
  /** Check the whole feed although the stored history could be used (`run --full`). */
  readonly fullIngest?: boolean;
  /** Enter a named stage (checks for a stop and a lost lease, times it). */
  stage(name: string): void;
  info(message: string): void;
  /** Seconds per stage so far. */
  stages(): Record<string, number>;
  /** Where the files made before the forecast go (quality.json, rejects.csv, history, events); called once the run id is known. */
  stagingFor(runId: string): string;
  /** Stops the global network's training. */
  readonly stop?: AbortSignal;
  /** Set where the run cannot carry a global network (a sharded plan): the first words of the error if one would be used. */
  readonly refuseGlobal?: string;
}

/**
 * Everything a run does before its series are forecast: ingest and check the data (stopping
 * at the quality gates), decide which series reuse their registered version, estimate or take
 * the calendar effects, the closures and the known future inputs, name the run, and write the
 * files that need the whole history (quality.json, rejects.csv, history.parquet, events.csv).
 * Throws a UserError with nothing published on bad input.
 */
export async function prepareRun(ctx: PrepareContext): Promise<Prepared> {
  const { cfg, kind, now, out, conn, source } = ctx;
  ctx.stage('ingest');
  // The registry is read while DuckDB ingests (30,490 versions take seconds of JSON parsing).
  const [{ registered, ingested }, fingerprint, state] = await allSettledOrThrow([
    // A nightly run checks only what the feed changed since the stored history; a delta feed always adds to it.
    openIngest(conn, cfg, todayIso(now), { source, store: { out, incremental: ctx.fullIngest !== true && (kind === 'run' || cfg.input.feed === 'delta'), info: ctx.info } }).catch((e: unknown) => failUnusable(e, conn, out, source.path, cfg)),
    source.fingerprint(),
    withState(out, async (db) => ({ live: await liveVersions(db), drift: await driftFlags(db), pins: await pinnedSeries(db), registered: await registeredRunCount(db), overrides: await activeOverrides(db, todayIso(now)), networks: await registeredNetworks(db) })),
  ]);
  assertStateNotLost(out, state.registered, ctx.newState);
  const { report, freq } = ingested;
  const code = codeVersion();
  ctx.info(`${report.rows_read} rows read, ${report.rows_rejected} rejected, ${report.series} series, ${freq.name === 'day' ? 'daily' : 'weekly'} ${report.first_date} → ${report.last_date}`);
  const warnings = qualityWarnings(report);
  for (const w of warnings) ctx.info(`warning: ${w}`);
  const problem = rejectShareProblem(report, cfg.quality.maxRejectedShare) ?? gateProblem(cfg, report, out, warnings);
  if (problem) {
    const rejects = await keepFailed(conn, registered, join(out, 'failed', makeRunId(report.last_date, fingerprint.sha256, cfg, code, 'rejected')), report);
    throw new UserError(`${problem}; nothing published; see ${rejects}`);
  }

  const task = seriesTask(cfg, freq);
  const historyKeys = await readSeriesKeys(conn);
  // New items (no history) are series too, after those with history: ids, reuse, publish.
  const newItemsFile = cfg.input.newItems ? resolve(cfg.input.newItems) : null;
  const newItems = newItemsFile ? await readNewItems(conn, newItemsFile, { firstDate: ingested.firstDate, stepDays: freq.days, endT: ingested.lastT }) : null;
  // Without the network nothing can forecast them: they are left out (and the run says so below).
  const keys = newItems && cfg.models.global.enabled ? { store: [...historyKeys.store, ...newItems.items.map((i) => i.store)], sku: [...historyKeys.sku, ...newItems.items.map((i) => i.sku)] } : historyKeys;
  const reuse = planReuse(kind, keys, state.live, state.drift, now, cfg.lifecycle.retrainAfterDays, cfg.lifecycle.nightly);
  // Nightly runs keep what the last retrain learned from the whole history: the interval
  // calibration and the pooled calendar effects.
  const learned = kind === 'run'
    ? await withState(out, async (db) => ({ calibration: await latestCalibration(db, cfg.quantiles, task.horizon), priors: await latestCalendarPriors(db, cfg.calendars.pool) }))
    : null;
  const stored = learned?.calibration ?? null;
  const storedPriors = stored ? learned?.priors ?? null : null;
  // The same data, settings, code and registered versions make the same run, byte for byte.
  const lineage = createHash('sha256').update(kind);
  reuse.decisions.forEach((d, sid) => lineage.update(`${d}:${state.live.get(seriesKey(keys.store[sid], keys.sku[sid]))?.version ?? 0};`));
  // Planner overrides change the published forecast_final, so they are part of the run's identity.
  if (state.overrides.length) lineage.update(`overrides:${new OverrideBook(state.overrides).fingerprint()}`);
  // A nightly run forecasts with the newest registered network; the new items' file is read by content.
  if (kind === 'run' && cfg.models.global.enabled) lineage.update(`network:${state.networks[0]?.version ?? ''};`);
  if (newItemsFile) lineage.update(`new-items:${await sha256File(newItemsFile)};`);
  const runId = makeRunId(report.last_date, fingerprint.sha256, cfg, code, lineage.digest('hex'));
  const staging = ctx.stagingFor(runId);
  writeJson(artifactPath(staging, 'quality.json'), report);
  await writeRejects(conn, registered, artifactPath(staging, 'rejects.csv'));

  ctx.stage('calendars');
  const future = await futureStage(conn, cfg, ingested, task);
  const calendar = await calendarStage(conn, cfg, ingested, keys, task, storedPriors, future);
  const closures = await closureStage(conn, cfg, ingested, keys, task, calendar, future);
  ctx.stage('global');
  const categories = new Map([...(newItems?.items ?? []).filter((i) => i.category).map((i) => [i.sku, i.category] as const), ...(cfg.calendars.items ? readItems(resolve(cfg.calendars.items)) : [])]);
  const global = await globalStage({
    conn, cfg, kind, out, ingested, keys, withHistory: historyKeys.store.length, categories, task, plan: calendar, closures,
    registered: state.networks, live: state.live, stop: ctx.stop, info: ctx.info, refuse: ctx.refuseGlobal,
  });
  if (newItems && newItems.items.length > 0 && !global) warnings.push(`${newItems.items.length} new items of ${publishedName(newItemsFile as string)} are not forecast: models.global.enabled is false`);
  const launches = cfg.models.coldStart === 'peers' ? await findLaunchPeers(conn, ingested.lastT, task) : null;
  const dates = targetDates(report.last_date, freq.days, task.horizon);
  // The files written before the forecast (history.parquet: two years of every series) have a stage of their own.
  ctx.stage('history');
  // An unchanged feed makes the same file as the published run: it is copied, not written again.
  const gapsZero = cfg.quality.gaps === 'zero';
  const historyPrinted = await historyPrint(conn, ingested, gapsZero);
  const latest = readManifest(join(out, 'latest'), RunManifest.pick({ run_id: true, files: true }));
  const { rows: history, reused } = await publishHistory(conn, ingested, artifactPath(staging, 'history.parquet'), gapsZero, historyPrinted,
    latest && { path: artifactPath(join(out, 'latest'), 'history.parquet'), entry: latest.files['history.parquet'] });
  if (reused) ctx.info(`history.parquet: made from the same rows as run ${latest?.run_id}'s, copied from it`);
  const events = calendar ? await calendar.writeEvents(artifactPath(staging, 'events.csv'), keys, historyStart(ingested), dates[dates.length - 1]) : null;
  const locations = calendar ? calendar.storeCalendars(keys.store) : [];
  const tables = readErpTables(cfg, keys);
  const hierarchy = cfg.hierarchy.enabled ? new HierarchyPlan(cfg, keys, erpTables(tables), ingested.lastT) : null;
  const { server: _server, ...settings } = cfg;
  const plan: RunPlan = {
    kind,
    runId,
    codeVersion: code,
    startedAt: new Date(ctx.started).toISOString(),
    now: now.toISOString(),
    config: settings,
    input: { path: source.path, name: source.describe(), format: registered.format, columns: registered.columns, fingerprint },
    report,
    warnings,
    task,
    calendarTask: calendar?.task() ?? null,
    dates,
    ledger: makeLedger(keys, reuse, state.live, (store) => closures.ruleOf(store)),
    pins: state.pins,
    drift: Object.fromEntries(state.drift),
    overrides: state.overrides,
    components: { features: calendar?.featureNames() ?? [], eventKinds: calendar ? eventKindsOf(calendar, keys.store) : {} },
    storedCalibration: stored ? calibrationToJson(stored) : null,
    priors: !stored && calendar ? calendar.priorRows() : null,
    calendars: calendar ? { locations, features: calendar.featureNames().length, default_location: { country: cfg.calendars.country, region: cfg.calendars.region ?? null }, files: calendar.versions(), pooled_effects: storedPriors ? 'from the last retrain' : 'estimated by this run' } : null,
    calendarSummary: locations.map((l) => `${l.location}${l.default ? ' (default)' : ''} ${l.stores} stores`).join(', ') || 'off',
    closures: closures.summary(),
    future: future?.report ?? null,
    global: global?.record() ?? null,
    newItems: newItems?.report ?? null,
    erp: { tables, counts: '', aggregates: hierarchy?.series.length ?? 0 },
    launches,
    preparedRows: { history, events, historyPrint: historyPrinted },
    stageSeconds: ctx.stages(),
  };

  // The count series, and the hierarchy's aggregates, summed from the series as they stream past
  // (new items stream too, with no history, so the aggregates' ids come after theirs).
  const observer = new SeriesObserver(keys.store.length);
  if (hierarchy) observer.onBatch((read) => hierarchy.tap(read));
  let streamed = false;
  const newSeries = global && newItems ? { items: newItems.items, firstSid: historyKeys.store.length } : null;
  const series = seriesBatches(conn, ingested, cfg, keys, calendar, closures, (first, count) => encodeFixed(reuse.fixed.slice(first, first + count)), global, newSeries, (read) => observer.observe(read));
  const all = hierarchy ? withAggregates(series, hierarchy, cfg, keys, calendar, closures, ingested.lastT) : series;
  const batches = (async function* () {
    yield* all;
    streamed = true;
  })();
  const complete = (): RunPlan => {
    if (!streamed) throw new Error('prepareRun: the plan is complete only once every batch was pulled (bug)');
    return { ...plan, erp: { ...plan.erp, counts: cfg.intervals.counts === 'discrete' ? Buffer.from(observer.count.map((c) => (c ? 0x31 : 0x30))).toString('latin1') : '' } };
  };
  // A sum of series sells in most periods: costed as a smooth series.
  const aggregateCosts = (): Float64Array => Float64Array.from(hierarchy?.series ?? [], (_, j) => seriesCost(true, (hierarchy as HierarchyPlan).periods(j), task.maxHistory, false));
  return { plan, staging, batches, global, complete, aggregateCosts };
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
