import type { DuckDBConnection } from '@duckdb/node-api';
import type { QualityConfig } from '../config/schema.js';
import { queryOne } from '../db/duckdb.js';

/**
 * Values no series could have sold: more than `factor` times the series' usual highs. "Usual
 * highs" is its 99th-percentile positive value (the 25th largest for very long series), and
 * never the value being judged (the second largest at least), so one 1,000,000 among days of ~20 cannot vouch for itself while a real
 * peak (Christmas, Black Friday, a promotion) sits well within ten times the series' other
 * peaks. Series with fewer than MIN_POSITIVE sales are not judged: there is no "usual" yet.
 *
 * Reads and updates `clean`; writes `outlier_rows (sid, t, src_row, u, bound)`.
 */
const MIN_POSITIVE = 5;
/** The "usual high" is at most this many values from the top: the 99th percentile up to 2,400 positive periods, then the 25th largest. */
const TOP = 25;

export async function findOutliers(conn: DuckDBConnection, q: QualityConfig['outliers']): Promise<number> {
  const f = q.factor;
  // One pass with a small heap per series (its TOP largest values), no sort of any series.
  await conn.run(`CREATE OR REPLACE TEMP TABLE outlier_rows AS
    WITH s AS (
      SELECT sid, max(u, ${TOP}) AS top, count(*) FILTER (u > 0) AS npos
      FROM clean WHERE NOT unobserved AND NOT closed GROUP BY sid),
    bounds AS (
      SELECT sid, ${f} * list_extract(top, least(greatest(2, ceil(0.01 * npos)::INTEGER + 1), ${TOP})) AS bound, top[1] AS mx
      FROM s WHERE npos >= ${MIN_POSITIVE}),
    hit AS (SELECT sid, bound FROM bounds WHERE mx > bound AND bound > 0)
    SELECT c.sid, c.t, c.src_row, c.u, h.bound FROM clean c JOIN hit h USING (sid) WHERE c.u > h.bound AND NOT c.unobserved AND NOT c.closed`);
  const n = (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM outlier_rows`)).n;
  if (n === 0 || q.action === 'keep') return n;
  if (q.action === 'cap') {
    await conn.run(`UPDATE clean SET u = o.bound FROM outlier_rows o WHERE clean.sid = o.sid AND clean.t = o.t`);
  } else {
    await conn.run(`DELETE FROM clean USING outlier_rows o WHERE clean.sid = o.sid AND clean.t = o.t`);
  }
  return n;
}
