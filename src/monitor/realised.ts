import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../db/duckdb.js';
import { quantileColumn } from '../publish/format.js';
import { readPublishedCsv } from '../publish/csv-sql.js';
import { artifactPath, textColumns } from '../publish/artifacts.js';

/**
 * Realised accuracy of one published run against actuals that have arrived since: per series,
 * over the target dates that now have an actual. Scaled like the backtest (by the MASE scale
 * of the history the run was fitted on), so the two can be compared.
 */
export interface RealisedRow {
  readonly run_id: string;
  readonly store_id: string;
  readonly sku: string;
  readonly model: string;
  readonly model_version: number | null;
  readonly points: number;
  readonly mase: number | null;
  readonly abs_error: number;
  readonly abs_actual: number;
  readonly bias: number | null;
  readonly pinball: number | null;
  readonly coverage: number | null;
  readonly backtest_mase: number | null;
  /** Mean of the new actuals, and of the run's published history, with its standard deviation and length. */
  readonly actual_mean: number;
  readonly history_mean: number | null;
  readonly history_sd: number | null;
}

/** `actuals` is a table (store_id, sku, date, units). */
export async function realisedAccuracy(conn: DuckDBConnection, runId: string, dir: string, levels: readonly number[], actuals: string): Promise<RealisedRow[]> {
  const lo = quantileColumn(levels[0]);
  const hi = quantileColumn(levels[levels.length - 1]);
  const pin = levels.map((tau) => {
    const q = `f.${quantileColumn(tau)}`;
    return `CASE WHEN a.units >= ${q} THEN ${tau} * (a.units - ${q}) ELSE ${1 - tau} * (${q} - a.units) END`;
  }).join(' + ');
  return queryRows<RealisedRow>(conn, `
    WITH s AS (SELECT store_id::VARCHAR AS store_id, sku::VARCHAR AS sku, TRY_CAST(scale AS DOUBLE) AS scale, TRY_CAST(backtest_mase AS DOUBLE) AS backtest_mase
               FROM ${readPublishedCsv(artifactPath(dir, 'series.csv'), textColumns('series.csv'))}),
    h AS (SELECT store_id, sku, avg(units) AS history_mean, stddev_samp(units) AS history_sd
          FROM read_parquet(${sqlString(artifactPath(dir, 'history.parquet'))}) GROUP BY ALL),
    j AS (SELECT f.store_id, f.sku, f.model, f.model_version, a.units, f.forecast, (${pin}) / ${levels.length} AS pin,
                 (a.units >= f.${lo} AND a.units <= f.${hi})::INTEGER AS inside
          FROM read_parquet(${sqlString(artifactPath(dir, 'forecasts.parquet'))}) f JOIN ${actuals} a USING (store_id, sku, date))
    SELECT ${sqlString(runId)} AS run_id, j.store_id, j.sku, any_value(model) AS model, any_value(model_version)::INTEGER AS model_version,
      count(*)::INTEGER AS points,
      CASE WHEN any_value(s.scale) > 0 THEN avg(abs(units - forecast)) / any_value(s.scale) END AS mase,
      sum(abs(units - forecast)) AS abs_error, sum(abs(units)) AS abs_actual,
      CASE WHEN any_value(s.scale) > 0 THEN avg(forecast - units) / any_value(s.scale) END AS bias,
      CASE WHEN any_value(s.scale) > 0 THEN avg(pin) / any_value(s.scale) END AS pinball,
      avg(inside) AS coverage, any_value(s.backtest_mase) AS backtest_mase,
      avg(units) AS actual_mean, any_value(h.history_mean) AS history_mean, any_value(h.history_sd) AS history_sd
    FROM j LEFT JOIN s USING (store_id, sku) LEFT JOIN h USING (store_id, sku)
    GROUP BY j.store_id, j.sku ORDER BY j.store_id, j.sku`);
}
