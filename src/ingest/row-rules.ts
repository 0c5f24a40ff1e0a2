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

/**
 * The rules one row can break on its own, in one parallel pass: tables `series` (every
 * (store, SKU) pair named by any row, numbered in key order) and `checked` (every source row,
 * typed, keyed by series id, with the first rule it breaks or NULL).
 */
export async function checkRows(conn: DuckDBConnection, source: RegisteredSource, input: InputConfig, q: QualityConfig, asOf: string): Promise<{ dateRule: string }> {
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

  // Series ids first: every later table carries the integer id instead of two strings per row.
  // CSV fields are trimmed (exports pad them); typed sources are taken as they are.
  const key = (x: string): string => (source.format === 'csv' ? `NULLIF(trim(${sqlIdent(x)}), '')` : `NULLIF(CAST(${sqlIdent(x)} AS VARCHAR), '')`);
  const storeExpr = key(c.store_id);
  const skuExpr = key(c.sku);
  await conn.run(`CREATE OR REPLACE TEMP TABLE series AS
    SELECT (row_number() OVER (ORDER BY store_id, sku) - 1)::INTEGER AS sid, store_id, sku
    FROM (SELECT DISTINCT ${storeExpr} AS store_id, ${skuExpr} AS sku FROM src) WHERE store_id IS NOT NULL AND sku IS NOT NULL`);

  // Raw text is not kept: rejected rows are joined back to `src` for reporting.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE checked AS
    WITH typed AS (
      SELECT src_row, ${storeExpr} AS store_id, ${skuExpr} AS sku, ${date.expr} AS d, ${units} AS u,
        COALESCE(${flag(stockout)}, false) AS stockout,
        ${flag(promo)} AS promo,
        ${price ? `TRY_CAST(${price} AS DOUBLE)` : 'NULL::DOUBLE'} AS price,
        COALESCE(NOT ${flag(open)}, false) AS closed,
        ${stockout ?? 'NULL'} AS stockout_raw, ${promo ?? 'NULL'} AS promo_raw, ${open ?? 'NULL'} AS open_raw
      FROM src)
    SELECT src_row, s.sid, d, (d - DATE '1970-01-01')::INTEGER AS day, u, stockout, promo, price, closed,
      CASE
        WHEN typed.store_id IS NULL THEN 'missing_key:store_id'
        WHEN typed.sku IS NULL THEN 'missing_key:sku'
        WHEN d IS NULL THEN 'bad_date:date'
        WHEN u IS NULL OR isnan(u) OR isinf(u) OR abs(u) > ${MAX_UNITS} THEN 'bad_units:units'
        ${flagBad(stockout ? 'stockout_raw' : null, 'stockout')}
        ${flagBad(promo ? 'promo_raw' : null, 'promo')}
        ${flagBad(open ? 'open_raw' : null, 'open')}
        ${q.futureDates === 'reject' ? `WHEN d > DATE ${sqlString(asOf)} THEN 'future_date:date'` : ''}
        ${q.negativeUnits === 'reject' ? `WHEN u < 0 THEN 'negative_units:units'` : ''}
      END AS rule
    FROM typed LEFT JOIN series s USING (store_id, sku)`);
  return { dateRule: date.rule };
}
