import { z } from 'zod';
import { sqlString } from '../db/duckdb.js';
import { IsoDate } from '../iso-date.js';
import { csvField, formatNumber } from '../publish/format.js';
import type { QueryEngine } from './db.js';
import { HttpError } from './http-error.js';

/**
 * Forecast rows filtered and paged by DuckDB straight from a run's forecasts.parquet. Pages
 * use a keyset cursor (the last store, SKU and date returned), so page 500 of a large run
 * costs the same as page 1 and no row is skipped or repeated. Client values only ever reach
 * SQL as bound parameters.
 */

export interface ForecastFilter {
  readonly store?: string;
  readonly sku?: string;
  readonly from?: string;
  readonly to?: string;
}

/** The sort key of the last row of a page; the next page starts after it. */
export interface PageKey {
  readonly store: string;
  readonly sku: string;
  readonly date: string;
}

export interface ForecastPage {
  readonly columns: string[];
  readonly rows: Record<string, unknown>[];
  readonly next: PageKey | null;
}

export async function forecastPage(db: QueryEngine, parquet: string, f: ForecastFilter, after: PageKey | null, limit: number): Promise<ForecastPage> {
  const where: string[] = [];
  const params: Record<string, string | number> = { limit: limit + 1 };
  if (f.store !== undefined) { where.push('store_id = $store'); params.store = f.store; }
  if (f.sku !== undefined) { where.push('sku = $sku'); params.sku = f.sku; }
  if (f.from !== undefined) { where.push('date >= CAST($from AS DATE)'); params.from = f.from; }
  if (f.to !== undefined) { where.push('date <= CAST($to AS DATE)'); params.to = f.to; }
  if (after) {
    where.push('(store_id, sku, date) > ($after_store, $after_sku, CAST($after_date AS DATE))');
    Object.assign(params, { after_store: after.store, after_sku: after.sku, after_date: after.date });
  }
  const sql = `SELECT * FROM read_parquet(${sqlString(parquet)})
    ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY store_id, sku, date LIMIT CAST($limit AS BIGINT)`;
  const reader = await db.with((conn) => conn.runAndReadAll(sql, params));
  const rows = reader.getRowObjectsJson() as Record<string, unknown>[];
  const more = rows.length > limit;
  if (more) rows.length = limit;
  const last = rows[rows.length - 1];
  return {
    columns: reader.columnNames(),
    rows,
    next: more ? { store: String(last.store_id), sku: String(last.sku), date: String(last.date) } : null,
  };
}

/**
 * A cursor names its run, so a page of one run is never continued in another. Its date reaches
 * SQL as a DATE cast, so a tampered one is refused here rather than failing in DuckDB.
 */
const CursorSchema = z.tuple([z.string(), z.string(), z.string(), IsoDate]);

export function encodeCursor(runId: string, key: PageKey): string {
  return Buffer.from(JSON.stringify([runId, key.store, key.sku, key.date])).toString('base64url');
}

export function decodeCursor(cursor: string, runId: string): PageKey {
  let parsed: z.infer<typeof CursorSchema>;
  try {
    parsed = CursorSchema.parse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
  } catch {
    throw new HttpError(400, 'cursor: not a cursor this server issued; use next_cursor from the previous page');
  }
  const [run, store, sku, date] = parsed;
  if (run !== runId) throw new HttpError(409, `cursor belongs to run ${run}, not ${runId}; continue with /runs/${run}/forecasts`);
  return { store, sku, date };
}

function csvLine(columns: readonly string[], row: Record<string, unknown>): string {
  return columns
    .map((k) => {
      const v = row[k];
      return v === null || v === undefined ? '' : typeof v === 'number' ? formatNumber(v) : csvField(String(v));
    })
    .join(',');
}

/** Every matching row as CSV text, one page at a time. */
export async function* forecastCsv(db: QueryEngine, parquet: string, f: ForecastFilter, pageSize = 5000): AsyncGenerator<string> {
  let after: PageKey | null = null;
  let header = true;
  do {
    const page: ForecastPage = await forecastPage(db, parquet, f, after, pageSize);
    const lines = page.rows.map((r) => csvLine(page.columns, r));
    if (header) lines.unshift(page.columns.join(','));
    header = false;
    if (lines.length) yield lines.join('\n') + '\n';
    after = page.next;
  } while (after);
}
