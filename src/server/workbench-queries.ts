import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import { readPublishedCsv } from '../publish/csv-sql.js';
import { textColumns } from '../publish/artifacts.js';
import type { QueryEngine } from './db.js';

/**
 * The planner's workbench reads, all in DuckDB over a run's files: a series' forecast in parts
 * (components.parquet), its past forecasts against what happened (backtest.parquet and earlier
 * runs' forecasts.parquet), the exceptions list (exceptions.csv), and the comparison of two runs.
 * Client values reach SQL only as bound parameters.
 */

async function rows<T = Record<string, unknown>>(conn: DuckDBConnection, sql: string, params: Record<string, string | number> = {}): Promise<T[]> {
  return (await conn.runAndReadAll(sql, params)).getRowObjectsJson() as T[];
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

async function hasColumn(conn: DuckDBConnection, parquet: string, column: string): Promise<boolean> {
  const cols = await rows<{ column_name: string }>(conn, `DESCRIBE SELECT * FROM read_parquet(${sqlString(parquet)})`);
  return cols.some((c) => c.column_name === column);
}

/** The column a run publishes its final forecast in: forecast_final, or forecast for runs made before overrides. */
async function finalColumn(conn: DuckDBConnection, parquet: string): Promise<string> {
  return (await hasColumn(conn, parquet, 'forecast_final')) ? 'forecast_final' : 'forecast';
}

export interface ComponentRow {
  readonly date: string;
  readonly forecast: number;
  readonly forecast_final: number;
  readonly override: number | null;
  /** Additive parts in units; they sum to `forecast`. */
  readonly components: Record<string, number>;
  /** Each combined model's weighted forecast, in units (they sum to the forecast before the floor at 0 and closures). */
  readonly models: Record<string, number>;
}

export interface Components {
  readonly rows: ComponentRow[];
  /** Every component's kind (level, seasonality, holiday, event, promo, floor), in a stable order. */
  readonly kinds: Record<string, string>;
  /** The combination's weights. */
  readonly weights: Record<string, number>;
  /** Per component: total units over the horizon and that as a share of the total forecast. */
  readonly totals: { name: string; kind: string; units: number; share: number | null }[];
}

const KIND_ORDER = ['level', 'seasonality', 'holiday', 'event', 'promo', 'floor'];

export async function seriesComponents(db: QueryEngine, files: { forecasts: string; components: string }, store: string, sku: string): Promise<Components | null> {
  return db.with(async (conn) => {
    const final = await finalColumn(conn, files.forecasts);
    const found = await rows(conn, `
      SELECT strftime(f.date, '%Y-%m-%d') AS date, f.forecast, f.${final} AS forecast_final, ${final === 'forecast' ? 'NULL' : 'f.override'} AS override, c.component, c.kind, c.units, c.weight
      FROM read_parquet(${sqlString(files.forecasts)}) f LEFT JOIN read_parquet(${sqlString(files.components)}) c USING (store_id, sku, date)
      WHERE f.store_id = $store AND f.sku = $sku ORDER BY f.date, c.kind, c.component`, { store, sku });
    if (found.length === 0) return null;
    const byDate = new Map<string, { date: string; forecast: number; forecast_final: number; override: number | null; components: Record<string, number>; models: Record<string, number> }>();
    const kinds: Record<string, string> = {};
    const weights: Record<string, number> = {};
    const totals = new Map<string, { kind: string; units: number }>();
    let total = 0;
    for (const r of found) {
      const date = String(r.date);
      let row = byDate.get(date);
      if (!row) {
        row = { date, forecast: Number(r.forecast), forecast_final: Number(r.forecast_final), override: num(r.override), components: {}, models: {} };
        byDate.set(date, row);
        total += row.forecast;
      }
      if (r.component === null || r.component === undefined) continue;
      const name = String(r.component);
      const units = Number(r.units);
      if (r.kind === 'model') {
        row.models[name] = units;
        weights[name] = Number(r.weight);
        continue;
      }
      row.components[name] = units;
      kinds[name] = String(r.kind);
      const t = totals.get(name) ?? { kind: String(r.kind), units: 0 };
      t.units += units;
      totals.set(name, t);
    }
    const order = (a: [string, { kind: string }], b: [string, { kind: string }]) => KIND_ORDER.indexOf(a[1].kind) - KIND_ORDER.indexOf(b[1].kind) || (a[0] < b[0] ? -1 : 1);
    return {
      rows: [...byDate.values()],
      kinds,
      weights,
      totals: [...totals].sort(order).map(([name, t]) => ({ name, kind: t.kind, units: Math.round(t.units * 1e4) / 1e4, share: total > 0 ? t.units / total : null })),
    };
  });
}

export interface PastRun {
  readonly run_id: string;
  readonly kind: string;
  readonly last_date: string;
  readonly finished_at: string;
}

/** The backtest windows' forecasts of a series and earlier runs' forecasts, each beside what sold (null: not observed). */
export async function pastForecasts(db: QueryEngine, files: { backtest: string | null; history: string }, previous: readonly (PastRun & { forecasts: string })[], store: string, sku: string) {
  return db.with(async (conn) => {
    // Runs before history states flagged only stock-outs.
    const observed = (await hasColumn(conn, files.history, 'state')) ? `state IN ('observed', 'gap')` : 'NOT stockout';
    const actual = `(SELECT date, CASE WHEN ${observed} THEN units END AS actual FROM read_parquet(${sqlString(files.history)}) WHERE store_id = $store AND sku = $sku)`;
    const backtest = files.backtest
      ? await rows(conn, `SELECT "window", strftime(origin, '%Y-%m-%d') AS origin, strftime(date, '%Y-%m-%d') AS date, forecast, actual
          FROM read_parquet(${sqlString(files.backtest)}) WHERE store_id = $store AND sku = $sku ORDER BY "window", date`, { store, sku })
      : [];
    const runs = [];
    for (const p of previous) {
      const final = await finalColumn(conn, p.forecasts);
      const got = await rows(conn, `SELECT strftime(f.date, '%Y-%m-%d') AS date, f.forecast, f.${final} AS forecast_final, a.actual
        FROM read_parquet(${sqlString(p.forecasts)}) f JOIN ${actual} a USING (date) WHERE f.store_id = $store AND f.sku = $sku ORDER BY f.date`, { store, sku });
      if (got.length) runs.push({ run_id: p.run_id, kind: p.kind, last_date: p.last_date, finished_at: p.finished_at, rows: got });
    }
    return { backtest, previous_runs: runs };
  });
}

export interface ExceptionFilter {
  readonly store?: string;
  readonly reason?: string;
  readonly limit: number;
}

/** exceptions.csv of a run, filtered, by impact (its rank), with the count per reason over the filter's store. */
export async function exceptionList(db: QueryEngine, file: string, f: ExceptionFilter) {
  const csv = readPublishedCsv(file, textColumns('exceptions.csv'), `types = {'rank': 'INTEGER', 'store_id': 'VARCHAR', 'sku': 'VARCHAR', 'reason': 'VARCHAR', 'impact': 'DOUBLE', 'units': 'DOUBLE', 'error': 'DOUBLE', 'detail': 'VARCHAR'}`);
  const params: Record<string, string | number> = { limit: f.limit };
  const where: string[] = [];
  if (f.store !== undefined) { where.push('store_id = $store'); params.store = f.store; }
  const byStore = where.length ? `WHERE ${where.join(' AND ')}` : '';
  if (f.reason !== undefined) { where.push('reason = $reason'); params.reason = f.reason; }
  return db.with(async (conn) => {
    const list = await rows(conn, `SELECT *, count(*) OVER () AS matches FROM ${csv} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY rank LIMIT CAST($limit AS BIGINT)`, params);
    const countParams = { ...params };
    delete countParams.reason;
    delete countParams.limit;
    const counts = await rows<{ reason: string; n: number }>(conn, `SELECT reason, count(*)::INTEGER AS n FROM ${csv} ${byStore} GROUP BY reason ORDER BY reason`, countParams);
    return {
      matches: list.length ? Number(list[0].matches) : 0,
      by_reason: Object.fromEntries(counts.map((c) => [c.reason, c.n])),
      rows: list.map(({ matches: _m, ...r }) => r),
    };
  });
}

export interface DiffSide {
  readonly run_id: string;
  readonly last_date: string;
  readonly forecasts: string;
  readonly series: string;
}

/**
 * Two runs compared series by series over the target dates they share: each side's total final
 * forecast, the change, and why it changed: `new model version` (another version or model),
 * `drift` (run b re-selected it because monitor flagged it), `new data` (b's data ends later),
 * `override` (a planner's override in either run), `new series` / `dropped series`.
 */
export async function diffRuns(db: QueryEngine, a: DiffSide, b: DiffSide, limit: number, store?: string) {
  return db.with(async (conn) => {
    const fa = await finalColumn(conn, a.forecasts);
    const fb = await finalColumn(conn, b.forecasts);
    const ser = (p: string) => readPublishedCsv(p, textColumns('series.csv'));
    const ov = (col: string) => (col === 'forecast' ? 'false' : 'bool_or(override IS NOT NULL)');
    const params: Record<string, string | number> = { limit };
    if (store !== undefined) params.store = store;
    const storeFilter = store !== undefined ? 'WHERE store_id = $store' : '';
    const sql = `
      WITH common AS (SELECT DISTINCT date FROM read_parquet(${sqlString(a.forecasts)}) INTERSECT SELECT DISTINCT date FROM read_parquet(${sqlString(b.forecasts)})),
      ta AS (SELECT store_id, sku, sum(${fa}) AS total, ${ov(fa)} AS overridden, any_value(model) AS model, any_value(model_version) AS version FROM read_parquet(${sqlString(a.forecasts)}) WHERE date IN (SELECT date FROM common) GROUP BY ALL),
      tb AS (SELECT store_id, sku, sum(${fb}) AS total, ${ov(fb)} AS overridden, any_value(model) AS model, any_value(model_version) AS version FROM read_parquet(${sqlString(b.forecasts)}) WHERE date IN (SELECT date FROM common) GROUP BY ALL),
      sb AS (SELECT store_id, sku, selection FROM ${ser(b.series)}),
      j AS (
        SELECT COALESCE(ta.store_id, tb.store_id) AS store_id, COALESCE(ta.sku, tb.sku) AS sku, ta.total AS total_a, tb.total AS total_b,
          COALESCE(tb.total, 0) - COALESCE(ta.total, 0) AS change, ta.model AS model_a, tb.model AS model_b, ta.version AS version_a, tb.version AS version_b,
          list_filter([
            CASE WHEN ta.store_id IS NULL THEN 'new series' END,
            CASE WHEN tb.store_id IS NULL THEN 'dropped series' END,
            CASE WHEN ta.store_id IS NOT NULL AND tb.store_id IS NOT NULL AND (ta.version IS DISTINCT FROM tb.version OR ta.model IS DISTINCT FROM tb.model) THEN 'new model version' END,
            CASE WHEN sb.selection = 'drift' THEN 'drift' END,
            CASE WHEN $a_end <> $b_end AND ta.store_id IS NOT NULL AND tb.store_id IS NOT NULL THEN 'new data' END,
            CASE WHEN COALESCE(ta.overridden, false) OR COALESCE(tb.overridden, false) THEN 'override' END
          ], x -> x IS NOT NULL) AS reasons
        FROM ta FULL JOIN tb USING (store_id, sku) LEFT JOIN sb ON sb.store_id = COALESCE(ta.store_id, tb.store_id) AND sb.sku = COALESCE(ta.sku, tb.sku))
      SELECT *, CASE WHEN total_a > 0 THEN change / total_a END AS change_pct, count(*) OVER () AS compared, count(*) FILTER (abs(change) > 1e-9) OVER () AS changed,
        (SELECT strftime(min(date), '%Y-%m-%d') FROM common) AS first_date, (SELECT strftime(max(date), '%Y-%m-%d') FROM common) AS last_date
      FROM j ${storeFilter} ORDER BY abs(change) DESC, store_id, sku LIMIT CAST($limit AS BIGINT)`;
    const got = await rows(conn, sql, { ...params, a_end: a.last_date, b_end: b.last_date });
    const first = got[0];
    const why: Record<string, number> = {};
    for (const r of got) for (const reason of r.reasons as string[]) why[reason] = (why[reason] ?? 0) + 1;
    return {
      common_dates: first ? { first: first.first_date, last: first.last_date } : null,
      series_compared: first ? Number(first.compared) : 0,
      series_changed: first ? Number(first.changed) : 0,
      reasons_in_rows: why,
      rows: got.map(({ compared: _c, changed: _ch, first_date: _f, last_date: _l, ...r }) => r),
    };
  });
}
