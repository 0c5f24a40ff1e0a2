import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DuckDBInstance } from '@duckdb/node-api';
import { createInstance, queryOne, queryRows, sqlString } from '../db/duckdb.js';
import { envSeconds } from '../config/env.js';
import { UserError, errorMessage } from '../errors.js';
import type { DemandClass } from '../models/classify.js';
import type { ModelName } from '../models/library.js';
import { calibrationFromJson, calibrationToJson, type Calibration } from '../backtest/conformal.js';
import type { PriorRow } from '../calendars/plan.js';

/**
 * The state database (OUT/state.duckdb): runs, the model version of every series, pins,
 * drift flags, interval calibrations, the actuals `monitor` received and realised accuracy
 * (one row per run and series, over every actual known for its target dates). Opened briefly
 * by each command and closed again, so several commands can take turns on one output folder;
 * a command that finds it open elsewhere (DuckDB lets one process write a file) waits for it.
 */
export const STATE_FILE = 'state.duckdb';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  run_id VARCHAR, kind VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, input_path VARCHAR,
  input_sha256 VARCHAR, code_version VARCHAR, config_hash VARCHAR, config JSON, calendars JSON,
  series INTEGER, retrained INTEGER, reused INTEGER, pinned INTEGER, dir VARCHAR);
CREATE TABLE IF NOT EXISTS model_versions (
  store_id VARCHAR, sku VARCHAR, version INTEGER, run_id VARCHAR, selected_at TIMESTAMP,
  label VARCHAR, demand_class VARCHAR, selection JSON, backtest_mase DOUBLE, backtest_rmsse DOUBLE,
  backtest_bias DOUBLE, scale DOUBLE, PRIMARY KEY (store_id, sku, version));
CREATE TABLE IF NOT EXISTS pins (store_id VARCHAR, sku VARCHAR, version INTEGER, pinned_at TIMESTAMP, PRIMARY KEY (store_id, sku));
CREATE TABLE IF NOT EXISTS drift (store_id VARCHAR, sku VARCHAR, flagged_at TIMESTAMP, reason VARCHAR, PRIMARY KEY (store_id, sku));
-- Every drift flag with the version it was judged on, kept after a retrain clears the flag (rollback warns with it).
CREATE TABLE IF NOT EXISTS drift_log (store_id VARCHAR, sku VARCHAR, version INTEGER, flagged_at TIMESTAMP, reason VARCHAR);
CREATE TABLE IF NOT EXISTS calibrations (run_id VARCHAR PRIMARY KEY, created_at TIMESTAMP, calibration JSON);
CREATE TABLE IF NOT EXISTS calendar_priors (run_id VARCHAR, pool_by VARCHAR, pool VARCHAR, feature VARCHAR, effect DOUBLE);
CREATE TABLE IF NOT EXISTS published (run_id VARCHAR);
CREATE TABLE IF NOT EXISTS shards (store_id VARCHAR, sku VARCHAR, shard INTEGER, shards INTEGER, PRIMARY KEY (store_id, sku));
CREATE TABLE IF NOT EXISTS actuals (store_id VARCHAR, sku VARCHAR, date DATE, units DOUBLE, received_at TIMESTAMP, PRIMARY KEY (store_id, sku, date));
CREATE TABLE IF NOT EXISTS accuracy (
  monitored_at TIMESTAMP, run_id VARCHAR, store_id VARCHAR, sku VARCHAR, model_version INTEGER, points INTEGER,
  mase DOUBLE, abs_error DOUBLE, abs_actual DOUBLE, bias DOUBLE, pinball DOUBLE, coverage DOUBLE);
