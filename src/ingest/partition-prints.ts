import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../db/duckdb.js';
import { PARTITION_DAYS, type RowRules } from './row-rules.js';

/**
 * A fingerprint of one partition of a feed (the rows of PARTITION_DAYS consecutive days): its
 * row count, the sum of a hash of each row's typed values (what the row rules made of it, so
 * equal prints mean equal checked rows), and the same sum with each row's position in the
 * source, which says whether stored row numbers still point at the same rows. Sums, not a
 * hash of the rows in order, so the order of the rows within a file does not matter.
 */
export interface PartPrint {
  readonly rows: number;
  readonly h: string;
  readonly hp: string;
}

/** Prints by partition number; partition -1 (rows without keys or date) has only its count. */
export type FeedPrints = Readonly<Record<string, PartPrint>>;

/** The as-of date and units sign decide these rules again on every run, so they are not part of a row's identity. */
const stableRule = `CASE WHEN rule IN ('future_date:date', 'negative_units:units') THEN NULL ELSE rule END`;

/** Hash of a typed row whose series is hashed as `sh` = hash(store_id, sku). */
export const ROW_HASH = `hash(sh, day, u, stockout, promo, price, closed, ${stableRule})`;

async function prints(conn: DuckDBConnection, rows: string): Promise<FeedPrints> {
  const r = await queryRows<{ part: number; rows: number; h: string | null; hp: string | null }>(conn, `
    SELECT part, count(*)::DOUBLE AS rows, sum(h)::VARCHAR AS h, sum(hash(h, src_row))::VARCHAR AS hp
    FROM (SELECT part, src_row, CASE WHEN part < 0 THEN NULL ELSE ${ROW_HASH} END AS h FROM (${rows})) GROUP BY part`);
  return Object.fromEntries(r.map((p) => [String(p.part), { rows: p.rows, h: p.h ?? '', hp: p.hp ?? '' }]));
}

/** Prints of the source `src` as the row rules type it. */
export function printSource(conn: DuckDBConnection, rules: RowRules): Promise<FeedPrints> {
  return prints(conn, `SELECT *, hash(store_id, sku) AS sh FROM (${rules.typed()})`);
}

/** Prints of the table `checked` (ingest of the whole source), the same numbers printSource gives for it. */
export function printChecked(conn: DuckDBConnection): Promise<FeedPrints> {
  return prints(conn, `SELECT c.*, ${partOf('c')} AS part, k.sh FROM checked c LEFT JOIN (SELECT sid, hash(store_id, sku) AS sh FROM series) k USING (sid)`);
}

/** The partition of a row of `checked` (alias a). */
export function partOf(a: string): string {
  return `CASE WHEN ${a}.sid IS NULL OR ${a}.d IS NULL THEN -1 ELSE floor(${a}.day / ${PARTITION_DAYS})::INTEGER END`;
}
