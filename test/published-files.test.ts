import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { openDuckDb, queryRows } from '../src/db/duckdb.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { runMonitor } from '../src/monitor/monitor.js';
import { explainForecast } from '../src/run/explain.js';
import { ARTIFACTS, MANIFEST } from '../src/publish/artifacts.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { packageRoot } from '../src/version.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

// Store and SKU codes come from the customer's data, and planners open the published CSVs in
// Excel: a code that starts like a formula must not run as one. And whatever is served must not
// tell a client where the server keeps its files.

const HOSTILE = [
  ["=cmd|' /C calc'!A0", 'MILK'],
  ['@evil', '+SUM(1)'],
  ['S1', '-2+3'],
  ['S1', "'=already-quoted"],
  ['S1', 'PLAIN'],
] as const;
const START = Date.parse('2024-01-01T00:00:00Z');
const iso = (i: number) => new Date(START + i * 86400000).toISOString().slice(0, 10);
const rows = (from: number, to: number) =>
  HOSTILE.flatMap(([store, sku]) => Array.from({ length: to - from }, (_, k) => `"${store.replaceAll('"', '""')}",${sku},${iso(from + k)},${5 + ((from + k) % 7)}`));

/** A field a spreadsheet would run: starts with = + - @ tab or CR and is not a plain number. */
const formulaLike = (v: string) => /^[=+\-@\t\r]/.test(v) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v);

