import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputConfig } from '../config/schema.js';
import { UserError, errorMessage } from '../errors.js';
import { queryOne, queryRows, sqlIdent, sqlString } from '../db/duckdb.js';
import { assertInputFile, inferFormat } from './source.js';
import { publishedName } from '../publish/published-paths.js';

/**
 * Known future inputs (`input.future`): the promotions, closures and prices planned per store,
 * SKU and date for the horizon, in one file with the sales input's column names, as
 * statsforecast takes `X_df` and Amazon Forecast related time series. A row with an empty SKU
 * applies to every SKU of its store. Rows outside the horizon, for series the sales data does
 * not have, or with a bad date are counted and left out.
 */
export interface FutureInputs {
  /** Per series id: horizon periods (on the run's grid) planned on promotion. */
  readonly promo: ReadonlyMap<number, Int32Array>;
  /** Per series id: horizon periods the store is closed for it (`open` 0). */
  readonly closed: ReadonlyMap<number, Int32Array>;
  /** Per series id: horizon periods explicitly open (`open` 1), overriding learned closures. */
  readonly open: ReadonlyMap<number, Int32Array>;
  readonly hasPromo: boolean;
  readonly report: FutureReport;
}

export interface FutureReport {
  readonly file: string;
  readonly rows: number;
  readonly used: number;
  readonly outside_horizon: number;
  readonly unknown_series: number;
  readonly bad_date: number;
  readonly promo_periods: number;
  readonly closed_periods: number;
  /** Planned prices are read and counted; no local model uses price yet. */
  readonly price_rows: number;
}

export interface FutureGrid {
  readonly firstDate: string;
  readonly stepDays: 1 | 7;
  /** Data end: the horizon is endT + 1 … endT + horizon. */
  readonly endT: number;
  readonly horizon: number;
}

/** Reads `input.future` against tables `series`; null when no file is configured. */
export async function readFuture(conn: DuckDBConnection, input: InputConfig, grid: FutureGrid): Promise<FutureInputs | null> {
  if (!input.future) return null;
  const path = input.future;
  assertInputFile(path);
  const read = inferFormat(path) === 'parquet' ? `read_parquet(${sqlString(path)})` : `read_csv(${sqlString(path)}, header = true, all_varchar = true)`;
  let cols: string[];
  try {
    cols = (await queryRows<{ column_name: string }>(conn, `SELECT column_name FROM (DESCRIBE SELECT * FROM ${read})`)).map((c) => c.column_name);
  } catch (e) {
    throw new UserError(`input.future ${path}: cannot read it: ${errorMessage(e).split('\n')[0]}`);
  }
  const c = input.columns;
  for (const need of [c.store_id, c.date]) if (!cols.includes(need)) throw new UserError(`input.future ${path}: missing column "${need}"; found ${cols.map((x) => `"${x}"`).join(', ')} (it uses input.columns, like the sales input)`);
  const opt = (role: 'promo' | 'open' | 'price' | 'sku'): string | null => {
    const name = c[role] ?? role;
    return cols.includes(name) ? sqlIdent(name) : null;
  };
  const [sku, promo, open, price] = [opt('sku'), opt('promo'), opt('open'), opt('price')];
  const text = (x: string): string => `NULLIF(trim(CAST(${x} AS VARCHAR)), '')`;
  const date = `COALESCE(TRY_CAST(${sqlIdent(c.date)} AS DATE), TRY_CAST(TRY_CAST(${sqlIdent(c.date)} AS TIMESTAMP) AS DATE))`;
  const day = `(d - DATE ${sqlString(grid.firstDate)})`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE future_rows AS
    SELECT ${text(sqlIdent(c.store_id))} AS store_id, ${sku ? text(sku) : 'NULL'} AS sku, ${date} AS d,
      ${promo ? `TRY_CAST(${promo} AS BOOLEAN)` : 'NULL::BOOLEAN'} AS promo, ${open ? `TRY_CAST(${open} AS BOOLEAN)` : 'NULL::BOOLEAN'} AS open,
      ${price ? `TRY_CAST(${price} AS DOUBLE)` : 'NULL::DOUBLE'} AS price
    FROM ${read}`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE future AS
    SELECT s.sid, (${day} // ${grid.stepDays})::INTEGER AS t, f.promo, f.open, f.price
    FROM future_rows f JOIN series s ON s.store_id = f.store_id AND (f.sku IS NULL OR f.sku = s.sku)
    WHERE f.d IS NOT NULL AND ${day} % ${grid.stepDays} = 0 AND ${day} // ${grid.stepDays} > ${grid.endT} AND ${day} // ${grid.stepDays} <= ${grid.endT + grid.horizon}`);
  const r = await queryOne<{ rows: number; bad: number; outside: number; unknown: number; used: number; price: number }>(conn, `
    SELECT count(*)::INTEGER AS rows, count(*) FILTER (d IS NULL OR ${day} % ${grid.stepDays} <> 0)::INTEGER AS bad,
      count(*) FILTER (d IS NOT NULL AND ${day} % ${grid.stepDays} = 0 AND (${day} // ${grid.stepDays} <= ${grid.endT} OR ${day} // ${grid.stepDays} > ${grid.endT + grid.horizon}))::INTEGER AS outside,
      count(*) FILTER (NOT EXISTS (SELECT 1 FROM series s WHERE s.store_id = f.store_id AND (f.sku IS NULL OR f.sku = s.sku)))::INTEGER AS unknown,
      (SELECT count(*) FROM future)::INTEGER AS used, count(price)::INTEGER AS price
    FROM future_rows f`);
  const rows = await queryRows<{ sid: number; t: number; promo: boolean | null; open: boolean | null }>(conn, `SELECT sid, t, promo, open FROM future ORDER BY sid, t`);
  const add = (m: Map<number, number[]>, sid: number, t: number): void => {
    const list = m.get(sid);
    if (list) list.push(t);
    else m.set(sid, [t]);
  };
  const p = new Map<number, number[]>();
  const shut = new Map<number, number[]>();
  const opened = new Map<number, number[]>();
  for (const x of rows) {
    if (x.promo) add(p, x.sid, x.t);
    if (x.open === false) add(shut, x.sid, x.t);
    if (x.open === true) add(opened, x.sid, x.t);
  }
  const typed = (m: Map<number, number[]>): Map<number, Int32Array> => new Map([...m].map(([k, v]) => [k, Int32Array.from(new Set(v))]));
  const count = (m: Map<number, number[]>): number => [...m.values()].reduce((a, v) => a + v.length, 0);
  return {
    promo: typed(p),
    closed: typed(shut),
    open: typed(opened),
    hasPromo: promo !== null,
    report: { file: publishedName(path), rows: r.rows, used: r.used, outside_horizon: r.outside, unknown_series: r.unknown, bad_date: r.bad, promo_periods: count(p), closed_periods: count(shut), price_rows: r.price },
  };
}
