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

/** What a period of history.parquet was, as the forecast saw it. */
export const HISTORY_STATES = ['observed', 'gap', 'stockout', 'closed', 'unobserved'] as const;

/**
 * Write the recent, cleaned history of every series to Parquet, every period from the series'
 * first (within the window kept) to the data's end, so a run folder is self-contained: the API
 * and the planner page show what the forecast was fitted on without the source file. `state`
 * says what each period was: `observed` (a row, its units as cleaned), `gap` (no row: units 0
 * with `quality.gaps` zero, null with missing), `stockout` (demand not observed; units as
 * sold), `closed` (the input's `open` was 0), `unobserved` (an outage, a missing store's
 * latest periods or a rejected outlier, named by `reason`; units null). `stockout` is kept as
 * a boolean column for readers of earlier runs.
 */
export async function writeHistory(conn: DuckDBConnection, ingested: Ingested, file: string, gapsZero = true): Promise<number> {
  const keep = HISTORY_PERIODS[ingested.freq.name];
  const from = Math.max(0, ingested.lastT - keep + 1);
  const step = ingested.freq.days;
  // Most feeds have a row for every period of the window: then those rows are the grid, and the
  // join that finds the gaps (a third of the time on 22M rows) is left out. The same rows either way.
  const state = "CASE WHEN sp.reason IS NOT NULL THEN 'unobserved' WHEN c.t IS NULL THEN 'gap' WHEN c.closed THEN 'closed' WHEN c.unobserved THEN 'stockout' ELSE 'observed' END AS state";
  const spans = `spans AS (SELECT sid, t, min(reason) AS reason FROM (SELECT sid, unnest(range(t0, t1 + 1)) AS t, reason FROM unobserved_spans WHERE t1 >= ${from}) GROUP BY ALL)`;
  const marked = (await gaplessWindow(conn, from, ingested.lastT))
    ? `marked AS (
      SELECT c.sid, c.t, c.u, sp.reason, ${state}
      FROM clean c LEFT JOIN spans sp ON sp.sid = c.sid AND sp.t = c.t WHERE c.t BETWEEN ${from} AND ${ingested.lastT})`
    : `first AS (SELECT sid, min(t) AS t0 FROM clean GROUP BY sid),
    grid AS (SELECT sid, unnest(range(greatest(t0, ${from}), ${ingested.lastT + 1})) AS t FROM first),
    marked AS (
      SELECT g.sid, g.t, c.u, sp.reason, ${state}
      FROM grid g LEFT JOIN clean c ON c.sid = g.sid AND c.t = g.t LEFT JOIN spans sp ON sp.sid = g.sid AND sp.t = g.t)`;
  const sql = `
    WITH ${spans},
    ${marked}
    SELECT s.store_id, s.sku, (DATE ${sqlString(ingested.firstDate)} + (m.t * ${step})::INTEGER) AS date,
      CASE m.state WHEN 'unobserved' THEN NULL WHEN 'gap' THEN ${gapsZero ? '0' : 'NULL'} ELSE m.u END::DOUBLE AS units,
      m.state = 'stockout' AS stockout, m.state, m.reason
    FROM marked m JOIN series s USING (sid) ORDER BY m.sid, m.t`;
  await conn.run(`COPY (${sql}) TO ${sqlString(file)} (FORMAT parquet, COMPRESSION zstd)`);
  const r = await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(file)})`);
  return r.getRowObjectsJS()[0].n as number;
}

/**
 * Whether every series has a row in `clean` for each period from its first (within the window)
 * to the data end: (sid, t) is unique in `clean`, so equal counts mean no period is missing.
 */
async function gaplessWindow(conn: DuckDBConnection, from: number, lastT: number): Promise<boolean> {
  const r = await conn.runAndReadAll(`
    SELECT (SELECT count(*) FROM clean WHERE t BETWEEN ${from} AND ${lastT})::DOUBLE AS rows,
      (SELECT sum(greatest(0, ${lastT + 1} - greatest(t0, ${from}))) FROM (SELECT min(t) AS t0 FROM clean GROUP BY sid))::DOUBLE AS grid`);
  const { rows, grid } = r.getRowObjectsJS()[0] as { rows: number; grid: number | null };
  return grid !== null && rows === grid;
}
