import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { UserError } from '../errors.js';
import { addOverride, endOverride, listOverrides, overrideLog, OverrideRequest, StateBusy } from '../publish/overrides.js';
import type { ServerDeps } from './deps.js';
import { caller } from './caller.js';
import { HttpError } from './http-error.js';
import { NoQuery, RunIdParam, SkuParam, StoreParam, parseInput, parseQuery } from './inputs.js';
import { jsonResponse } from './responses.js';
import { resolveRun, runArtifact, runManifest } from './runs.js';
import { diffRuns, exceptionList, pastForecasts, seriesComponents } from './workbench-queries.js';

/**
 * The planner's workbench: why a forecast is what it is (`/series/{store}/{sku}/components`,
 * `/past`), what needs attention (`/exceptions`, `/monitoring`), planner overrides with their
 * audit trail (`/overrides`), and what changed between two runs (`/runs/{a}/diff/{b}`).
 */

export const RunQuery = z.strictObject({ run: RunIdParam.default('latest') });

export const EXCEPTION_REASON_PARAM = z.enum(['drift', 'bias', 'change', 'fallback', 'cold_start', 'interval_miss']);

export const ExceptionsQuery = z.strictObject({
  run: RunIdParam.default('latest'),
  store: StoreParam.optional(),
  reason: EXCEPTION_REASON_PARAM.optional().describe('only this reason'),
  limit: z.coerce.number().int().min(1).max(10_000).default(200).describe('rows to return, most impact first'),
});

export const OverridesQuery = z.strictObject({
  store: StoreParam.optional(),
  sku: SkuParam.optional(),
  status: z.enum(['active', 'expired', 'removed']).optional().describe('only overrides in this state'),
});

export const OverrideLogQuery = z.strictObject({
  id: z.coerce.number().int().min(1).optional().describe('only the actions on this override'),
});

export const DiffQuery = z.strictObject({
  store: StoreParam.optional(),
  limit: z.coerce.number().int().min(1).max(10_000).default(100).describe('series to return, largest change first'),
});

export const OverrideIdParam = z.coerce.number().int().min(1).describe('override id');

/** Earlier runs whose forecasts are compared with what happened (newest first). */
const PAST_RUNS = 6;

/** One state-database writer at a time from this process (DuckDB locks the file per process). */
let stateQueue: Promise<unknown> = Promise.resolve();
function serialised<T>(fn: () => Promise<T>): Promise<T> {
  const next = stateQueue.then(fn, fn);
  stateQueue = next.catch(() => undefined);
  return next;
}

/** Overrides and the audit log live in state.duckdb: a busy or missing one is the client's to retry or fix, not a 500. */
async function withStateErrors<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await serialised(fn);
  } catch (e) {
    if (e instanceof StateBusy) throw new HttpError(503, `${e.message.replace(/^.*state\.duckdb/, 'state.duckdb')}`);
    if (e instanceof UserError) throw new HttpError(409, e.message.replace(/^\S*state\.duckdb/, 'state.duckdb'));
    throw e;
  }
}

async function jsonBody(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'body: not JSON');
  }
}

