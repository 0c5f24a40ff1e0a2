import { createHash } from 'node:crypto';
import { constants, copyFileSync, existsSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne, sqlString } from '../db/duckdb.js';
import type { Ingested } from '../ingest/index.js';
import { isoAddDays } from '../ingest/dates.js';
import { sha256File } from '../ingest/fingerprint.js';
import { codeVersion } from '../version.js';
import type { FileEntry } from './manifest.js';

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
    : `grid AS (SELECT sid, unnest(range(greatest(first_t, ${from}), ${ingested.lastT + 1})) AS t FROM series_span),
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
      (SELECT sum(greatest(0, ${lastT + 1} - greatest(first_t, ${from}))) FROM series_span)::DOUBLE AS grid`);
  const { rows, grid } = r.getRowObjectsJS()[0] as { rows: number; grid: number | null };
  return grid !== null && rows === grid;
}

/**
 * What history.parquet is made from, as one checksum: the code and DuckDB that write it (its
 * version and thread count), the window and the gaps setting, and count and sum of row hashes
 * of everything writeHistory reads: the rows of `clean` in the window, each series' first
 * period, the unobserved spans that reach into the window, the series' keys. The same print
 * means the same query over the same rows, so the same bytes. About a second on 59M rows,
 * against several to write the file.
 */
export async function historyPrint(conn: DuckDBConnection, ingested: Ingested, gapsZero: boolean): Promise<string> {
  const from = Math.max(0, ingested.lastT - HISTORY_PERIODS[ingested.freq.name] + 1);
  const sums = (rows: string, of: string): string => `(SELECT count(*) || ':' || COALESCE(sum(hash(${of})), 0) FROM ${rows})`;
  const r = await queryOne<Record<string, string>>(conn, `SELECT
      ${sums(`clean WHERE t BETWEEN ${from} AND ${ingested.lastT}`, 'sid, t, u, signbit(u), unobserved, closed')} AS rows,
      ${sums('series_span', `sid, greatest(first_t, ${from})`)} AS firsts,
      ${sums(`unobserved_spans WHERE t1 >= ${from}`, 'sid, t0, t1, reason')} AS spans,
      ${sums('series', 'sid, store_id, sku')} AS keys,
      version() AS duckdb, current_setting('threads')::VARCHAR AS threads`);
  const what = { file: 'history.parquet', code: codeVersion(), first: ingested.firstDate, step: ingested.freq.days, lastT: ingested.lastT, from, gapsZero, ...r };
  return createHash('sha256').update(JSON.stringify(what)).digest('hex');
}

/**
 * history.parquet into `file`: the previous run's file when its manifest says it was made from
 * the same print (an unchanged feed: two years of every series are not written again), and
 * its bytes still have the checksum that manifest gives; else written anew. Either way the
 * same bytes. Returns the rows and whether the file was copied.
 */
export async function publishHistory(conn: DuckDBConnection, ingested: Ingested, file: string, gapsZero: boolean, print: string, previous: { readonly path: string; readonly entry: FileEntry | undefined } | null): Promise<{ rows: number; reused: boolean }> {
  const entry = previous?.entry;
  if (previous && entry?.print === print && entry.rows !== undefined && existsSync(previous.path)) {
    copyFileSync(previous.path, file, constants.COPYFILE_FICLONE);
    if ((await sha256File(file)) === entry.sha256) return { rows: entry.rows, reused: true };
  }
  return { rows: await writeHistory(conn, ingested, file, gapsZero), reused: false };
}
