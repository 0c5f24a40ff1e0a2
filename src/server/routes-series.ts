import type { Hono } from 'hono';
import { quantileColumn } from '../publish/format.js';
import type { ServerDeps } from './deps.js';
import { HttpError } from './http-error.js';
import { SeriesDetailQuery, SkuParam, StoreParam, parseInput, parseQuery } from './inputs.js';
import { jsonResponse } from './responses.js';
import { resolveRun, runArtifact, runManifest } from './runs.js';
import { seriesDetail } from './series-queries.js';

/** The published quantile columns nearest p10 and p90: the band a planner is shown. */
function bandColumns(levels: readonly number[]): { lower: string; upper: string } | null {
  const nearest = (target: number, side: (l: number) => boolean) =>
    levels.filter(side).sort((a, b) => Math.abs(a - target) - Math.abs(b - target))[0];
  const lo = nearest(0.1, (l) => l < 0.5);
  const hi = nearest(0.9, (l) => l > 0.5);
  return lo === undefined || hi === undefined ? null : { lower: quantileColumn(lo), upper: quantileColumn(hi) };
}

/** `/series/{store}/{sku}`: one series as a planner sees it, in one response. */
export function seriesRoutes(app: Hono, { store, db }: ServerDeps): void {
  app.get('/series/:store/:sku', async (c) => {
    const storeId = parseInput(StoreParam, c.req.param('store'), 'store');
    const sku = parseInput(SkuParam, c.req.param('sku'), 'sku');
    const id = resolveRun(store, parseQuery(c, SeriesDetailQuery).run);
    const m = runManifest(store, id);
    const files = {
      series: runArtifact(store, id, 'series.csv').path,
      forecasts: runArtifact(store, id, 'forecasts.parquet').path,
      history: runArtifact(store, id, 'history.parquet').path,
      events: store.artifact(id, 'events.csv')?.path ?? null,
    };
    const detail = await seriesDetail(db, files, storeId, sku);
    if (!detail) throw new HttpError(404, `run ${id} has no series store ${storeId}, sku ${sku}`);
    return jsonResponse(c, { run_id: id, frequency: m.data.frequency, quantiles: m.quantiles, band: bandColumns(m.quantiles), ...detail });
  });
}
