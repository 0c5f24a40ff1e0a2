import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne, queryRows } from '../db/duckdb.js';

/**
 * Which missing periods are sales of zero and which were never reported. A period with no row
 * is a gap (`quality.gaps` decides: zero sales by default). Three kinds of missing periods are
 * unobserved instead, written to `unobserved_spans (sid, t0, t1, reason)` for the series reader:
 * - an **outage**: a run of at least `minPeriods` that the series' own row rate cannot explain
 *   (a run that long has a chance below 1e-6 if rows go missing independently) and that is not
 *   a seasonal absence (the same periods a cycle earlier or later had rows, where the history
 *   reaches): a feed that lost half a year of a store, not a department that only sells in
 *   summer;
 * - the latest periods of every series of a **missing store**: a store with no row at the data
 *   end, though it had rows at the same point of the week (daily data) or in the weeks before;
 * A series whose own rows stop before the data end (its store still reporting) is most often
 * delisted: its missing periods stay gaps, and it is reported as ending early.
 * Rejected outliers add a span of their own period.
 * Reads `clean` and `series_span` (quality.ts: each series' first and last period and rows).
 */
export interface MissingPeriods {
  readonly gaps: { readonly periods: number; readonly series: number };
  readonly outages: { readonly runs: number; readonly periods: number; readonly series: number };
  readonly missingStores: readonly string[];
  /** Series whose rows end before the data end by at least `minPeriods`, with how each was treated. */
  readonly endingEarly: readonly { readonly sid: number; readonly lastT: number; readonly storeMissing: boolean }[];
}

export interface MissingOptions {
  readonly endT: number;
  readonly minPeriods: number;
  /** Periods per longest seasonal cycle (52 weeks, 365 days). */
  readonly cycle: number;
  /** Periods between comparable points of the week (7 for daily data, 1 for weekly). */
  readonly weekStep: number;
  /** Rejected outliers' periods are unobserved too. */
  readonly outlierSpans: boolean;
}

/** Chance below which a run of missing rows is not bad luck. */
const IMPLAUSIBLE = Math.log(1e-6);

export async function classifyMissing(conn: DuckDBConnection, o: MissingOptions): Promise<MissingPeriods> {
  const { endT, minPeriods: min, cycle } = o;
  const usual = [1, 2, 3, 4].map((k) => endT - k * o.weekStep).join(', ');
  await conn.run(`CREATE OR REPLACE TEMP TABLE missing_stores AS
    WITH st AS (SELECT DISTINCT s.store_id, c.t FROM clean c JOIN series s USING (sid) WHERE c.t >= ${endT - 4 * o.weekStep})
    SELECT store_id FROM st GROUP BY store_id HAVING NOT bool_or(t = ${endT}) AND count(*) FILTER (t IN (${usual})) >= 3`);
  // Runs of missing periods, only in series that have some (the window is the costly part).
  await conn.run(`CREATE OR REPLACE TEMP TABLE missing_runs AS
    WITH holed AS (SELECT sid FROM series_span WHERE n < ${endT} - first_t + 1),
    r AS (SELECT sid, t, lag(t) OVER (PARTITION BY sid ORDER BY t) AS prev FROM clean WHERE sid IN (SELECT sid FROM holed))
    SELECT sid, prev + 1 AS t0, t - 1 AS t1, false AS at_end FROM r WHERE t - prev > 1
    UNION ALL SELECT sid, last_t + 1, ${endT}, true FROM series_span WHERE last_t < ${endT}`);
  // Long, implausible runs, then the seasonal check on their periods.
  await conn.run(`CREATE OR REPLACE TEMP TABLE long_runs AS
    SELECT m.sid, m.t0, m.t1, m.at_end FROM missing_runs m JOIN series_span s USING (sid)
    WHERE m.t1 - m.t0 + 1 >= ${min}
      AND NOT m.at_end AND (m.t1 - m.t0 + 1) * ln(greatest(1 - s.n / (${endT} - s.first_t + 1), 1e-300)) < ${IMPLAUSIBLE}`);
  // Most data sets have no long run at all; then the seasonal check, which probes `clean`,
  // must cost nothing. Otherwise it reads only the rows of the series concerned.
  const anyLong = (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM long_runs`)).n > 0;
  await conn.run(anyLong ? `CREATE OR REPLACE TEMP TABLE outage_runs AS
    WITH p AS (SELECT sid, t0, t1, unnest(range(t0, t1 + 1)) AS t FROM long_runs),
    rows AS (SELECT sid, t FROM clean WHERE sid IN (SELECT sid FROM long_runs)),
    seen AS (
      SELECT p.sid, p.t0, p.t1,
        count(*) FILTER ((p.t - ${cycle} >= s.first_t) OR (p.t + ${cycle} <= ${endT})) AS comparable,
        count(*) FILTER (b.t IS NOT NULL OR a.t IS NOT NULL) AS matched
      FROM p JOIN series_span s USING (sid)
      LEFT JOIN rows b ON b.sid = p.sid AND b.t = p.t - ${cycle}
      LEFT JOIN rows a ON a.sid = p.sid AND a.t = p.t + ${cycle}
      GROUP BY ALL)
    SELECT sid, t0, t1 FROM seen WHERE comparable = 0 OR matched >= 0.5 * comparable` : `CREATE OR REPLACE TEMP TABLE outage_runs (sid INTEGER, t0 INTEGER, t1 INTEGER)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE unobserved_spans AS
    SELECT sid, t0, t1, 'outage' AS reason FROM outage_runs
    UNION ALL SELECT m.sid, m.t0, m.t1, 'store missing' FROM missing_runs m JOIN series s USING (sid)
      WHERE m.at_end AND s.store_id IN (SELECT store_id FROM missing_stores)
    ${o.outlierSpans ? `UNION ALL SELECT sid, t, t, 'outlier' FROM outlier_rows` : ''}`);

  const gaps = await queryOne<{ periods: number; series: number }>(conn, `
    WITH g AS (SELECT m.sid, m.t1 - m.t0 + 1 AS len FROM missing_runs m
      WHERE NOT EXISTS (SELECT 1 FROM unobserved_spans u WHERE u.sid = m.sid AND u.t0 = m.t0 AND u.reason <> 'outlier'))
    SELECT COALESCE(sum(len), 0)::DOUBLE AS periods, count(DISTINCT sid)::INTEGER AS series FROM g`);
  const outages = await queryOne<{ runs: number; periods: number; series: number }>(conn, `
    SELECT count(*)::INTEGER AS runs, COALESCE(sum(t1 - t0 + 1), 0)::DOUBLE AS periods, count(DISTINCT sid)::INTEGER AS series FROM unobserved_spans WHERE reason = 'outage'`);
  const stores = await queryRows<{ store_id: string }>(conn, `SELECT store_id FROM missing_stores ORDER BY store_id`);
  const early = await queryRows<{ sid: number; last_t: number; reason: string | null }>(conn, `
    SELECT s.sid, s.last_t, u.reason FROM series_span s LEFT JOIN unobserved_spans u ON u.sid = s.sid AND u.t1 = ${endT} AND u.reason <> 'outlier'
    WHERE s.last_t < ${endT} AND (${endT} - s.last_t >= ${min} OR u.reason IS NOT NULL) ORDER BY s.sid`);
  return {
    gaps: { periods: Number(gaps.periods), series: gaps.series },
    outages: { runs: outages.runs, periods: Number(outages.periods), series: outages.series },
    missingStores: stores.map((s) => s.store_id),
    endingEarly: early.map((e) => ({ sid: e.sid, lastT: e.last_t, storeMissing: e.reason === 'store missing' })),
  };
}