describe('published files', () => {
  let dir: string;
  let out: string;
  let run: RunSummary;
  let server: RunningServer;
  const read = (name: string) => readFileSync(join(run.dir, name), 'utf8');

  beforeAll(async () => {
    dir = tempDir();
    out = join(dir, 'out');
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', [...rows(0, 70), 'S1,PLAIN,=1+1,4', 'S1,PLAIN,2024-03-20,-5']);
    const events = join(dir, 'my-events.csv');
    writeFileSync(events, 'name,start,end\n=HYPERLINK(1),2024-02-10,2024-02-10\n');
    // A future file whose one row lies beyond the horizon: named in the manifest, used nowhere.
    const future = writeCsv(dir, 'future.csv', 'store_id,sku,date,open', ['S1,PLAIN,2030-01-01,1']);
    const cfg = parseConfig({ input: { path: input, future }, out, horizon: 7, threads: 1, quality: { negativeUnits: 'reject', asOf: '2024-12-31' }, calendars: { events } });
    run = await runForecast(cfg, undefined, new Date('2024-03-11T06:00:00Z'));
    server = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], log: () => {} });
  });

  afterAll(async () => {
    await server?.close();
  });

  describe('CSV cells that start like a formula', () => {
    it('are neutralised in every CSV a run publishes, and read back as they were', async () => {
      const files = ['forecasts.csv', 'series.csv', 'events.csv', 'rejects.csv'];
      for (const f of files) {
        const bad = parseCsv(read(f)).flatMap((r) => Object.values(r).filter(formulaLike));
        expect(bad, f).toEqual([]);
      }
      const forecasts = parseCsv(read('forecasts.csv'));
      expect(new Set(forecasts.map((r) => r.store_id))).toEqual(new Set(["'=cmd|' /C calc'!A0", "'@evil", 'S1']));
      expect(new Set(forecasts.map((r) => r.sku))).toEqual(new Set(['MILK', "'+SUM(1)", "'-2+3", "''=already-quoted", 'PLAIN']));
      expect(forecasts.every((r) => Number.isFinite(Number(r.forecast)))).toBe(true);
      expect(parseCsv(read('events.csv')).some((e) => e.name === "'=HYPERLINK(1)")).toBe(true);
      const rejects = parseCsv(read('rejects.csv'));
      expect(rejects.map((r) => [r.date, r.units])).toEqual([["'=1+1", '4'], ['2024-03-20', '-5']]);

      // The Parquet file, typed data for machines, keeps the codes as they are in the input.
      const conn = await openDuckDb();
      try {
        const ids = await queryRows<{ store_id: string; sku: string }>(conn, `SELECT DISTINCT store_id, sku FROM read_parquet('${join(run.dir, 'forecasts.parquet')}') ORDER BY ALL`);
        expect(ids.map((r) => [r.store_id, r.sku])).toEqual([...HOSTILE].map(([s, k]) => [s, k]).sort());
      } finally {
        conn.closeSync();
      }
    });

    it('are neutralised in the API\'s CSV, while its JSON, explain and monitor see the real codes', async () => {
      const csv = await (await fetch(`${server.url}/runs/latest/forecasts?store=${encodeURIComponent('@evil')}`, { headers: { Accept: 'text/csv' } })).text();
      const served = parseCsv(csv);
      expect(served.length).toBe(7);
      expect(served.every((r) => r.store_id === "'@evil" && r.sku === "'+SUM(1)")).toBe(true);

      const detail = await fetch(`${server.url}/series/${encodeURIComponent('@evil')}/${encodeURIComponent('+SUM(1)')}`);
      expect(detail.status).toBe(200);
      expect(await detail.json()).toMatchObject({ store_id: '@evil', sku: '+SUM(1)', model: expect.any(String) });
      const search = (await (await fetch(`${server.url}/runs/latest/series?q=evil`)).json()) as { series: { store_id: string; sku: string }[] };
      expect(search.series.map((s) => [s.store_id, s.sku])).toEqual([['@evil', '+SUM(1)']]);

      const cfg = parseConfig({ out, threads: 1 });
      const e = await explainForecast(cfg, 'S1', '-2+3', iso(71));
      expect(e.series?.sku).toBe('-2+3');
      expect(e.input.rows.length).toBe(70);

      const actuals = writeCsv(dir, 'actuals.csv', 'store_id,sku,date,units', rows(70, 74));
      const report = await runMonitor(parseConfig({ out, quality: { asOf: '2024-12-31' } }), actuals, undefined, new Date('2024-03-16T06:00:00Z'));
      expect(report.overall.series).toBe(HOSTILE.length);
      const monitoring = parseCsv(readFileSync(join(out, 'monitoring.csv'), 'utf8'));
      expect(monitoring.flatMap((r) => Object.values(r).filter(formulaLike))).toEqual([]);
      expect(monitoring.every((r) => r.mase !== '')).toBe(true);
    });
  });

  describe('what the server serves', () => {
    it('never contains an absolute path of the server', async () => {
      const paths = ['/runs', '/runs/latest', `/runs/${run.runId}`, '/runs/latest/series', '/runs/latest/forecasts', '/series/S1/PLAIN', '/health', '/metrics'];
      const files = JSON.parse(read(MANIFEST)).files;
      for (const { name } of ARTIFACTS) if (name === MANIFEST || name in files) paths.push(`/runs/latest/${name}`);
      const secrets = [dir, out, packageRoot(), tmpdir()];
      for (const path of paths) {
        const res = await fetch(`${server.url}${path}`);
        expect(res.status, path).toBe(200);
        const body = Buffer.from(await res.arrayBuffer()).toString('latin1');
        for (const s of secrets) expect(body.includes(s), `${path} contains ${s}`).toBe(false);
      }
    });

    it('names files by what they are to their readers, and keeps the checksums for lineage', async () => {
      const manifest = (await (await fetch(`${server.url}/runs/latest`)).json()) as any;
      expect(manifest.input).toMatchObject({ path: 'sales.csv', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(manifest.config.input.path).toBe('sales.csv');
      expect(manifest.config.input.future).toBe('future.csv');
      expect(manifest.future).toMatchObject({ file: 'future.csv', rows: 1, used: 0, outside_horizon: 1 });
      expect(manifest.config.calendars.events).toBe('my-events.csv');
      expect(manifest.calendars.files.map((f: { file: string }) => f.file).sort()).toEqual(['events/US.csv', 'holidays/US.csv', 'my-events.csv']);
      expect(manifest.calendars.files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
      const quality = (await (await fetch(`${server.url}/runs/latest/quality.json`)).json()) as any;
      expect(quality.source).toBe('sales.csv');
      expect(parseCsv(await (await fetch(`${server.url}/runs/latest/rejects.csv`)).text()).map((r) => r.file)).toEqual(['sales.csv', 'sales.csv']);
    });
  });
});
