import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import { readPublishedCsv } from '../publish/csv-sql.js';
import { textColumns } from '../publish/artifacts.js';
import type { QueryEngine } from './db.js';

/**
 * Per-series reads for the planner page and `/series/{store}/{sku}`: the series table of a
 * run (model, backtest scores), its recent history, forecast rows and calendar events. CSVs
 * are read as text so store ids like "007" keep their zeros.
 */

const seriesCsv = (path: string) => readPublishedCsv(path, textColumns('series.csv'));
const eventsCsv = (path: string) => readPublishedCsv(path, textColumns('events.csv'));

export interface SeriesSummary {
  readonly store_id: string;
  readonly sku: string;
  readonly demand_class: string;
  readonly model: string;
  readonly backtest_mase: number | null;
  readonly backtest_bias: number | null;
  /** Units forecast over the horizon. */
  readonly volume: number | null;
  /** Reasons the run lists the series in exceptions.csv (drift, bias, …), most impact first. */
  readonly exceptions: string[];
  /** The largest impact among them (units × error), 0 when none. */
  readonly impact: number;
}

/** How the series list can be sorted: by store and SKU, or by a score, largest first. */
export const SERIES_SORTS = ['series', 'mase', 'volume', 'bias', 'impact', 'class'] as const;

export interface SeriesListOptions {
  readonly sort?: (typeof SERIES_SORTS)[number];
  /** Only series of this demand class. */
  readonly cls?: string;
  /** Only series listed with this exception reason (`any`: with any). */
  readonly flag?: string;
}

const SORT_SQL: Record<(typeof SERIES_SORTS)[number], string> = {
  series: 'store_id, sku',
  mase: 'backtest_mase DESC NULLS LAST, store_id, sku',
  volume: 'volume DESC NULLS LAST, store_id, sku',
  bias: 'abs(backtest_bias) DESC NULLS LAST, store_id, sku',
  impact: 'impact DESC, store_id, sku',
  class: 'demand_class, store_id, sku',
};

export interface SeriesListFiles {
  readonly series: string;
  readonly forecasts: string;
  /** exceptions.csv, published by runs since the workbench. */
  readonly exceptions: string | null;
}

export interface SeriesSearch {
  readonly matches: number;
  readonly series: SeriesSummary[];
}