`;

/** The state file is open in another process (a command, a BI tool) for longer than we wait. */
export class StateBusy extends UserError {}

/**
 * Open the state file, retrying while another process holds it, for at most
 * SHELFCAST_STATE_WAIT_SECONDS (default 30): long enough for any shelfcast command's brief use,
 * short enough that a program left open on it is reported rather than waited on all night.
 */
async function openState(path: string): Promise<DuckDBInstance> {
  const waitS = envSeconds('SHELFCAST_STATE_WAIT_SECONDS', 30, 0);
  const giveUp = Date.now() + waitS * 1000;
  for (;;) {
    try {
      return await createInstance(path);
    } catch (e) {
      const message = errorMessage(e);
      if (!message.includes('Could not set lock on file')) throw e;
      if (Date.now() >= giveUp) {
        const holder = /Conflicting lock is held in (.*?\(PID \d+\))/.exec(message)?.[1] ?? 'another process';
        throw new StateBusy(`${path} is open in ${holder} and stayed busy for ${waitS} s; close it and try again`);
      }
    }
    await sleep(250);
  }
}

/** DuckDB's words for a state file it cannot read as a database: random bytes, truncation, a bad block, a newer format. */
const UNREADABLE = /not a valid DuckDB database file|Corrupt database file|Could not read enough bytes|database file with version number/;

/** The operator's way out when the registry is lost or unreadable and no backup exists. */
export const NEW_STATE_HINT = 'pass --new-state to `shelfcast run` or `retrain` to start a new registry (every series is re-selected and versions restart at v1)';

export async function withState<T>(out: string, fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
  const file = join(out, STATE_FILE);
  try {
    const instance = await openState(file);
    const conn = await instance.connect();
    try {
      await conn.run(SCHEMA);
      const result = await fn(conn);
      await conn.run('CHECKPOINT');
      return result;
    } finally {
      conn.closeSync();
      // Closing the instance releases the file for the next command.
      instance.closeSync();
    }
  } catch (e) {
    if (e instanceof Error && UNREADABLE.test(e.message)) {
      throw new UserError(`${file} is not a state database shelfcast can read (${e.message.split('\n')[0]}): restore it from a backup, or move it aside and ${NEW_STATE_HINT}`);
    }
    throw e;
  }
}

/** Run `fn` as one transaction: a command killed or failing half-way leaves none of its writes. */
export async function inTransaction<T>(conn: DuckDBConnection, fn: () => Promise<T>): Promise<T> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const result = await fn();
    await conn.run('COMMIT');
    return result;
  } catch (e) {
    await conn.run('ROLLBACK');
    throw e;
  }
}

/**
 * The run `latest` must show: set in the transaction that registers the run, before the link
 * is switched, so a command killed between the two leaves the registry saying which run to
 * finish publishing (publish/recover.ts). Null before the first run (or an older registry).
 */
export async function publishedRun(conn: DuckDBConnection): Promise<string | null> {
  const rows = await queryRows<{ run_id: string }>(conn, `SELECT run_id FROM published`);
  return rows[0]?.run_id ?? null;
}

export async function setPublishedRun(conn: DuckDBConnection, runId: string): Promise<void> {
  await conn.run(`DELETE FROM published`);
  await conn.run(`INSERT INTO published VALUES (${sqlString(runId)})`);
}

/** The output folder, for commands that only make sense on a registry that exists (models list, rollback…). */
export function requireState(out: string): string {
  if (!existsSync(join(out, STATE_FILE))) throw new UserError(`no ${STATE_FILE} in ${out}: nothing has been run there yet (shelfcast run -o ${out}), or -o names the wrong folder`);
  return out;
}

/** The input a recorded run read, as its full path (manifests carry only the file name). */
export async function runInputPath(conn: DuckDBConnection, runId: string): Promise<string | null> {
  const rows = await queryRows<{ input_path: string }>(conn, `SELECT input_path FROM runs WHERE run_id = ${sqlString(runId)} ORDER BY finished_at DESC LIMIT 1`);
  return rows[0]?.input_path ?? null;
}

/** How many runs the registry has recorded. */
export async function registeredRunCount(conn: DuckDBConnection): Promise<number> {
  return (await queryOne<{ n: number }>(conn, 'SELECT count(*)::INTEGER AS n FROM runs')).n;
}

export const seriesKey = (store: string, sku: string): string => `${store}\u0001${sku}`;

export interface VersionRow {
  readonly store_id: string;
  readonly sku: string;
  readonly version: number;
  readonly run_id: string;
  readonly selected_at: string;
  readonly label: string;
  readonly demand_class: DemandClass;
  readonly selection: { models: ModelName[]; weights: number[]; labels?: string[]; params: Record<string, number>[] };
  readonly backtest_mase: number | null;
  readonly backtest_rmsse: number | null;
  readonly backtest_bias: number | null;
  readonly scale: number | null;
}

export interface LiveVersion extends VersionRow {
  readonly pinned: boolean;
}

const VERSION_COLUMNS = `store_id, sku, version, run_id, strftime(selected_at, '%Y-%m-%dT%H:%M:%SZ') AS selected_at, label, demand_class, selection::VARCHAR AS selection, backtest_mase, backtest_rmsse, backtest_bias, scale`;

function parseVersion(r: Record<string, unknown>): VersionRow {
  return { ...(r as unknown as VersionRow), selection: JSON.parse(r.selection as string) };
}

/** The version each series runs on: its pinned version, else its newest. */
export async function liveVersions(conn: DuckDBConnection): Promise<Map<string, LiveVersion>> {
  const rows = await queryRows(conn, `
    WITH newest AS (SELECT store_id, sku, max(version) AS version FROM model_versions GROUP BY ALL),
    live AS (
      SELECT n.store_id, n.sku, COALESCE(p.version, n.version) AS version, p.version IS NOT NULL AS pinned
      FROM newest n LEFT JOIN pins p USING (store_id, sku))
    SELECT ${VERSION_COLUMNS.replaceAll('store_id, sku, version,', 'v.store_id, v.sku, v.version,')}, live.pinned
    FROM model_versions v JOIN live USING (store_id, sku, version)`);
  return new Map(rows.map((r) => {
    const v = { ...parseVersion(r), pinned: r.pinned as boolean };
    return [seriesKey(v.store_id, v.sku), v];
  }));
}

export async function versionHistory(conn: DuckDBConnection, store: string, sku: string): Promise<VersionRow[]> {
  const rows = await queryRows(conn, `SELECT ${VERSION_COLUMNS} FROM model_versions WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)} ORDER BY version`);
  return rows.map(parseVersion);
}

/** The version one series runs on now (its pin, else its newest), with when it was pinned. */
export async function liveVersionOf(conn: DuckDBConnection, store: string, sku: string): Promise<{ version: number; pinned: boolean; pinned_at: string | null } | null> {
  const rows = await queryRows<{ version: number | null; pinned_at: string | null }>(conn, `
    SELECT COALESCE((SELECT version FROM pins WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)}), max(version)) AS version,
      (SELECT strftime(pinned_at, '%Y-%m-%dT%H:%M:%SZ') FROM pins WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)}) AS pinned_at
    FROM model_versions WHERE store_id = ${sqlString(store)} AND sku = ${sqlString(sku)}`);
  const r = rows[0];
  return r && r.version !== null ? { version: r.version, pinned: r.pinned_at !== null, pinned_at: r.pinned_at } : null;
}

/** The live version number of every series (its pin, else its newest), without parsing selections. */
export async function liveVersionNumbers(conn: DuckDBConnection): Promise<Map<string, number>> {
  const rows = await queryRows<{ store_id: string; sku: string; version: number }>(conn, `
    SELECT n.store_id, n.sku, COALESCE(p.version, n.version) AS version
    FROM (SELECT store_id, sku, max(version) AS version FROM model_versions GROUP BY ALL) n LEFT JOIN pins p USING (store_id, sku)`);
  return new Map(rows.map((r) => [seriesKey(r.store_id, r.sku), r.version]));
}

export async function driftFlags(conn: DuckDBConnection): Promise<Map<string, string>> {
  const rows = await queryRows<{ store_id: string; sku: string; reason: string }>(conn, `SELECT store_id, sku, reason FROM drift`);
  return new Map(rows.map((r) => [seriesKey(r.store_id, r.sku), r.reason]));
}

export async function pinnedSeries(conn: DuckDBConnection): Promise<{ store_id: string; sku: string; version: number }[]> {
  return queryRows(conn, `SELECT store_id, sku, version FROM pins ORDER BY store_id, sku`);
}

/** The calibration of the newest run that stored one, if it matches the levels and horizon asked for. */
export async function latestCalibration(conn: DuckDBConnection, levels: readonly number[], horizon: number): Promise<Calibration | null> {
  const rows = await queryRows<{ calibration: string }>(conn, `SELECT calibration::VARCHAR AS calibration FROM calibrations ORDER BY created_at DESC LIMIT 1`);
  return rows.length === 0 ? null : calibrationFromJson(rows[0].calibration, levels, horizon);
}

export interface RunRecord {
  readonly run_id: string;
  /** `overrides`: a run that republished the latest one with planner overrides applied (run/overrides-run.ts). */
  readonly kind: 'run' | 'retrain' | 'overrides';
  readonly started_at: string;
  readonly finished_at: string;
  readonly input_path: string;
  readonly input_sha256: string;
  readonly code_version: string;
  readonly config_hash: string;
  readonly config: unknown;
  readonly calendars: unknown;
  readonly series: number;
  readonly retrained: number;
  readonly reused: number;
  readonly pinned: number;
  readonly dir: string;
}

export async function recordRun(conn: DuckDBConnection, r: RunRecord): Promise<void> {
  const v = (x: unknown): string => (x === null || x === undefined ? 'NULL' : typeof x === 'number' ? String(x) : sqlString(typeof x === 'string' ? x : JSON.stringify(x)));
  await conn.run(`INSERT INTO runs VALUES (${[r.run_id, r.kind].map(v).join(', ')}, ${v(r.started_at)}::TIMESTAMP, ${v(r.finished_at)}::TIMESTAMP,
    ${[r.input_path, r.input_sha256, r.code_version, r.config_hash].map(v).join(', ')}, ${v(r.config)}::JSON, ${v(r.calendars)}::JSON,
    ${[r.series, r.retrained, r.reused, r.pinned, r.dir].map(v).join(', ')})`);
}

export interface NewVersion {
  readonly store_id: string;
  readonly sku: string;
  readonly version: number;
  readonly label: string;
  readonly demand_class: string;
  readonly selection: string;
  readonly backtest_mase: number;
  readonly backtest_rmsse: number;
  readonly backtest_bias: number;
  readonly scale: number;
}

/** Register new model versions selected by `runId` (bulk, through an appender). */
export async function recordVersions(conn: DuckDBConnection, runId: string, at: string, rows: readonly NewVersion[]): Promise<void> {
  if (rows.length === 0) return;
  await conn.run(`CREATE OR REPLACE TEMP TABLE new_versions (store_id VARCHAR, sku VARCHAR, version INTEGER, label VARCHAR, demand_class VARCHAR, selection VARCHAR, backtest_mase DOUBLE, backtest_rmsse DOUBLE, backtest_bias DOUBLE, scale DOUBLE)`);
  const app = await conn.createAppender('new_versions');
  const num = (x: number): void => { if (Number.isFinite(x)) app.appendDouble(x); else app.appendNull(); };
  for (const r of rows) {
    app.appendVarchar(r.store_id); app.appendVarchar(r.sku); app.appendInteger(r.version); app.appendVarchar(r.label);
    app.appendVarchar(r.demand_class); app.appendVarchar(r.selection); num(r.backtest_mase); num(r.backtest_rmsse); num(r.backtest_bias); num(r.scale);
    app.endRow();
  }
  app.closeSync();
  await conn.run(`INSERT INTO model_versions SELECT store_id, sku, version, ${sqlString(runId)}, ${sqlString(at)}::TIMESTAMP, label, demand_class, selection::JSON, backtest_mase, backtest_rmsse, backtest_bias, scale FROM new_versions`);
  // A retrained series is no longer drifting.
  await conn.run(`DELETE FROM drift WHERE (store_id, sku) IN (SELECT store_id, sku FROM new_versions)`);
}

export async function storeCalibration(conn: DuckDBConnection, runId: string, at: string, c: Calibration): Promise<void> {
  await conn.run(`INSERT OR REPLACE INTO calibrations VALUES (${sqlString(runId)}, ${sqlString(at)}::TIMESTAMP, ${sqlString(calibrationToJson(c))}::JSON)`);
}

/**
 * Pooled calendar effects stored with a run's calibration: the newest calibrated run's, if it
 * pooled the same way (`pool_by`: calendars.pool); null when it stored none.
 */
export async function latestCalendarPriors(conn: DuckDBConnection, poolBy: string): Promise<PriorRow[] | null> {
  const latest = await queryRows<{ run_id: string }>(conn, `SELECT run_id FROM calibrations ORDER BY created_at DESC LIMIT 1`);
  if (latest.length === 0) return null;
  const rows = await queryRows<PriorRow & { pool_by: string }>(conn, `SELECT pool_by, pool, feature, effect FROM calendar_priors WHERE run_id = ${sqlString(latest[0].run_id)} ORDER BY pool, feature`);
  if (rows.length === 0 || rows[0].pool_by !== poolBy) return null;
  return rows.map(({ pool, feature, effect }) => ({ pool, feature, effect }));
}

export async function storeCalendarPriors(conn: DuckDBConnection, runId: string, poolBy: string, rows: readonly PriorRow[]): Promise<void> {
  await conn.run(`DELETE FROM calendar_priors WHERE run_id = ${sqlString(runId)}`);
  const app = await conn.createAppender('calendar_priors');
  for (const r of rows) {
    app.appendVarchar(runId); app.appendVarchar(poolBy); app.appendVarchar(r.pool); app.appendVarchar(r.feature); app.appendDouble(r.effect);
    app.endRow();
  }
  app.closeSync();
}

/** The shard each series had in the last sharded run published, when it had `shards` shards. */
export async function shardAssignment(conn: DuckDBConnection, shards: number): Promise<Map<string, number>> {
  const rows = await queryRows<{ store_id: string; sku: string; shard: number }>(conn, `SELECT store_id, sku, shard FROM shards WHERE shards = ${shards}`);
  return new Map(rows.map((r) => [seriesKey(r.store_id, r.sku), r.shard]));
}

export async function storeShardAssignment(conn: DuckDBConnection, shards: number, store: readonly string[], sku: readonly string[], shard: Int32Array): Promise<void> {
  await conn.run('DELETE FROM shards');
  const app = await conn.createAppender('shards');
  for (let i = 0; i < store.length; i++) {
    app.appendVarchar(store[i]); app.appendVarchar(sku[i]); app.appendInteger(shard[i]); app.appendInteger(shards);
    app.endRow();
  }
  app.closeSync();
}

/**
 * What a plan expects the registry to still be when its run is published: the run `latest`
 * shows and how many versions and pins there are. Another run published in between would
 * make the plan's version numbers collide with its.
 */
export async function registryMark(conn: DuckDBConnection): Promise<string> {
  const r = await queryOne<{ published: string | null; versions: number; pins: number }>(conn, `
    SELECT (SELECT any_value(run_id) FROM published) AS published, (SELECT count(*) FROM model_versions)::INTEGER AS versions, (SELECT count(*) FROM pins)::INTEGER AS pins`);
  return `${r.published ?? '-'}:${r.versions}:${r.pins}`;
}
