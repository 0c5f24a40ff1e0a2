import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputConfig, QualityConfig } from '../config/schema.js';
import { sqlIdent, sqlString } from '../db/duckdb.js';
import type { RegisteredSource } from './source.js';
import { dateParser, unitsParser } from './parse.js';

/**
 * No store sells a quadrillion of anything in a period: beyond this a value is a corrupt
 * cell, and sums and squares of it would overflow the models.
 */
const MAX_UNITS = 1e15;

/** Days per partition of the checked history (history-store.ts): small enough that one new day rewrites little. */
export const PARTITION_DAYS = 28;

/** The rules a row breaks because of the as-of date or the negative-units setting: re-judged on stored rows, whose typed values they need only. */
const LATE_RULES = ['future_date:date', 'negative_units:units'];

export interface RowRules {
  /** How dates were read, for quality.json. */
  readonly dateRule: string;
  /**
   * SELECT of every source row (optionally filtered) typed, with its string keys, partition
   * and the first rule it breaks: src_row, store_id, sku, d, day, part, u, stockout, promo,
   * price, closed, rule.
   */
  typed(where?: string): string;
  /** The rules LATE_RULES name, as a CASE over columns d and u (NULL when neither applies). */
  readonly lateRule: string;
  /** A condition over columns day and u true of every row lateRule names a rule for (plain comparisons, which a Parquet scan can test as it reads). */
  readonly lateCandidate: string;
  /** The key expressions over `src`. */
  readonly store: string;
  readonly sku: string;
}

/**
 * The rules one row can break on its own, as SQL over the view `src`. Partition -1 holds the
 * rows without both keys and a date: rows that no later run can find again by their key.
 */
export async function rowRules(conn: DuckDBConnection, source: RegisteredSource, input: InputConfig, q: QualityConfig, asOf: string): Promise<RowRules> {
  const c = source.columns;
  const col = (role: 'promo' | 'stockout' | 'price' | 'open'): string | null => (c[role] ? sqlIdent(c[role] as string) : null);
  const stockout = col('stockout');
  const promo = col('promo');
  const price = col('price');
  const open = col('open');
  const flag = (x: string | null): string => (x ? `TRY_CAST(${x} AS BOOLEAN)` : 'NULL::BOOLEAN');
  const flagBad = (x: string | null, name: string): string =>
    x ? `WHEN ${x} IS NOT NULL AND trim(CAST(${x} AS VARCHAR)) <> '' AND TRY_CAST(${x} AS BOOLEAN) IS NULL THEN 'bad_flag:${name}'` : '';
  const date = await dateParser(conn, source, input);
  const units = await unitsParser(conn, source, input.csv);
  // CSV fields are trimmed (exports pad them); typed sources are taken as they are.
  const key = (x: string): string => (source.format === 'csv' ? `NULLIF(trim(${sqlIdent(x)}), '')` : `NULLIF(CAST(${sqlIdent(x)} AS VARCHAR), '')`);
  const lateRule = `CASE ${q.futureDates === 'reject' ? `WHEN d > DATE ${sqlString(asOf)} THEN '${LATE_RULES[0]}'` : ''} ${q.negativeUnits === 'reject' ? `WHEN u < 0 THEN '${LATE_RULES[1]}'` : ''} ELSE NULL END`;
  const typed = (where?: string): string => `
    WITH raw AS (
      SELECT src_row, ${key(c.store_id)} AS store_id, ${key(c.sku)} AS sku, ${date.expr} AS d, ${units} AS u,
        COALESCE(${flag(stockout)}, false) AS stockout,
        ${flag(promo)} AS promo,
        ${price ? `TRY_CAST(${price} AS DOUBLE)` : 'NULL::DOUBLE'} AS price,
        COALESCE(NOT ${flag(open)}, false) AS closed,
        ${stockout ?? 'NULL'} AS stockout_raw, ${promo ?? 'NULL'} AS promo_raw, ${open ?? 'NULL'} AS open_raw
      FROM src),
    keyed AS (
      SELECT *, (d - DATE '1970-01-01')::INTEGER AS day,
        CASE WHEN store_id IS NULL OR sku IS NULL OR d IS NULL THEN -1 ELSE floor((d - DATE '1970-01-01') / ${PARTITION_DAYS})::INTEGER END AS part
      FROM raw)
    SELECT src_row, store_id, sku, d, day, part, u, stockout, promo, price, closed,
      CASE
        WHEN store_id IS NULL THEN 'missing_key:store_id'
        WHEN sku IS NULL THEN 'missing_key:sku'
        WHEN d IS NULL THEN 'bad_date:date'
        WHEN u IS NULL OR isnan(u) OR isinf(u) OR abs(u) > ${MAX_UNITS} THEN 'bad_units:units'
        ${flagBad(stockout ? 'stockout_raw' : null, 'stockout')}
        ${flagBad(promo ? 'promo_raw' : null, 'promo')}
        ${flagBad(open ? 'open_raw' : null, 'open')}
        ELSE ${lateRule}
      END AS rule
    FROM keyed ${where ? `WHERE ${where}` : ''}`;
  const late = [...(q.futureDates === 'reject' ? [`day > (DATE ${sqlString(asOf)} - DATE '1970-01-01')::INTEGER`] : []), ...(q.negativeUnits === 'reject' ? ['u < 0'] : [])];
  const lateCandidate = late.length > 0 ? late.join(' OR ') : 'false';
  return { dateRule: date.rule, typed, lateRule, lateCandidate, store: key(c.store_id), sku: key(c.sku) };
}

/** A stored rule with the late rules judged again (the as-of date moves every day). */
export function rejudged(rules: RowRules, rule = 'rule'): string {
  return `CASE WHEN ${rule} IS NULL OR ${rule} IN (${LATE_RULES.map(sqlString).join(', ')}) THEN ${rules.lateRule} ELSE ${rule} END`;
}

/**
 * Tables `series` (every (store, SKU) pair named by any row, numbered in key order) and
 * `checked` (every source row, typed, keyed by series id, with the first rule it breaks or
 * NULL), in one parallel pass over the source.
 */
export async function checkRows(conn: DuckDBConnection, rules: RowRules): Promise<void> {
  // Series ids first: every later table carries the integer id instead of two strings per row.
  await numberSeries(conn, `(SELECT DISTINCT ${rules.store} AS store_id, ${rules.sku} AS sku FROM src)`);
  // Raw text is not kept: rejected rows are joined back to `src` for reporting.
  await conn.run(`CREATE OR REPLACE TEMP TABLE checked AS
    SELECT t.src_row, s.sid, t.d, t.day, t.u, t.stockout, t.promo, t.price, t.closed, t.rule
    FROM (${rules.typed()}) t LEFT JOIN series s USING (store_id, sku)`);
}

/** Table `series` from distinct (store_id, sku) pairs: ids 0..n−1 in key order. */
export async function numberSeries(conn: DuckDBConnection, keys: string): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE series AS
    SELECT (row_number() OVER (ORDER BY store_id, sku) - 1)::INTEGER AS sid, store_id, sku FROM ${keys} WHERE store_id IS NOT NULL AND sku IS NOT NULL`);
}
