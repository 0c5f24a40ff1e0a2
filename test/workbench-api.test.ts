import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { openDuckDb, queryRows, sqlString } from '../src/db/duckdb.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { applyOverridesRun } from '../src/run/overrides-run.js';
import { runMonitor } from '../src/monitor/monitor.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { tempDir } from './helpers/tmp.js';
import { CLOSED_WEEKS, MISSING_WEEKS, OUTAGE_WEEKS, STOCKOUT_WEEK, ZERO_WEEKS, weekDate, writeWorkbenchData } from './helpers/workbench-data.js';

// The planner's workbench over a real server (issue 17): the files a run publishes for it
// (history with every period's state, components that add up, exceptions), every new route
// with good and bad input, token scopes for writes, overrides applied atomically by
// `overrides apply` and by the next run, and run comparison.

const VIEWER = 'viewer-token-0123456789abcdef';
const PLANNER = 'planner-token-0123456789abcdef';
const ERP = 'erp-token-0123456789abcdef01';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function sql<T = Record<string, unknown>>(query: string): Promise<T[]> {
  const conn = await openDuckDb();
  try {
    return await queryRows<T>(conn, query);
  } finally {
    conn.closeSync();
  }
}

describe('workbench: published files and API', () => {
  let out: string;
  let weeklyOut: string;
  let first: RunSummary;
  let weekly: RunSummary;
  let server: RunningServer;
  let weeklyServer: RunningServer;
  const cfg = () => parseConfig({ out, threads: 1 });

  const call = (base: () => RunningServer, path: string, init: RequestInit & { token?: string | null } = {}) => {
    const { token = VIEWER, ...rest } = init;
    const headers = new Headers(rest.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    return fetch(`${base().url}${path}`, { ...rest, headers });
  };
  const get = (path: string, token: string | null = VIEWER) => call(() => server, path, { token });
  const json = async (path: string, base = () => server): Promise<Json> => {
    const res = await call(base, path);
    expect(res.status, path).toBe(200);
    return res.json();
  };
  const post = (path: string, body: unknown, token: string | null = PLANNER, headers: Record<string, string> = { 'Content-Type': 'application/json' }) =>
    call(() => server, path, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers, token });
  const bad = async (res: Response | Promise<Response>, status: number, mentions: RegExp) => {
    const r = await res;
    expect(r.status).toBe(status);
    const body = (await r.json()) as { error: string };
    expect(body.error).toMatch(mentions);
  };

  beforeAll(async () => {
    out = tempDir();
    first = await runForecast(cfg());
    weeklyOut = tempDir();
    weekly = await runForecast(parseConfig({ out: weeklyOut, threads: 1, input: { path: writeWorkbenchData(tempDir()) } }));
    const tokens = [
      { name: 'erp', token: ERP, routes: ['/runs'] },
      { name: 'viewer', token: VIEWER },
      { name: 'planner-anna', token: PLANNER, scopes: ['read' as const, 'write' as const] },
    ];
    server = await startServer({ out, host: '127.0.0.1', port: 0, tokens, env: {}, log: () => {} });
    weeklyServer = await startServer({ out: weeklyOut, host: '127.0.0.1', port: 0, tokens, env: {}, log: () => {} });
  });

  afterAll(async () => {
    await server?.close();
    await weeklyServer?.close();
  });

  it('publishes every period of history with its state: observed, gap, stock-out, closed, unobserved', async () => {
    const rows = await sql<{ sku: string; date: string; units: number | null; state: string; reason: string | null }>(
      `SELECT sku, strftime(date, '%Y-%m-%d') AS date, units, state, reason FROM read_parquet(${sqlString(join(weekly.dir, 'history.parquet'))}) WHERE store_id <> 'DC' ORDER BY sku, date`);
    const at = (sku: string, week: number) => rows.find((r) => r.sku === sku && r.date === weekDate(week));
    for (const w of ZERO_WEEKS) expect(at('ZERO-WK', w), `zero week ${w}`).toMatchObject({ units: 0, state: 'observed' });
    for (const w of MISSING_WEEKS) expect(at('ZERO-WK', w)).toMatchObject({ units: 0, state: 'gap' });
    expect(at('ZERO-WK', STOCKOUT_WEEK)).toMatchObject({ state: 'stockout' });
    for (const w of OUTAGE_WEEKS) expect(at('OUTAGE', w)).toMatchObject({ units: null, state: 'unobserved', reason: 'outage' });
    for (const w of CLOSED_WEEKS) expect(at('CLOSED', w)).toMatchObject({ state: 'closed' });
    // Every week from the series' first to the data's end is there, none twice.
    const zero = rows.filter((r) => r.sku === 'ZERO-WK');
    expect(zero[zero.length - 1].date).toBe(weekDate(155));
    expect(new Set(zero.map((r) => r.date)).size).toBe(zero.length);
    expect(zero.length).toBe(104);
  });

  it('components add up to the point forecast for every series and date, in every run', async () => {
    for (const dir of [first.dir, weekly.dir]) {
      const [check] = await sql<{ rows: number; forecasts: number; worst: number }>(`
        WITH parts AS (SELECT store_id, sku, date, sum(units) AS total FROM read_parquet(${sqlString(join(dir, 'components.parquet'))}) WHERE kind <> 'model' GROUP BY ALL)
        SELECT count(*)::INTEGER AS rows, (SELECT count(*)::INTEGER FROM read_parquet(${sqlString(join(dir, 'forecasts.parquet'))})) AS forecasts, max(abs(p.total - f.forecast)) AS worst
        FROM read_parquet(${sqlString(join(dir, 'forecasts.parquet'))}) f JOIN parts p USING (store_id, sku, date)`);
      expect(check.rows).toBe(check.forecasts);
      expect(check.worst).toBeLessThan(1e-6);
    }
    // The closed weeks ahead of S10 (none here) and the kinds a planner reads.
    const kinds = await sql<{ kind: string }>(`SELECT DISTINCT kind FROM read_parquet(${sqlString(join(first.dir, 'components.parquet'))}) ORDER BY kind`);
    expect(kinds.map((k) => k.kind)).toEqual(expect.arrayContaining(['level', 'seasonality', 'holiday', 'model']));
  });

  it('GET /series/{store}/{sku}/components gives each date\'s parts, summing to the forecast, with the weights', async () => {
    const c = await json('/series/S01/MILK-1L/components');
    expect(c.rows).toHaveLength(28);
    for (const r of c.rows) {
      const sum = Object.values(r.components as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(r.forecast, 6);
      expect(r.forecast_final).toBe(r.forecast);
    }
    expect(Object.keys(c.kinds)).toContain('level/trend');
    expect(Object.values(c.weights as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(c.totals[0]).toMatchObject({ name: 'level/trend', kind: 'level' });
    await bad(get('/series/S01/NOPE/components'), 404, /no series store S01, sku NOPE/);
    await bad(get('/series/S01/MILK-1L/components?run=yesterday'), 400, /^run:/);
    await bad(get('/series/S01/MILK-1L/components?color=red'), 400, /unknown query parameter "color"/);
  });

  it('GET /series/{store}/{sku}/past gives the backtest windows\' forecasts beside what sold', async () => {
    const p = await json('/series/S01/MILK-1L/past');
    expect(p.backtest.length).toBeGreaterThan(28);
    expect(p.backtest[0]).toEqual({ window: 1, origin: expect.any(String), date: expect.any(String), forecast: expect.any(Number), actual: expect.any(Number) });
    expect(p.previous_runs).toEqual([]);
    await bad(get('/series/S01/MILK-1L/past?run=20251231-zzzzzzzzzz'), 400, /^run:/);
  });

  it('GET /exceptions ranks series by impact and filters by store and reason', async () => {
    const all = await json('/exceptions?run=latest', () => weeklyServer);
    expect(all.rows.length).toBeGreaterThan(0);
    const impacts = all.rows.map((r: Json) => r.impact);
    expect(impacts).toEqual([...impacts].sort((a: number, b: number) => b - a));
    expect(all.rows.map((r: Json) => r.rank)).toEqual(all.rows.map((_r: Json, i: number) => i + 1));
    expect(all.rows.find((r: Json) => r.sku === 'NEWBIE')).toMatchObject({ reason: 'cold_start', store_id: 'S09' });
    const s09 = await json('/exceptions?store=S09&reason=cold_start', () => weeklyServer);
    expect(s09.rows.every((r: Json) => r.store_id === 'S09' && r.reason === 'cold_start')).toBe(true);
    for (const r of all.rows) expect(r.impact).toBeCloseTo(r.units * r.error, 2);
    await bad(get('/exceptions?reason=boredom'), 400, /^reason:/);
    await bad(get('/exceptions?limit=0'), 400, /^limit:/);
    await bad(get('/exceptions?store='), 400, /^store:/);
  });

  it('GET /runs/{id}/series sorts and filters by MASE, volume, bias, impact, class and flag', async () => {
    const byVolume = await json('/runs/latest/series?sort=volume&limit=5');
    const v = byVolume.series.map((s: Json) => s.volume);
    expect(v).toEqual([...v].sort((a: number, b: number) => b - a));
    const intermittent = await json('/runs/latest/series?class=intermittent');
    expect(intermittent.series.every((s: Json) => s.demand_class === 'intermittent')).toBe(true);
    const flagged = await json('/runs/latest/series?flag=any&sort=impact', () => weeklyServer);
    expect(flagged.series.length).toBeGreaterThan(0);
    expect(flagged.series.every((s: Json) => s.exceptions.length > 0)).toBe(true);
    await bad(get('/runs/latest/series?sort=colour'), 400, /^sort:/);
    await bad(get('/runs/latest/series?class=weird'), 400, /^class:/);
  });

  it('records overrides only for tokens with the write scope, from a JSON request of this origin', async () => {
    const ok = { store: 'S01', sku: 'MILK-1L', from: '2026-01-05', to: '2026-01-07', mode: 'value', amount: 250, reason: 'store reopening event' };
    await bad(post('/overrides', ok, VIEWER), 403, /read-only/);
    await bad(post('/overrides', ok, ERP), 403, /may not use \/overrides/);
    await bad(post('/overrides', ok, null), 401, /token/);
    await bad(post('/overrides', ok, PLANNER, { 'Content-Type': 'text/plain' }), 415, /application\/json/);
    await bad(post('/overrides', ok, PLANNER, { 'Content-Type': 'application/json', Origin: 'https://evil.example' }), 403, /origin/);
    await bad(post('/overrides', '{not json', PLANNER), 400, /^body: not JSON/);
    await bad(post('/overrides', { ...ok, sku: undefined }), 400, /^sku:/);
    await bad(post('/overrides', { ...ok, amount: -5 }), 400, /^amount:/);
    await bad(post('/overrides', { ...ok, mode: 'double' }), 400, /^mode:/);
    await bad(post('/overrides', { ...ok, from: '2026-02-30' }), 400, /^from:/);
    await bad(post('/overrides', { ...ok, to: '2026-01-01' }), 400, /^from: from is after to/);
    await bad(post('/overrides', { ...ok, reason: '' }), 400, /^reason:/);
    await bad(post('/overrides', { ...ok, extra: 1 }), 400, /unknown body parameter "extra"/);
    const created = await post('/overrides', ok);
    expect(created.status).toBe(201);
    const { override } = (await created.json()) as Json;
    expect(override).toMatchObject({ store_id: 'S01', sku: 'MILK-1L', mode: 'value', amount: 250, created_by: 'planner-anna', status: 'active' });
    const pct = await post('/overrides', { ...ok, sku: 'BREAD-WH', mode: 'pct', amount: -20, reason: 'competitor opened nearby' });
    expect(pct.status).toBe(201);
    const listed = await json('/overrides?store=S01');
    expect(listed.overrides.map((o: Json) => o.sku).sort()).toEqual(['BREAD-WH', 'MILK-1L']);
    await bad(get('/overrides?status=maybe'), 400, /^status:/);
  });

  it('applies active overrides atomically: `overrides apply` publishes a run with forecast_final, and so does the next run', async () => {
    const applied = await applyOverridesRun(cfg(), 'cli:test');
    expect(applied).toMatchObject({ base: first.runId, active: 2, applied: 2, rows: 6, published: true });
    const rows = await sql<{ sku: string; date: string; forecast: number; forecast_final: number; override: number | null }>(
      `SELECT sku, strftime(date, '%Y-%m-%d') AS date, forecast, forecast_final, override FROM read_parquet(${sqlString(join(out, 'latest', 'forecasts.parquet'))})
       WHERE store_id = 'S01' AND sku IN ('MILK-1L', 'BREAD-WH') AND date BETWEEN '2026-01-04' AND '2026-01-08' ORDER BY sku, date`);
    const milk = rows.filter((r) => r.sku === 'MILK-1L');
    expect(milk.map((r) => r.forecast_final)).toEqual([milk[0].forecast, 250, 250, 250, milk[4].forecast]);
    expect(milk.map((r) => r.override === null)).toEqual([true, false, false, false, true]);
    const bread = rows.filter((r) => r.sku === 'BREAD-WH' && r.override !== null);
    for (const r of bread) expect(r.forecast_final).toBeCloseTo(r.forecast * 0.8, 3);
    // The statistical forecast is the first run's, unchanged.
    const stat = await sql<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(join(out, 'latest', 'forecasts.parquet'))}) a
      JOIN read_parquet(${sqlString(join(first.dir, 'forecasts.parquet'))}) b USING (store_id, sku, date) WHERE a.forecast <> b.forecast`);
    expect(stat[0].n).toBe(0);
    expect((await applyOverridesRun(cfg(), 'cli:test')).published).toBe(false);
    const runs = await json('/runs');
    expect(runs.runs[0]).toMatchObject({ run_id: applied.runId, kind: 'overrides', latest: true, overrides: { applied: 2, rows: 6 } });

    // The next run (the same data here) forecasts again and applies them too.
    const next = await runForecast(cfg());
    expect(next.runId).not.toBe(first.runId);
    const again = await sql<{ n: number }>(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(join(next.dir, 'forecasts.parquet'))}) WHERE override IS NOT NULL`);
    expect(again[0].n).toBe(6);
    const log = await json('/overrides/log');
    expect(log.log.filter((a: Json) => a.action === 'applied').map((a: Json) => a.run_id)).toEqual(expect.arrayContaining([applied.runId, next.runId]));
  });

  it('expires and removes overrides, keeping the audit trail; bad ids are 400 or 404, ended ones 409', async () => {
    const { overrides } = await json('/overrides?status=active');
    const [a, b] = overrides as Json[];
    const expired = await post(`/overrides/${a.id}/expire`, {});
    expect(expired.status).toBe(200);
    expect(((await expired.json()) as Json).override).toMatchObject({ status: 'expired', ended_by: 'planner-anna' });
    await bad(post(`/overrides/${a.id}/expire`, {}), 409, /is expired, not active/);
    await bad(call(() => server, `/overrides/${b.id}`, { method: 'DELETE', token: VIEWER }), 403, /read-only/);
    const removed = await call(() => server, `/overrides/${b.id}`, { method: 'DELETE', token: PLANNER });
    expect(removed.status).toBe(200);
    await bad(post('/overrides/abc/expire', {}), 400, /^override id:/);
    await bad(call(() => server, '/overrides/999', { method: 'DELETE', token: PLANNER }), 404, /no override 999/);
    const log = (await json(`/overrides/log?id=${a.id}`)).log as Json[];
    expect(log.map((x) => x.action)).toEqual(expect.arrayContaining(['created', 'applied', 'expired']));
    expect(log.find((x) => x.action === 'created')).toMatchObject({ by: 'planner-anna' });
    await bad(get('/overrides/log?id=-1'), 400, /^id:/);
    // Nothing is active now: a later apply publishes the statistical forecast again.
    expect((await json('/overrides?status=active')).overrides).toEqual([]);
  });

  it('GET /runs/{a}/diff/{b} says which series changed most and why', async () => {
    const d = await json(`/runs/${first.runId}/diff/latest?limit=5`);
    expect(d.a.run_id).toBe(first.runId);
    expect(d.series_compared).toBe(48);
    expect(d.rows[0]).toMatchObject({ store_id: 'S01', reasons: expect.arrayContaining(['override']) });
    expect(Math.abs(d.rows[0].change)).toBeGreaterThan(0);
    expect(d.rows[0].sku).toMatch(/MILK-1L|BREAD-WH/);
    await bad(get(`/runs/${first.runId}/diff/nope`), 400, /^run b:/);
    await bad(get(`/runs/${first.runId}/diff/20990101-0123456789`), 404, /no run 20990101-0123456789/);
    await bad(get(`/runs/latest/diff/latest?limit=x`), 400, /^limit:/);
  });

  it('GET /monitoring serves what monitor found: 204 before, then monitoring.json', async () => {
    const none = await get('/monitoring');
    expect(none.status).toBe(204);
    const actuals = join(tempDir(), 'actuals.csv');
    writeFileSync(actuals, ['store_id,sku,date,units', 'S01,MILK-1L,2026-01-01,90', 'S01,MILK-1L,2026-01-02,95', 'S02,BREAD-WH,2026-01-01,40'].join('\n') + '\n');
    await runMonitor(cfg(), actuals);
    const m = await json('/monitoring');
    expect(m).toMatchObject({ input: { first_date: '2026-01-01', last_date: '2026-01-02' }, fva: expect.any(Object) });
    await bad(get('/monitoring?x=1'), 400, /unknown query parameter "x"/);
  });

  it('answers no bad request with a 500', async () => {
    const paths = [
      '/series/%00/x/components', '/series/S01/MILK-1L/components?run=', '/series/S01/MILK-1L/past?run=latest&run=latest', '/exceptions?limit=99999999',
      '/exceptions?limit=1.5', '/runs/latest/diff/latest?store=', '/overrides?store=' + 'x'.repeat(300), '/overrides/log?id=1e400', '/runs/latest/series?flag=all',
    ];
    for (const p of paths) {
      const res = await get(p);
      expect(res.status, p).toBeGreaterThanOrEqual(400);
      expect(res.status, p).toBeLessThan(500);
    }
    for (const body of ['[]', 'null', '"text"', '{"store": 5}']) {
      const res = await post('/overrides', body);
      expect(res.status, body).toBe(400);
    }
  });
});
