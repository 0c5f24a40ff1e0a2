import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { ARTIFACTS, MANIFEST } from '../src/publish/artifacts.js';
import { RunManifest } from '../src/publish/manifest.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { packageRoot } from '../src/version.js';
import { tempDir } from './helpers/tmp.js';

// One contract for what a run writes (src/publish/artifacts.ts, src/publish/manifest.ts): the
// run folder, its manifest, the server, the API description and the page all follow it.

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('run artifacts', () => {
  let run: RunSummary;
  let server: RunningServer;

  beforeAll(async () => {
    const out = tempDir();
    run = await runForecast(parseConfig({ out, threads: 1, calendars: { fiscal: 'nrf-454' } }));
    server = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], env: {}, log: () => {} });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('are what the run folder holds: each registered, every one a run must write present, the manifest listing the rest in registry order', () => {
    const names: string[] = ARTIFACTS.map((a) => a.name);
    const present = readdirSync(run.dir);
    expect(present.filter((f) => !names.includes(f))).toEqual([]);
    for (const a of ARTIFACTS) if (!('optional' in a)) expect(present, a.name).toContain(a.name);
    const manifest = JSON.parse(readFileSync(join(run.dir, MANIFEST), 'utf8'));
    expect(Object.keys(manifest.files)).toEqual(names.filter((n) => n !== MANIFEST && present.includes(n)));
    for (const a of ARTIFACTS) expect(existsSync(join(packageRoot(), a.writer)), a.writer).toBe(true);
  });

  it('come with a manifest that its schema reads back whole', () => {
    const text = readFileSync(join(run.dir, MANIFEST), 'utf8');
    const raw = JSON.parse(text);
    const parsed = RunManifest.parse(raw);
    // Nothing the run wrote is unknown to the schema (it would be dropped here), and its key order is the schema's.
    expect(parsed).toEqual(raw);
    expect(JSON.stringify(parsed, null, 2) + '\n').toBe(text);
    expect(parsed.data.target_dates).toEqual({ first: '2026-01-01', last: '2026-01-28' });
  });

  it('include the fiscal totals with calendars.fiscal nrf-454, served like every other file', async () => {
    const file = readFileSync(join(run.dir, 'forecasts-fiscal.csv'));
    expect(file.toString('utf8').split('\n')[0]).toBe('store_id,sku,fiscal_year,fiscal_period,periods,forecast');
    const res = await fetch(`${server.url}/runs/latest/forecasts-fiscal.csv`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${run.runId}-forecasts-fiscal.csv"`);
    const body = Buffer.from(await res.arrayBuffer());
    expect(sha256(body)).toBe(JSON.parse(readFileSync(join(run.dir, MANIFEST), 'utf8')).files['forecasts-fiscal.csv'].sha256);
    const again = await fetch(`${server.url}/runs/latest/forecasts-fiscal.csv`, { headers: { 'If-None-Match': res.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  it('are the files the API describes and the page offers', async () => {
    const openapi = (await (await fetch(`${server.url}/openapi.json`)).json()) as any;
    const file = openapi.paths['/runs/{id}/{file}'].get.parameters.find((p: { name: string }) => p.name === 'file');
    expect(file.schema.enum).toEqual(ARTIFACTS.filter((a) => a.served).map((a) => a.name));
    const downloads = (await (await fetch(`${server.url}/assets/downloads.json`)).json()) as { name: string }[];
    expect(downloads.map((d) => d.name)).toEqual(['forecasts.csv', 'forecasts.parquet', 'series.csv', 'forecasts-fiscal.csv', 'rejects.csv', 'exceptions.csv']);
    const missing = await fetch(`${server.url}/runs/latest/backtest.csv`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: string }).error).toBe('a run has no file backtest.csv');
  });
});
