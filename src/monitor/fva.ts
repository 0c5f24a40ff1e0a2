import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows, sqlString } from '../db/duckdb.js';
import { artifactPath } from '../publish/artifacts.js';
import { runDir } from '../publish/atomic.js';
import type { RunManifest } from '../publish/manifest.js';
import type { Override } from '../publish/overrides.js';

/**
 * Forecast value added (FVA) of planner overrides: on every overridden forecast row whose date
 * now has an actual, the error of the final forecast against that of the statistical one.
 * `fva` = 1 − Σ|final − actual| / Σ|statistical − actual|: the share of the statistical error
 * the overrides removed (positive: they helped; negative: they made the forecast worse; 0: no
 * change). Each store, SKU and date counts once, from the newest run that carried an override
 * for it. Reported overall, per planner (the token that made the override), per reason, per
 * store, and per override.
 */
export interface Fva {
  readonly overrides: number;
  readonly points: number;
  readonly mae_statistical: number;
  readonly mae_final: number;
  readonly fva: number | null;
}

export interface FvaReport {
  readonly overall: Fva | null;
  readonly by_planner: Record<string, Fva>;
  readonly by_reason: Record<string, Fva>;
  readonly by_store: Record<string, Fva>;
  readonly by_override: (Fva & { id: number; store_id: string; sku: string; created_by: string; reason: string })[];
}

/** `actuals` is a table (store_id, sku, date, units) in `conn`. */
export async function forecastValueAdded(conn: DuckDBConnection, out: string, runs: readonly RunManifest[], overrides: readonly Override[], actuals: string): Promise<FvaReport> {
  const empty: FvaReport = { overall: null, by_planner: {}, by_reason: {}, by_store: {}, by_override: [] };
  const withOverrides = runs.filter((m) => (m.overrides?.applied ?? 0) > 0);
  if (withOverrides.length === 0 || overrides.length === 0) return empty;
  const union = withOverrides.map((m) => `SELECT ${sqlString(m.finished_at)} AS finished_at, store_id, sku, date, forecast, forecast_final, override
    FROM read_parquet(${sqlString(artifactPath(runDir(out, m.run_id), 'forecasts.parquet'))}) WHERE override IS NOT NULL`).join(' UNION ALL ');
  await conn.run(`CREATE OR REPLACE TEMP TABLE fva_overrides (id INTEGER, created_by VARCHAR, reason VARCHAR)`);
  const app = await conn.createAppender('fva_overrides');
  for (const o of overrides) { app.appendInteger(o.id); app.appendVarchar(o.created_by); app.appendVarchar(o.reason); app.endRow(); }
  app.closeSync();
  await conn.run(`CREATE OR REPLACE TEMP TABLE fva_rows AS
    WITH f AS (SELECT * FROM (${union}) QUALIFY row_number() OVER (PARTITION BY store_id, sku, date ORDER BY finished_at DESC) = 1)
    SELECT f.store_id, f.sku, f.date, f.override AS id, o.created_by, o.reason, abs(f.forecast - a.units) AS ae_stat, abs(f.forecast_final - a.units) AS ae_final
    FROM f JOIN ${actuals} a USING (store_id, sku, date) JOIN fva_overrides o ON o.id = f.override`);
  const agg = `count(DISTINCT id)::INTEGER AS overrides, count(*)::INTEGER AS points, avg(ae_stat) AS mae_statistical, avg(ae_final) AS mae_final,
    CASE WHEN sum(ae_stat) > 0 THEN 1 - sum(ae_final) / sum(ae_stat) WHEN sum(ae_final) = 0 THEN 0 END AS fva`;
  const group = async (by: string): Promise<Record<string, Fva>> => {
    const rows = await queryRows<Fva & { k: string }>(conn, `SELECT ${by} AS k, ${agg} FROM fva_rows GROUP BY ${by} ORDER BY ${by}`);
    return Object.fromEntries(rows.map(({ k, ...r }) => [k, clean(r)]));
  };
  const [overall] = await queryRows<Fva>(conn, `SELECT ${agg} FROM fva_rows`);
  if (!overall || overall.points === 0) return empty;
  const per = await queryRows<Fva & { id: number; store_id: string; sku: string; created_by: string; reason: string }>(conn,
    `SELECT id, any_value(store_id) AS store_id, any_value(sku) AS sku, any_value(created_by) AS created_by, any_value(reason) AS reason, ${agg} FROM fva_rows GROUP BY id ORDER BY id`);
  return {
    overall: clean(overall),
    by_planner: await group('created_by'),
    by_reason: await group('reason'),
    by_store: await group('store_id'),
    by_override: per.map((r) => ({ ...r, ...clean(r) })),
  };
}

function clean(r: Fva): Fva {
  const round = (x: number) => Math.round(x * 1e6) / 1e6;
  return { overrides: r.overrides, points: r.points, mae_statistical: round(r.mae_statistical), mae_final: round(r.mae_final), fva: r.fva === null ? null : round(r.fva) };
}
