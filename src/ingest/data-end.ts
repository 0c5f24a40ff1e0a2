import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne } from '../db/duckdb.js';

/**
 * Where the data set ends, so every series is forecast from the same date. The latest row of
 * any one series is not that date: one stray row dated two months late (a new SKU keyed in
 * early, a mistyped year) would move every other series' end and zero-fill weeks they never
 * reported. The data end is the latest period reached by the series that hold half the sales
 * volume, or by half the series, whichever is later: a feed with one late series keeps its
 * end; a sparse feed whose slow sellers sold nothing on the last days still ends where the
 * fast movers do; a partial last day (some stores delivered, most not) waits for the rest.
 */
export interface DataEnd {
  /** Period index of the data end. */
  readonly t: number;
  /** Latest period any row has; rows after `t` are held back. */
  readonly latestT: number;
}

/** Reads table `clean` (sid, t, u). */
export async function findDataEnd(conn: DuckDBConnection): Promise<DataEnd> {
  const r = await queryOne<{ by_volume: number | null; by_count: number | null; latest: number }>(conn, `
    WITH s AS (SELECT max(t) AS last_t, sum(greatest(u, 0)) AS vol FROM clean GROUP BY sid),
    g AS (SELECT last_t, sum(vol) AS vol, count(*) AS n FROM s GROUP BY last_t),
    c AS (SELECT last_t, sum(vol) OVER (ORDER BY last_t DESC) AS cv, sum(n) OVER (ORDER BY last_t DESC) AS cn FROM g),
    tot AS (SELECT sum(vol) AS v, sum(n) AS n, max(last_t) AS latest FROM g)
    SELECT max(last_t) FILTER (tot.v > 0 AND cv >= 0.5 * tot.v)::INTEGER AS by_volume,
      max(last_t) FILTER (cn >= 0.5 * tot.n)::INTEGER AS by_count, any_value(tot.latest)::INTEGER AS latest
    FROM c, tot`);
  const t = Math.max(r.by_volume ?? -Infinity, r.by_count ?? -Infinity);
  return { t: Number.isFinite(t) ? t : r.latest, latestT: r.latest };
}
