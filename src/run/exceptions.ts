import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne, sqlString } from '../db/duckdb.js';
import { artifactPath, textColumns } from '../publish/artifacts.js';
import { readPublishedCsv, sqlCsvText } from '../publish/csv-sql.js';
import { quantileColumn } from '../publish/format.js';
import type { RunManifest } from '../publish/manifest.js';

/**
 * exceptions.csv: the series a planner should look at, one row per series and reason, ranked by
 * impact = units × error, where units are the series' forecast over the horizon (for a change,
 * the larger of this run's and the previous run's) and error is a share:
 *
 * | reason | when | error |
 * |---|---|---|
 * | `drift` | `monitor` flagged the series (state.duckdb) | its WAPE over the last K periods (at least 0.1) |
 * | `bias` | over the last K periods the forecast was ≥ 20 % above or below what sold (≥ 4 periods) | abs(Σ forecast − Σ actual) / Σ actual |
 * | `change` | this run's horizon total differs by ≥ 30 % from the previous run's on the same dates | abs(new − old) / max(old, new) |
 * | `fallback` | the chosen models failed and seasonal naive or a median stood in | 1 |
 * | `cold_start` | too little history for a backtest (no MASE), or a series the previous run did not have | 1 |
 * | `interval_miss` | over the last K periods, more than half of what sold fell outside the previous run's p10–p90 band (≥ 4 periods) | share outside |
 *
 * The last K periods (K = the horizon) are judged on the previous published run's forecasts
 * where it forecast them and actuals have since arrived, else on the newest backtest window.
 */

export const EXCEPTION_REASONS = ['drift', 'bias', 'change', 'fallback', 'cold_start', 'interval_miss'] as const;
export type ExceptionReason = (typeof EXCEPTION_REASONS)[number];

const BIAS_SHARE = 0.2;
const CHANGE_SHARE = 0.3;
const MISS_SHARE = 0.5;
const MIN_POINTS = 4;

export const EXCEPTION_COLUMNS = ['rank', 'store_id', 'sku', 'reason', 'impact', 'units', 'error', 'detail'];

/** The published quantile levels nearest p10 and p90 (null: the run has no band). */
export function bandLevels(levels: readonly number[]): { lower: string; upper: string } | null {
  const nearest = (target: number, side: (l: number) => boolean) => levels.filter(side).sort((a, b) => Math.abs(a - target) - Math.abs(b - target))[0];
  const lo = nearest(0.1, (l) => l < 0.5);
  const hi = nearest(0.9, (l) => l > 0.5);
  return lo === undefined || hi === undefined ? null : { lower: quantileColumn(lo), upper: quantileColumn(hi) };
}

export interface PreviousRun {
  readonly dir: string;
  readonly manifest: RunManifest;
}

/**
 * Write `staging`/exceptions.csv from the staged forecasts, series, history and backtest files,
 * the previous published run (if any) and the drift flags; returns its row count.
 */