export function workbenchRoutes(app: Hono, { store, db }: ServerDeps): void {
  const seriesKey = (c: Context) => ({
    storeId: parseInput(StoreParam, c.req.param('store'), 'store'),
    sku: parseInput(SkuParam, c.req.param('sku'), 'sku'),
  });

  app.get('/series/:store/:sku/components', async (c) => {
    const { storeId, sku } = seriesKey(c);
    const id = resolveRun(store, parseQuery(c, RunQuery).run);
    const found = await seriesComponents(db, { forecasts: runArtifact(store, id, 'forecasts.parquet').path, components: runArtifact(store, id, 'components.parquet').path }, storeId, sku);
    if (!found) throw new HttpError(404, `run ${id} has no series store ${storeId}, sku ${sku}`);
    return jsonResponse(c, { run_id: id, store_id: storeId, sku, ...found });
  });

  app.get('/series/:store/:sku/past', async (c) => {
    const { storeId, sku } = seriesKey(c);
    const id = resolveRun(store, parseQuery(c, RunQuery).run);
    const m = runManifest(store, id);
    const previous = store.list()
      .filter((r) => r.run_id !== id && r.finished_at < m.finished_at && r.data.target_dates.first <= m.data.last_date)
      .slice(0, PAST_RUNS)
      .flatMap((r) => {
        const f = store.artifact(r.run_id, 'forecasts.parquet');
        return f ? [{ run_id: r.run_id, kind: r.kind, last_date: r.data.last_date, finished_at: r.finished_at, forecasts: f.path }] : [];
      });
    const past = await pastForecasts(db, { backtest: store.artifact(id, 'backtest.parquet')?.path ?? null, history: runArtifact(store, id, 'history.parquet').path }, previous, storeId, sku);
    return jsonResponse(c, { run_id: id, store_id: storeId, sku, ...past });
  });

  app.get('/exceptions', async (c) => {
    const q = parseQuery(c, ExceptionsQuery);
    const id = resolveRun(store, q.run);
    const found = await exceptionList(db, runArtifact(store, id, 'exceptions.csv').path, { store: q.store, reason: q.reason, limit: q.limit });
    return jsonResponse(c, { run_id: id, ...found });
  });

  app.get('/monitoring', (c) => {
    parseQuery(c, NoQuery);
    const report = store.monitoring();
    // Not an error: monitoring starts once actuals arrive (shelfcast monitor).
    if (report === null) return c.body(null, 204, { 'Cache-Control': 'no-store' });
    return jsonResponse(c, report);
  });

  app.get('/runs/:a/diff/:b', async (c) => {
    const q = parseQuery(c, DiffQuery);
    const a = resolveRun(store, parseInput(RunIdParam, c.req.param('a'), 'run a'));
    const b = resolveRun(store, parseInput(RunIdParam, c.req.param('b'), 'run b'));
    const side = (id: string) => ({ run_id: id, last_date: runManifest(store, id).data.last_date, forecasts: runArtifact(store, id, 'forecasts.parquet').path, series: runArtifact(store, id, 'series.csv').path });
    const ma = runManifest(store, a);
    const mb = runManifest(store, b);
    const diff = await diffRuns(db, side(a), side(b), q.limit, q.store);
    const about = (m: typeof ma) => ({ run_id: m.run_id, kind: m.kind, last_date: m.data.last_date, finished_at: m.finished_at, code_version: m.code_version, overrides: m.overrides ?? null });
    return jsonResponse(c, { a: about(ma), b: about(mb), ...diff });
  });

  app.get('/overrides', async (c) => {
    const q = parseQuery(c, OverridesQuery);
    const overrides = await withStateErrors(() => listOverrides(store.root, { store: q.store, sku: q.sku, status: q.status }));
    c.header('Cache-Control', 'no-store');
    return c.json({ overrides });
  });

  app.get('/overrides/log', async (c) => {
    const q = parseQuery(c, OverrideLogQuery);
    const log = await withStateErrors(() => overrideLog(store.root, q.id));
    c.header('Cache-Control', 'no-store');
    return c.json({ log });
  });

  app.post('/overrides', async (c) => {
    parseQuery(c, NoQuery);
    const req = parseInput(OverrideRequest, await jsonBody(c), 'body');
    const latest = store.latestId();
    const m = latest ? store.manifest(latest) : null;
    if (!m) throw new HttpError(409, 'no run has been published yet: nothing to override');
    const added = await withStateErrors(() => addOverride(store.root, req, caller(c)));
    const inHorizon = req.to >= m.data.target_dates.first && req.from <= m.data.target_dates.last;
    return c.json({ override: added, applies_from: 'the next published run (shelfcast run, or shelfcast overrides apply)', ...(inHorizon ? {} : { warning: `the latest run forecasts ${m.data.target_dates.first} to ${m.data.target_dates.last}; this range is outside it` }) }, 201);
  });

  const end = (how: 'expired' | 'removed') => async (c: Context) => {
    parseQuery(c, NoQuery);
    const id = parseInput(OverrideIdParam, c.req.param('id'), 'override id');
    const r = await withStateErrors(() => endOverride(store.root, id, how, caller(c)));
    if (!r) throw new HttpError(404, `no override ${id}`);
    if (!r.changed) throw new HttpError(409, `override ${id} is ${r.override.status}, not active`);
    return c.json({ override: r.override });
  };
  app.post('/overrides/:id/expire', end('expired'));
  app.delete('/overrides/:id', end('removed'));
}