/** Series whose "store sku" contains every word of `q` (case-insensitive), filtered and sorted as asked (store/SKU order by default). */
export async function searchSeries(db: QueryEngine, files: SeriesListFiles, q: string | undefined, limit: number, opts: SeriesListOptions = {}): Promise<SeriesSearch> {
  const words = (q ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const params: Record<string, string | number> = { limit };
  words.forEach((w, i) => (params[`w${i}`] = w));
  const where = words.map((_w, i) => `contains(lower(store_id || ' ' || sku), $w${i})`);
  if (opts.cls !== undefined) { where.push('demand_class = $cls'); params.cls = opts.cls; }
  if (opts.flag === 'any') where.push('len(exceptions) > 0');
  else if (opts.flag !== undefined) { where.push('list_contains(exceptions, $flag)'); params.flag = opts.flag; }
  const exceptions = files.exceptions
    ? `(SELECT store_id, sku, list(reason ORDER BY rank) AS exceptions, max(TRY_CAST(impact AS DOUBLE)) AS impact FROM ${readPublishedCsv(files.exceptions, textColumns('exceptions.csv'))} GROUP BY ALL)`
    : `(SELECT NULL::VARCHAR AS store_id, NULL::VARCHAR AS sku, []::VARCHAR[] AS exceptions, 0::DOUBLE AS impact WHERE false)`;
  const sql = `WITH s AS (
      SELECT s.store_id, s.sku, s.demand_class, s.model, TRY_CAST(s.backtest_mase AS DOUBLE) AS backtest_mase, TRY_CAST(s.backtest_bias AS DOUBLE) AS backtest_bias,
        v.volume, COALESCE(e.exceptions, []::VARCHAR[]) AS exceptions, COALESCE(e.impact, 0) AS impact
      FROM ${seriesCsv(files.series)} s
      LEFT JOIN (SELECT store_id, sku, round(sum(forecast), 4) AS volume FROM read_parquet(${sqlString(files.forecasts)}) GROUP BY ALL) v USING (store_id, sku)
      LEFT JOIN ${exceptions} e USING (store_id, sku))
    SELECT *, count(*) OVER () AS matches FROM s ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
    ORDER BY ${SORT_SQL[opts.sort ?? 'series']} LIMIT CAST($limit AS BIGINT)`;
  const rows = await db.with(async (conn) => (await conn.runAndReadAll(sql, params)).getRowObjectsJson() as Record<string, unknown>[]);
  return {
    matches: rows.length ? Number(rows[0].matches) : 0,
    series: rows.map(({ matches: _m, ...r }) => r as unknown as SeriesSummary),
  };
}

export interface RunFiles {
  readonly series: string;
  readonly forecasts: string;
  readonly history: string;
  /** events.csv, published by runs that apply calendars. */
  readonly events: string | null;
}

export interface SeriesDetail {
  readonly store_id: string;
  readonly sku: string;
  readonly demand_class: string;
  readonly model: string;
  readonly backtest: { readonly mase: number | null; readonly rmsse: number | null; readonly bias: number | null };
  /** Why the series fell back to seasonal naive, when it did. */
  readonly fallback: string | null;
  readonly history: { date: string; units: number | null; stockout: boolean; state?: string; reason?: string | null }[];
  readonly forecast: Record<string, unknown>[];
  readonly events: { date: string; name: string; kind: string }[];
}

async function rows<T>(conn: DuckDBConnection, sql: string, params: Record<string, string>): Promise<T[]> {
  return (await conn.runAndReadAll(sql, params)).getRowObjectsJson() as T[];
}

/** Everything known about one series in one run, or null when the run has no such series. */
export async function seriesDetail(db: QueryEngine, files: RunFiles, store: string, sku: string): Promise<SeriesDetail | null> {
  const key = { store, sku };
  return db.with(async (conn) => {
    const [meta] = await rows<Record<string, string | null>>(
      conn,
      `SELECT demand_class, model, TRY_CAST(backtest_mase AS DOUBLE) AS mase, TRY_CAST(backtest_rmsse AS DOUBLE) AS rmsse,
              TRY_CAST(backtest_bias AS DOUBLE) AS bias, NULLIF(fallback, '') AS fallback
       FROM ${seriesCsv(files.series)} WHERE store_id = $store AND sku = $sku`,
      key,
    );
    if (!meta) return null;
    const history = await rows<SeriesDetail['history'][number]>(
      conn,
      // Every period with its state (observed, gap, stockout, closed, unobserved) in runs since the workbench; rows as read before.
      `SELECT * EXCLUDE (store_id, sku) FROM read_parquet(${sqlString(files.history)}) WHERE store_id = $store AND sku = $sku ORDER BY date`,
      key,
    );
    const forecast = await rows<Record<string, unknown>>(
      conn,
      `SELECT * EXCLUDE (run_id, store_id, sku, model) FROM read_parquet(${sqlString(files.forecasts)})
       WHERE store_id = $store AND sku = $sku ORDER BY date`,
      key,
    );
    const first = history[0]?.date ?? forecast[0]?.date;
    const last = forecast[forecast.length - 1]?.date ?? history[history.length - 1]?.date;
    const events =
      files.events && first !== undefined && last !== undefined
        ? await rows<SeriesDetail['events'][number]>(
            conn,
            `SELECT DISTINCT date, name, kind FROM ${eventsCsv(files.events)}
             WHERE store_id = $store AND date BETWEEN $first AND $last ORDER BY date, name`,
            { store, first: String(first), last: String(last) },
          )
        : [];
    return {
      store_id: store,
      sku,
      demand_class: String(meta.demand_class),
      model: String(meta.model),
      backtest: { mase: meta.mase as number | null, rmsse: meta.rmsse as number | null, bias: meta.bias as number | null },
      fallback: meta.fallback,
      history,
      forecast,
      events,
    };
  });
}