export async function writeExceptions(
  conn: DuckDBConnection, staging: string, lastDate: string, stepDays: number, k: number,
  previous: PreviousRun | null, drift: ReadonlyMap<string, string>, splitKey: (key: string) => [string, string],
): Promise<number> {
  const f = (name: Parameters<typeof artifactPath>[1]) => sqlString(artifactPath(staging, name));
  const since = `DATE ${sqlString(lastDate)} - INTERVAL ${(k - 1) * stepDays} DAY`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE exc_drift (store_id VARCHAR, sku VARCHAR, reason VARCHAR)`);
  if (drift.size) {
    const app = await conn.createAppender('exc_drift');
    for (const [key, reason] of drift) {
      const [store, sku] = splitKey(key);
      app.appendVarchar(store); app.appendVarchar(sku); app.appendVarchar(reason); app.endRow();
    }
    app.closeSync();
  }
  const band = previous ? bandLevels(previous.manifest.quantiles) : null;
  const prevForecasts = previous ? sqlString(artifactPath(previous.dir, 'forecasts.parquet')) : null;
  // What the last K periods were forecast as: by the previous run where it covered them, else by the newest backtest window.
  const recent = `
    WITH prev AS (${prevForecasts
      ? `SELECT p.store_id, p.sku, p.date, p.forecast, ${band ? `p."${band.lower}" AS lo, p."${band.upper}" AS hi` : 'NULL::DOUBLE AS lo, NULL::DOUBLE AS hi'} FROM read_parquet(${prevForecasts}) p`
      : 'SELECT NULL::VARCHAR AS store_id, NULL::VARCHAR AS sku, NULL::DATE AS date, NULL::DOUBLE AS forecast, NULL::DOUBLE AS lo, NULL::DOUBLE AS hi WHERE false'}),
    hist AS (SELECT store_id, sku, date, units FROM read_parquet(${f('history.parquet')}) WHERE date >= ${since} AND state IN ('observed', 'gap') AND units IS NOT NULL),
    realised AS (SELECT h.store_id, h.sku, h.date, p.forecast, h.units AS actual, p.lo, p.hi FROM hist h JOIN prev p USING (store_id, sku, date)),
    enough AS (SELECT store_id, sku FROM realised GROUP BY ALL HAVING count(*) >= ${MIN_POINTS}),
    newest AS (SELECT store_id, sku, max("window") AS w FROM read_parquet(${f('backtest.parquet')}) GROUP BY ALL),
    bt AS (SELECT b.store_id, b.sku, b.date, b.forecast, b.actual, NULL::DOUBLE AS lo, NULL::DOUBLE AS hi FROM read_parquet(${f('backtest.parquet')}) b JOIN newest n ON n.store_id = b.store_id AND n.sku = b.sku AND n.w = b."window"
      WHERE b.actual IS NOT NULL AND b.date >= ${since} AND (b.store_id, b.sku) NOT IN (SELECT store_id, sku FROM enough))
    SELECT * FROM realised WHERE (store_id, sku) IN (SELECT store_id, sku FROM enough) UNION ALL SELECT * FROM bt`;
  const series = readPublishedCsv(artifactPath(staging, 'series.csv'), textColumns('series.csv'));
  await conn.run(`CREATE OR REPLACE TEMP TABLE exc_rows AS
    WITH vol AS (SELECT store_id, sku, sum(forecast) AS units FROM read_parquet(${f('forecasts.parquet')}) GROUP BY ALL),
    ser AS (SELECT store_id, sku, NULLIF(fallback, '') AS fallback, TRY_CAST(backtest_mase AS DOUBLE) AS mase FROM ${series}),
    rec AS (${recent}),
    acc AS (SELECT store_id, sku, count(*) AS n, sum(forecast) AS f, sum(actual) AS a, sum(abs(forecast - actual)) AS ae,
      count(*) FILTER (lo IS NOT NULL) AS nb, count(*) FILTER (lo IS NOT NULL AND (actual < lo OR actual > hi)) AS miss FROM rec GROUP BY ALL),
    ${prevForecasts ? `old AS (SELECT o.store_id, o.sku, sum(o.forecast) AS old, sum(n.forecast) AS new FROM read_parquet(${prevForecasts}) o
      JOIN read_parquet(${f('forecasts.parquet')}) n USING (store_id, sku, date) GROUP BY ALL),
    known AS (SELECT DISTINCT store_id, sku FROM read_parquet(${prevForecasts})),` : `old AS (SELECT NULL::VARCHAR AS store_id, NULL::VARCHAR AS sku, NULL::DOUBLE AS old, NULL::DOUBLE AS new WHERE false),
    known AS (SELECT store_id, sku FROM vol),`}
    cand AS (
      SELECT d.store_id, d.sku, 'drift' AS reason, v.units, greatest(0.1, COALESCE(CASE WHEN acc.a > 0 THEN acc.ae / acc.a END, 0.1)) AS error, 'monitor: ' || d.reason AS detail
        FROM exc_drift d JOIN vol v USING (store_id, sku) LEFT JOIN acc USING (store_id, sku)
      UNION ALL
      SELECT store_id, sku, 'bias', v.units, abs(acc.f - acc.a) / acc.a,
        printf('forecast %d%% %s what sold over the last %d periods (%.1f vs %.1f units)', round(100 * abs(acc.f - acc.a) / acc.a)::INTEGER, CASE WHEN acc.f > acc.a THEN 'above' ELSE 'below' END, acc.n, acc.f, acc.a)
        FROM acc JOIN vol v USING (store_id, sku) WHERE acc.n >= ${MIN_POINTS} AND acc.a > 0 AND abs(acc.f - acc.a) / acc.a >= ${BIAS_SHARE}
      UNION ALL
      SELECT store_id, sku, 'change', greatest(old, new), abs(new - old) / greatest(old, new),
        printf('%.1f units over the common dates, was %.1f in the previous run (%s%d%%)', new, old, CASE WHEN new >= old THEN '+' ELSE '' END, round(100 * (new - old) / greatest(old, 1e-9))::BIGINT)
        FROM old WHERE greatest(old, new) > 0 AND abs(new - old) / greatest(old, new) >= ${CHANGE_SHARE}
      UNION ALL
      SELECT s.store_id, s.sku, 'fallback', v.units, 1.0, s.fallback FROM ser s JOIN vol v USING (store_id, sku) WHERE s.fallback IS NOT NULL
      UNION ALL
      SELECT s.store_id, s.sku, 'cold_start', v.units, 1.0,
        CASE WHEN (s.store_id, s.sku) NOT IN (SELECT store_id, sku FROM known) THEN 'new series: not in the previous run' ELSE 'too little history for a backtest' END
        FROM ser s JOIN vol v USING (store_id, sku) WHERE s.fallback IS NULL AND (s.mase IS NULL OR (s.store_id, s.sku) NOT IN (SELECT store_id, sku FROM known))
      UNION ALL
      SELECT store_id, sku, 'interval_miss', v.units, acc.miss / acc.nb,
        printf('%d of the last %d periods fell outside the previous run''s band', acc.miss, acc.nb)
        FROM acc JOIN vol v USING (store_id, sku) WHERE acc.nb >= ${MIN_POINTS} AND acc.miss / acc.nb > ${MISS_SHARE})
    SELECT row_number() OVER (ORDER BY units * error DESC, store_id, sku, reason)::INTEGER AS rank, store_id, sku, reason,
      round(units * error, 4) AS impact, round(units, 4) AS units, round(error, 4) AS error, detail
    FROM cand ORDER BY rank`);
  await conn.run(`COPY (SELECT rank, ${sqlCsvText('store_id')} AS store_id, ${sqlCsvText('sku')} AS sku, reason, impact, units, error, ${sqlCsvText('detail')} AS detail FROM exc_rows ORDER BY rank)
    TO ${f('exceptions.csv')} (HEADER, DELIMITER ',')`);
  return (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM exc_rows`)).n;
}
