import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import type { Ingested } from '../ingest/index.js';
import { isoAddDays } from '../ingest/dates.js';

/** Periods of history published with a run: enough for a planner's chart and two seasons of context. */
const HISTORY_PERIODS = { day: 730, week: 104 } as const;

/** Date of the first period published in history.parquet. */
export function historyStart(ingested: Ingested): string {
  const from = Math.max(0, ingested.lastT - HISTORY_PERIODS[ingested.freq.name] + 1);
  return isoAddDays(ingested.firstDate, from * ingested.freq.days);
}

/**
 * Write the recent, cleaned history of every series (after the quality rules, gaps filled as
 * configured, stock-out periods flagged) to Parquet, so a run folder is self-contained: the
 * API and the planner page show what the forecast was fitted on without the source file.
 */
export async function writeHistory(conn: DuckDBConnection, ingested: Ingested, file: string): Promise<number> {
  const keep = HISTORY_PERIODS[ingested.freq.name];
  const from = Math.max(0, ingested.lastT - keep + 1);
  const step = ingested.freq.days;
  const sql = `
    SELECT store_id, sku, (DATE ${sqlString(ingested.firstDate)} + (t * ${step})::INTEGER) AS date, u AS units, unobserved AS stockout
    FROM clean_keyed WHERE t >= ${from} ORDER BY sid, t`;
  await conn.run(`COPY (${sql}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
  const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)})`);
  return r.getRowObjectsJS()[0].n as number;
}
