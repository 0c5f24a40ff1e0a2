import type { DuckDBConnection } from '@duckdb/node-api';
import type { QualityConfig } from '../config/schema.js';
import { queryOne } from '../db/duckdb.js';

/**
 * Values no series could have sold: more than `factor` times the series' usual highs. "Usual
 * highs" is its 99th-percentile positive value, and never the value being judged (the second
 * largest at least), so one 1,000,000 among days of ~20 cannot vouch for itself while a real
 * peak (Christmas, Black Friday, a promotion) sits well within ten times the series' other
 * peaks. Series with fewer than MIN_POSITIVE sales are not judged: there is no "usual" yet.
 *
 * Reads and updates `clean`; writes `outlier_rows (sid, t, src_row, u, bound)`.
 */
const MIN_POSITIVE = 5;

export async function findOutliers(conn: DuckDBConnection, q: QualityConfig['outliers']): Promise<number> {
  const f = q.factor;
  // A cheap filter first: a series whose maximum is not `factor` times the mean of its other
  // values has no outlier, and most series are ruled out without sorting their values.
  await conn.run(`CREATE OR REPLACE TEMP TABLE outlier_rows AS
    WITH s AS (
      SELECT sid, max(u) AS mx, sum(u) AS su, count(*) AS n, count(*) FILTER (u > 0) AS npos
      FROM clean WHERE NOT unobserved AND NOT closed GROUP BY sid),
    cand AS (SELECT sid, npos FROM s WHERE npos >= ${MIN_POSITIVE} AND (NOT isfinite(su) OR mx > ${f} * (su - mx) / (n - 1))),
    ranked AS (
      SELECT c.sid, c.u, k.npos, row_number() OVER (PARTITION BY c.sid ORDER BY c.u DESC) AS r
      FROM clean c JOIN cand k USING (sid) WHERE c.u > 0 AND NOT c.unobserved AND NOT c.closed),
    bounds AS (
      SELECT sid, ${f} * max(u) FILTER (r = greatest(2, ceil(0.01 * npos)::INTEGER + 1)) AS bound FROM ranked GROUP BY sid)
    SELECT c.sid, c.t, c.src_row, c.u, b.bound FROM clean c JOIN bounds b USING (sid) WHERE c.u > b.bound AND NOT c.unobserved AND NOT c.closed`);
  const n = (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM outlier_rows`)).n;
  if (n === 0 || q.action === 'keep') return n;
  if (q.action === 'cap') {
    await conn.run(`UPDATE clean SET u = o.bound FROM outlier_rows o WHERE clean.sid = o.sid AND clean.t = o.t`);
  } else {
    await conn.run(`DELETE FROM clean USING outlier_rows o WHERE clean.sid = o.sid AND clean.t = o.t`);
  }
  return n;
}
