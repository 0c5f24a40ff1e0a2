import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { createApp } from '../src/server/app.js';
import { QueryEngine } from '../src/server/db.js';
import { RequestMetrics } from '../src/server/metrics.js';
import { openApiPath } from '../src/server/openapi.js';
import { loadPageAssets } from '../src/server/page-assets.js';
import { RunStore } from '../src/publish/run-store.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { dailyRows, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

// The API against a real server on loopback (port 0), over a real published run of the demo
// data; a second, small run is published while it serves.

const ERP = 'erp-token-0123456789abcdef';
const PLANNER = 'planner-token-0123456789abcdef';
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/** A raw GET whose path is sent exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.path = path;
    req.on('error', reject);
    req.end();
  });
}

describe('shelfcast serve API', () => {
  let out: string;
  let run: RunSummary;
  let server: RunningServer;
  let csvRows: Record<string, string>[];
  const logged: string[] = [];

  const get = (path: string, headers: Record<string, string> = {}, token: string | null = PLANNER) =>
    fetch(`${server.url}${path}`, { headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers } });
  const json = async (path: string, headers: Record<string, string> = {}) => {
    const res = await get(path, headers);
    expect(res.status, path).toBe(200);
    return res.json() as Promise<any>;
  };
  const error = async (path: string, status: number, token: string | null = PLANNER) => {
    const res = await get(path, {}, token);
    expect(res.status, path).toBe(status);
    return ((await res.json()) as { error: string }).error;
  };

  beforeAll(async () => {
    out = tempDir();
    run = await runForecast(parseConfig({ out, threads: 1 }));
    csvRows = parseCsv(readFileSync(join(run.dir, 'forecasts.csv'), 'utf8'));
    server = await startServer({
      out,
      host: '127.0.0.1',
      port: 0,
      tokens: [
        { name: 'erp', token: ERP, routes: ['/runs'] },
        { name: 'planner', env: 'PLANNER_TOKEN' },
      ],
      env: { PLANNER_TOKEN: PLANNER },
      log: (l) => logged.push(l),
    });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('says at start where it listens and who may pull', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(logged.join('\n')).toContain('bearer tokens: erp (/runs), planner');
    expect(logged.join('\n')).not.toContain('WARNING');
  });

  it('answers /health and /openapi.json without a token', async () => {
    const health = await get('/health', {}, null);
    expect(await health.json()).toEqual({ status: 'ok', runs: 1, latest: run.runId });
    const doc = (await (await get('/openapi.json', {}, null)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
  });

  it('describes every route it serves in /openapi.json, and every described path answers', async () => {
    const db = await QueryEngine.open();
    const app = createApp({ store: new RunStore(out), db, tokens: [], allowedHosts: [], requests: new RequestMetrics(), assets: loadPageAssets(), log: () => {} });
    const routes = app.routes.filter((r) => ['GET', 'POST', 'DELETE'].includes(r.method));
    const served = [...new Set(routes.filter((r) => r.method === 'GET').map((r) => openApiPath(r.path)))].sort();
    db.close();
    const doc = (await (await get('/openapi.json', {}, null)).json()) as { paths: Record<string, { get: { parameters: { name: string; in: string }[] } }> };
    expect(Object.keys(doc.paths).sort()).toEqual([...new Set(routes.map((r) => openApiPath(r.path)))].sort());
    for (const r of routes) expect(Object.keys(doc.paths[openApiPath(r.path)]), `${r.method} ${r.path}`).toContain(r.method.toLowerCase());
    expect(doc.paths['/runs/{id}/forecasts'].get.parameters.map((p) => p.name)).toEqual(['id', 'store', 'sku', 'from', 'to', 'cursor', 'limit']);
    const example = { id: 'latest', file: 'series.csv', store: 'S01', sku: 'MILK-1L', name: 'app.js', a: 'latest', b: 'latest' } as Record<string, string>;
    for (const path of served) {
      const res = await get(path.replace(/\{(\w+)\}/g, (_m, k: string) => example[k]));
      // /monitoring has nothing to say (204) before the first `shelfcast monitor`.
      expect(res.status, path).toBe(path === '/monitoring' ? 204 : 200);
      await res.arrayBuffer();
    }
  });

  it('refuses data routes without a token (401), with an unknown one (401), and outside a token\'s routes (403)', async () => {
    const none = await get('/runs', {}, null);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await error('/runs/latest/forecasts.csv', 401, 'not-a-token-of-this-server')).toBe('unknown token');
    expect(await error('/series/S01/MILK-1L', 403, ERP)).toContain('token "erp" may not use /series/S01/MILK-1L');
    expect(await error('/metrics', 403, ERP)).toContain('may not use /metrics');
    expect((await get('/runs/latest', {}, ERP)).status).toBe(200);
    expect((await get('/runsx', {}, ERP)).status).toBe(403);
  });

  it('lists runs and serves a manifest by id and as latest', async () => {
    const { runs } = await json('/runs');
    expect(runs).toHaveLength(1);
    expect(runs[0]).toMatchObject({ run_id: run.runId, latest: true, series: 48, forecast_rows: 48 * 28, rejected_rows: 2 });
    const manifest = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
    expect(await json(`/runs/${run.runId}`)).toEqual(manifest);
    expect(await json('/runs/latest')).toEqual(manifest);
  });

  it('pages forecasts as JSON, filtered by store, SKU and dates in DuckDB', async () => {
    const want = csvRows.filter((r) => r.store_id === 'S02' && r.sku === 'MILK-1L' && r.date >= '2026-01-05' && r.date <= '2026-01-20');
    const page = await json('/runs/latest/forecasts?store=S02&sku=MILK-1L&from=2026-01-05&to=2026-01-20&limit=10');
    expect(page).toMatchObject({ run_id: run.runId, quantiles: [0.1, 0.5, 0.9], count: 10 });
    expect(page.next).toBe(`/runs/${run.runId}/forecasts?store=S02&sku=MILK-1L&from=2026-01-05&to=2026-01-20&limit=10&cursor=${page.next_cursor}`);
    const rest = await json(page.next);
    expect(rest.next).toBeNull();
    const got = [...page.rows, ...rest.rows];
    expect(got.map((r: any) => r.date)).toEqual(want.map((r) => r.date));
    expect(got[0]).toEqual({ ...want[0], step: Number(want[0].step), forecast: Number(want[0].forecast), p10: Number(want[0].p10), p50: Number(want[0].p50), p90: Number(want[0].p90), model_version: Number(want[0].model_version), forecast_final: Number(want[0].forecast_final), override: null });
  });

  it('streams whole files, and filtered CSV, byte for byte as published', async () => {
    const csv = readFileSync(join(run.dir, 'forecasts.csv'), 'utf8');
    const byAccept = await get('/runs/latest/forecasts', { Accept: 'text/csv' });
    expect(byAccept.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(await byAccept.text()).toBe(csv);
    const file = await get(`/runs/${run.runId}/forecasts.csv`);
    expect(file.headers.get('content-length')).toBe(String(Buffer.byteLength(csv)));
    expect(file.headers.get('content-disposition')).toBe(`attachment; filename="${run.runId}-forecasts.csv"`);
    expect(await file.text()).toBe(csv);
    const parquet = new Uint8Array(await (await get('/runs/latest/forecasts.parquet')).arrayBuffer());
    expect(sha256(parquet)).toBe(JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8')).files['forecasts.parquet'].sha256);

    const lines = csv.trimEnd().split('\n');
    const s03 = [lines[0], ...lines.filter((l) => l.split(',')[1] === 'S03')].join('\n') + '\n';
    expect(await (await get('/runs/latest/forecasts?store=S03', { Accept: 'text/csv' })).text()).toBe(s03);
    const head = await fetch(`${server.url}/runs/latest/forecasts.parquet`, { method: 'HEAD', headers: { Authorization: `Bearer ${PLANNER}` } });
    expect(head.headers.get('content-length')).toBe(String(parquet.length));
  });

  it('serves the other run files', async () => {
    expect(await json('/runs/latest/quality.json')).toEqual(JSON.parse(readFileSync(join(run.dir, 'quality.json'), 'utf8')));
    for (const f of ['series.csv', 'rejects.csv', 'history.parquet']) {
      expect(Buffer.from(await (await get(`/runs/latest/${f}`)).arrayBuffer()).equals(readFileSync(join(run.dir, f))), f).toBe(true);
    }
    expect(await error('/runs/latest/secrets.csv', 404)).toBe('a run has no file secrets.csv');
  });

  it('searches the series of a run', async () => {
    const found = await json('/runs/latest/series?q=s01%20MILK');
    expect(found).toMatchObject({ run_id: run.runId, matches: 1 });
    expect(found.series[0]).toMatchObject({ store_id: 'S01', sku: 'MILK-1L', demand_class: 'smooth' });
    expect((await json('/runs/latest/series?limit=5')).matches).toBe(48);
  });

  it('gives one series with history, forecast, band, model and calendar events', async () => {
    const s = await json('/series/S01/MILK-1L');
    const seriesRow = parseCsv(readFileSync(join(run.dir, 'series.csv'), 'utf8')).find((r) => r.store_id === 'S01' && r.sku === 'MILK-1L')!;
    expect(s).toMatchObject({ run_id: run.runId, store_id: 'S01', sku: 'MILK-1L', frequency: 'day', band: { lower: 'p10', upper: 'p90' }, model: seriesRow.model });
    expect(s.backtest.mase).toBe(Number(seriesRow.backtest_mase));
    expect(s.forecast).toHaveLength(28);
    expect(s.forecast[0]).toMatchObject({ date: '2026-01-01', step: 1 });
    expect(s.history.at(-1).date).toBe('2025-12-31');
    expect(s.history.length).toBeGreaterThan(700);
    const events = parseCsv(readFileSync(join(run.dir, 'events.csv'), 'utf8')).filter((e) => e.store_id === 'S01' && e.date >= s.history[0].date && e.date <= '2026-01-28');
    expect(s.events.map((e: any) => `${e.date} ${e.name}`).sort()).toEqual([...new Set(events.map((e) => `${e.date} ${e.name}`))].sort());
    expect(s.events.some((e: any) => e.name === 'Christmas Day' && e.kind === 'holiday')).toBe(true);
    expect(await error('/series/S01/NO-SUCH-SKU', 404)).toContain('has no series store S01, sku NO-SUCH-SKU');
  });

  it('rejects bad parameters with 400 and the reason', async () => {
    const cases: [string, string][] = [
      ['/runs/latest/forecasts?limit=0', 'limit: Too small'],
      ['/runs/latest/forecasts?limit=abc', 'limit: expected number'],
      ['/runs/latest/forecasts?limit=100000', 'limit: Too big'],
      ['/runs/latest/forecasts?from=2025-02-30', 'from: expected a date that exists, as YYYY-MM-DD'],
      ['/runs/latest/forecasts?from=2012-13-01', 'from: expected a date that exists, as YYYY-MM-DD'],
      ['/runs/latest/forecasts?to=2012-00-10', 'to: expected a date that exists, as YYYY-MM-DD'],
      [`/runs/latest/forecasts?cursor=${Buffer.from(JSON.stringify([run.runId, 'S01', 'MILK-1L', '2026-02-30'])).toString('base64url')}`, 'cursor: not a cursor this server issued'],
      ['/runs/latest/forecasts?from=2026-01-10&to=2026-01-01', 'from: from is after to'],
      ['/runs/latest/forecasts?stor=S01', 'unknown query parameter "stor"'],
      ['/runs/latest/forecasts?store=S01&store=S02', '"store" is given 2 times'],
      ['/runs/latest/forecasts?cursor=garbage', 'cursor: not a cursor this server issued'],
      ['/runs/latest/forecasts?store=S%0101', 'store: store contains control characters'],
      ['/runs/20251231/forecasts', 'run id: expected a run id'],
      ['/series/S01/MILK-1L?run=yesterday', 'run: expected a run id'],
      ['/runs?page=2', 'unknown query parameter "page"'],
    ];
    for (const [path, reason] of cases) expect(await error(path, 400), path).toContain(reason);
    expect(await error('/runs/20991231-0123456789', 404)).toBe('no run 20991231-0123456789');
    const csvPaged = await get('/runs/latest/forecasts?limit=5', { Accept: 'text/csv' });
    expect(csvPaged.status).toBe(400);
  });

  it('answers 304 to If-None-Match on every artifact until it changes', async () => {
    for (const path of ['/runs', '/runs/latest', '/runs/latest/forecasts.csv', '/runs/latest/forecasts.parquet', '/runs/latest/forecasts?store=S01&limit=3', '/runs/latest/series?q=S01', '/series/S01/EGGS-12', '/openapi.json', '/']) {
      const first = await get(path);
      const etag = first.headers.get('etag');
      expect(etag, path).toBeTruthy();
      await first.arrayBuffer();
      const again = await get(path, { 'If-None-Match': etag! });
      expect(again.status, path).toBe(304);
      expect(await again.text()).toBe('');
      expect((await get(path, { 'If-None-Match': '"something-else"' })).status, path).toBe(200);
    }
    const filtered = await get('/runs/latest/forecasts?store=S04', { Accept: 'text/csv' });
    await filtered.text();
    expect((await get('/runs/latest/forecasts?store=S04', { Accept: 'text/csv', 'If-None-Match': filtered.headers.get('etag')! })).status).toBe(304);
  });

  it('never serves a path outside the output folder', async () => {
    for (const path of [
      '/runs/..%2F..%2F..%2Fetc%2Fpasswd/manifest.json',
      '/runs/latest/..%2F..%2F..%2Fetc%2Fpasswd',
      '/runs/../../../../etc/passwd',
      '/assets/../../package.json',
      '/assets/..%2F..%2Fpackage.json',
      '/runs/latest/%2e%2e%2f%2e%2e%2fpackage.json',
    ]) {
      const r = await rawGet(server.url, path, PLANNER);
      expect([400, 404], path).toContain(r.status);
      expect(r.body, path).not.toMatch(/root:|"name": "shelfcast"/);
    }
  });

  it('does not follow a symlink in a run folder out of the output folder', async () => {
    const secret = join(tempDir(), 'secret.csv');
    writeFileSync(secret, 'password,hunter2\n');
    const out2 = tempDir();
    mkdirSync(join(out2, 'runs'));
    cpSync(run.dir, join(out2, 'runs', run.runId), { recursive: true });
    rmSync(join(out2, 'runs', run.runId, 'rejects.csv'));
    symlinkSync(secret, join(out2, 'runs', run.runId, 'rejects.csv'));
    const other = await startServer({ out: out2, host: '127.0.0.1', port: 0, tokens: [], env: {}, log: () => {} });
    try {
      const res = await fetch(`${other.url}/runs/${run.runId}/rejects.csv`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('hunter2');
      expect((await fetch(`${other.url}/runs/${run.runId}/series.csv`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it('exports Prometheus metrics about runs and requests', async () => {
    const text = await (await get('/metrics')).text();
    expect(text).toContain('shelfcast_runs 1\n');
    expect(text).toContain(`shelfcast_latest_run_series{run_id="${run.runId}"} 48\n`);
    expect(text).toContain(`shelfcast_latest_run_rejected_rows{run_id="${run.runId}"} 2\n`);
    expect(text).toMatch(new RegExp(`shelfcast_latest_run_duration_seconds\\{run_id="${run.runId}"\\} \\d`));
    expect(text).toMatch(/shelfcast_http_requests_total\{method="GET",route="\/runs",status="401"\} [1-9]/);
    expect(text).toMatch(/shelfcast_http_requests_total\{method="GET",route="\/runs\/\{id\}\/forecasts",status="400"\} [1-9]/);
    expect(text).toMatch(/# TYPE shelfcast_http_requests_total counter/);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
  });

  it('picks up a run published while serving, without a restart', async () => {
    const before = await get('/runs/latest/forecasts.csv');
    const etag = before.headers.get('etag')!;
    await before.text();
    const firstPage = await json('/runs/latest/forecasts?limit=5');

    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', [
      // Newer than the demo data: a feed that ends before the published run's would be refused.
      ...dailyRows('N1', 'NEW-SKU', '2025-12-01', 90, (i) => 10 + (i % 7)),
      ...dailyRows('N2', 'NEW-SKU', '2025-12-01', 90, (i) => 20 + (i % 5)),
    ]);
    const fresh = await runForecast(parseConfig({ out, input: { path: input }, threads: 1, horizon: 7, models: { windows: 1, combine: 1 } }));

    const { runs } = await json('/runs');
    expect(runs.map((r: any) => [r.run_id, r.latest])).toEqual([[fresh.runId, true], [run.runId, false]]);
    const after = await get('/runs/latest/forecasts.csv', { 'If-None-Match': etag });
    expect(after.status).toBe(200);
    expect(await after.text()).toBe(readFileSync(join(fresh.dir, 'forecasts.csv'), 'utf8'));
    expect((await json('/series/N1/NEW-SKU')).forecast).toHaveLength(7);
    expect((await json(`/series/S01/MILK-1L?run=${run.runId}`)).run_id).toBe(run.runId);
    // A cursor from the old latest run, replayed on `latest`, is refused rather than mixing runs …
    const replay = await get(`/runs/latest/forecasts?limit=5&cursor=${firstPage.next_cursor}`);
    expect(replay.status).toBe(409);
    // … and the `next` link it came with still continues in that run.
    expect((await json(firstPage.next)).run_id).toBe(run.runId);
    // The metrics follow the new latest run, with no stale sample of the old one.
    const metrics = await (await get('/metrics')).text();
    expect(metrics).toContain(`shelfcast_latest_run_series{run_id="${fresh.runId}"} 2\n`);
    expect(metrics).not.toContain(`shelfcast_latest_run_series{run_id="${run.runId}"}`);
  });
});
