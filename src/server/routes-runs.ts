import type { Context, Hono } from 'hono';
import { isServedArtifact } from '../publish/artifacts.js';
import type { RunManifest } from '../publish/manifest.js';
import type { ServerDeps } from './deps.js';
import { etagOfArtifact, etagOfBytes } from './etag.js';
import { decodeCursor, encodeCursor, forecastCsv, forecastPage, type ForecastFilter } from './forecast-pages.js';
import { HttpError } from './http-error.js';
import { ForecastQuery, NoQuery, RunIdParam, SeriesSearchQuery, parseInput, parseQuery } from './inputs.js';
import { csvStreamResponse, fileResponse, jsonResponse } from './responses.js';
import { resolveRun, runArtifact, runManifest } from './runs.js';
import { searchSeries } from './series-queries.js';

/** `/runs…`: the list of runs, a run's manifest and files, its forecasts paged, its series. */

/** One line per run in `/runs`: enough to choose one without opening its manifest. */
function runSummary(m: RunManifest, latest: string | null) {
  return {
    run_id: m.run_id,
    latest: m.run_id === latest,
    kind: m.kind,
    started_at: m.started_at,
    finished_at: m.finished_at,
    duration_s: m.duration_s,
    frequency: m.data.frequency,
    last_date: m.data.last_date,
    horizon: m.data.horizon,
    series: m.data.series,
    forecast_rows: m.rows.forecasts,
    rejected_rows: m.rows.rejected,
    backtest_metric: m.backtest.metric,
    backtest_mase: m.backtest.selected?.mase ?? null,
    overrides: m.overrides ?? null,
  };
}

const wantsCsv = (c: Context) => /\btext\/csv\b/i.test(c.req.header('accept') ?? '');

export function runRoutes(app: Hono, { store, db }: ServerDeps): void {
  const runId = (c: Context) => resolveRun(store, parseInput(RunIdParam, c.req.param('id'), 'run id'));

  app.get('/runs', (c) => {
    parseQuery(c, NoQuery);
    const latest = store.latestId();
    return jsonResponse(c, { runs: store.list().map((m) => runSummary(m, latest)) });
  });

  app.get('/runs/:id', (c) => {
    parseQuery(c, NoQuery);
    const id = runId(c);
    return fileResponse(c, id, runArtifact(store, id, 'manifest.json'));
  });

  app.get('/runs/:id/forecasts', async (c) => {
    const id = runId(c);
    const q = parseQuery(c, ForecastQuery);
    const filter: ForecastFilter = { store: q.store, sku: q.sku, from: q.from, to: q.to };
    const parquet = runArtifact(store, id, 'forecasts.parquet');
    if (wantsCsv(c)) {
      if (q.cursor !== undefined || c.req.query('limit') !== undefined) {
        throw new HttpError(400, 'cursor and limit page JSON; with Accept: text/csv every matching row is returned');
      }
      const filtered = Object.values(filter).some((v) => v !== undefined);
      if (!filtered) return fileResponse(c, id, runArtifact(store, id, 'forecasts.csv'));
      // The run's files never change, so the tag of the source and the filter identify the output.
      const etag = etagOfBytes(`${etagOfArtifact(parquet)}\0${JSON.stringify(filter)}`);
      return csvStreamResponse(c, () => forecastCsv(db, parquet.path, filter), etag, `${id}-forecasts.csv`);
    }
    const page = await forecastPage(db, parquet.path, filter, q.cursor ? decodeCursor(q.cursor, id) : null, q.limit);
    const nextCursor = page.next && encodeCursor(id, page.next);
    const nextQuery = new URLSearchParams();
    for (const [k, v] of Object.entries({ ...filter, limit: String(q.limit), cursor: nextCursor })) if (v) nextQuery.set(k, v);
    return jsonResponse(c, {
      run_id: id,
      quantiles: runManifest(store, id).quantiles,
      count: page.rows.length,
      rows: page.rows,
      next_cursor: nextCursor,
      // Continues in the concrete run even when this page was asked for as `latest`.
      next: nextCursor ? `/runs/${id}/forecasts?${nextQuery}` : null,
    });
  });

  app.get('/runs/:id/series', async (c) => {
    const id = runId(c);
    const q = parseQuery(c, SeriesSearchQuery);
    const files = { series: runArtifact(store, id, 'series.csv').path, forecasts: runArtifact(store, id, 'forecasts.parquet').path, exceptions: store.artifact(id, 'exceptions.csv')?.path ?? null };
    const found = await searchSeries(db, files, q.q, q.limit, { sort: q.sort, cls: q.class, flag: q.flag });
    return jsonResponse(c, { run_id: id, ...found });
  });

  // Any file name (a dot, unlike the routes above); only the registry's served artifacts are answered.
  app.get('/runs/:id/:file{[^/]+\\.[^/]+}', (c) => {
    parseQuery(c, NoQuery);
    const id = runId(c);
    const name = c.req.param('file');
    if (!isServedArtifact(name)) throw new HttpError(404, `a run has no file ${name}`);
    return fileResponse(c, id, runArtifact(store, id, name));
  });
}
