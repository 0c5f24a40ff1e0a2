import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parseConfig } from '../src/config/load.js';
import { RunManifest } from '../src/publish/manifest.js';
import { formatDate, weekLabel } from '../src/publish/profiles.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { DuckDBInstance } from '@duckdb/node-api';
import { tempDir } from './helpers/tmp.js';

// Issue 18, item 1 and 5: the output profiles on the demo data, their files as golden files,
// served under their names, compressed on request; the signed run.published webhook.

const GOLDEN = new URL('fixtures/erp/', import.meta.url);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const OUTPUTS = [
  { profile: 'sap-ibp' },
  { profile: 'amazon-forecast-export' },
  { profile: 'wide' },
  { profile: 'long' },
  { profile: 'wide', name: 'wide-stores', layout: 'store', format: 'csv.gz' },
  { profile: 'long', name: 'long-parquet', format: 'parquet' },
];

/** Compare with the golden file, or write it with UPDATE_GOLDEN=1 (after a deliberate change of the forecasts). */
function matchesGolden(name: string, text: string): void {
  const file = new URL(name, GOLDEN);
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(file)) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, text);
  }
  expect(text, `${name} differs from test/fixtures/erp/${name} (UPDATE_GOLDEN=1 rewrites it)`).toBe(readFileSync(file, 'utf8'));
}

describe('output profiles', () => {
  let run: RunSummary;
  let server: RunningServer;
  let hook: Server;
  const received: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
  const secret = 'a shared secret for the test receiver';

  beforeAll(async () => {
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { received.push({ headers: req.headers, body }); res.end('ok'); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as { port: number }).port;
    const out = tempDir();
    process.env.SHELFCAST_TEST_HOOK_SECRET = secret;
    run = await runForecast(parseConfig({ out, threads: 1, horizon: 7, outputs: OUTPUTS, webhook: { url: `http://127.0.0.1:${port}/published`, secretEnv: 'SHELFCAST_TEST_HOOK_SECRET' } }));
    server = await startServer({ out, host: '127.0.0.1', port: 0, tokens: [], env: {}, log: () => {} });
  });

  afterAll(async () => {
    await server?.close();
    hook?.close();
    delete process.env.SHELFCAST_TEST_HOOK_SECRET;
  });

  it('write each shipped profile as its golden file on the demo data', () => {
    for (const name of ['sap-ibp.csv', 'amazon-forecast-export.csv', 'wide.csv', 'long.csv']) matchesGolden(name, readFileSync(join(run.dir, 'outputs', name), 'utf8'));
    const ibp = readFileSync(join(run.dir, 'outputs', 'sap-ibp.csv'), 'utf8').split('\n');
    expect(ibp[0]).toBe('LOCID,PRDID,KEYFIGUREDATE,STATISTICALFORECASTQTY,CONSENSUSDEMANDQTY,STATFCSTQTY_P10,STATFCSTQTY_P50,STATFCSTQTY_P90');
    expect(readFileSync(join(run.dir, 'outputs', 'amazon-forecast-export.csv'), 'utf8').split('\n')[1]).toMatch(/^S01,BANANA-KG,2026-01-01T00:00:00Z,/);
    // wide rounds to whole units; long has a row per quantity.
    expect(readFileSync(join(run.dir, 'outputs', 'wide.csv'), 'utf8').split('\n').slice(1, -1).every((l) => l.split(',').slice(3).every((v) => /^\d+$/.test(v)))).toBe(true);
    expect(readFileSync(join(run.dir, 'outputs', 'long.csv'), 'utf8').split('\n').slice(1, 5)).toEqual(expect.arrayContaining([expect.stringMatching(/^S01,BANANA-KG,2026-01-01,mean,,/), expect.stringMatching(/^S01,BANANA-KG,2026-01-01,quantile,0.1,/)]));
  });

  it('write per-store gzip files and Parquet with the same rows', async () => {
    const wide = readFileSync(join(run.dir, 'outputs', 'wide.csv'), 'utf8').split('\n');
    const s01 = gunzipSync(readFileSync(join(run.dir, 'outputs', 'wide-stores', 'S01.csv.gz'))).toString('utf8').split('\n');
    expect(s01[0]).toBe(wide[0]);
    expect(s01.slice(1, -1)).toEqual(wide.slice(1, -1).filter((l) => l.startsWith('S01,')));
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await db.runAndReadAll(`SELECT count(*)::INTEGER AS n, count(DISTINCT store_id)::INTEGER AS stores FROM '${join(run.dir, 'outputs', 'long-parquet.parquet')}'`)).getRowObjects();
    expect(rows[0]).toEqual({ n: readFileSync(join(run.dir, 'outputs', 'long.csv'), 'utf8').trim().split('\n').length - 1, stores: 4 });
    db.closeSync();
  });

  it('are listed with checksums in the manifest, with a data dictionary', () => {
    const m = RunManifest.parse(JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8')));
    expect(m.outputs?.map((o) => o.name)).toEqual(['sap-ibp', 'amazon-forecast-export', 'wide', 'long', 'wide-stores', 'long-parquet']);
    const stores = m.outputs?.find((o) => o.name === 'wide-stores');
    expect(stores?.files).toEqual(['S01', 'S02', 'S03', 'S04'].map((s) => `outputs/wide-stores/${s}.csv.gz`));
    for (const o of m.outputs ?? []) for (const f of o.files) expect(m.files[f].sha256).toBe(sha256(readFileSync(join(run.dir, f))));
    const schema = readFileSync(join(run.dir, 'SCHEMA.md'), 'utf8');
    for (const f of ['forecasts.csv', 'series.csv', 'outputs/sap-ibp.csv', 'outputs/wide-stores/S01.csv.gz']) expect(schema).toContain(`## ${f}`);
    expect(schema).toContain('| `KEYFIGUREDATE` | text |');
    expect(m.files['SCHEMA.md'].sha256).toBe(sha256(readFileSync(join(run.dir, 'SCHEMA.md'))));
  });

  it('are served under their names, compressed when asked, and nothing served names a server folder', async () => {
    const list = (await (await fetch(`${server.url}/runs/latest/outputs`)).json()) as { outputs: { name: string; files: { url: string; sha256: string }[] }[] };
    expect(list.outputs.map((o) => o.name)).toContain('sap-ibp');
    const byName = await fetch(`${server.url}/runs/latest/outputs/sap-ibp`);
    expect(byName.status).toBe(200);
    expect(byName.headers.get('content-disposition')).toBe(`attachment; filename="${run.runId}-sap-ibp.csv"`);
    const plain = Buffer.from(await byName.arrayBuffer());
    expect(plain.equals(readFileSync(join(run.dir, 'outputs', 'sap-ibp.csv')))).toBe(true);
    const member = await fetch(`${server.url}/runs/latest/outputs/wide-stores/S02.csv.gz`);
    expect(member.headers.get('content-type')).toBe('application/gzip');
    expect(sha256(Buffer.from(await member.arrayBuffer()))).toBe(list.outputs.find((o) => o.name === 'wide-stores')!.files[1].sha256);
    expect((await fetch(`${server.url}/runs/latest/outputs/wide-stores`)).headers.get('content-type')).toMatch(/json/);
    expect((await fetch(`${server.url}/runs/latest/outputs/nope.csv`)).status).toBe(404);
    expect((await fetch(`${server.url}/runs/latest/outputs/%2E%2E%2Fmanifest.json`)).status).toBe(404);
    // Compressed on request (undici's fetch would decode on its own, so read through node:http).
    const raw = async (path: string, encoding: string) => {
      const { request } = await import('node:http');
      return new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        request(`${server.url}${path}`, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject).end();
      });
    };
    const br = await raw('/runs/latest/forecasts.csv', 'gzip, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).equals(readFileSync(join(run.dir, 'forecasts.csv')))).toBe(true);
    const gz = await raw('/runs/latest/outputs/long.csv', 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).equals(readFileSync(join(run.dir, 'outputs', 'long.csv')))).toBe(true);
    const parquet = await raw('/runs/latest/forecasts.parquet', 'gzip, br');
    expect(parquet.headers['content-encoding']).toBeUndefined();
    // Every served file: no absolute folder of this machine.
    const manifest = (await (await fetch(`${server.url}/runs/latest`)).json()) as { files: Record<string, unknown> };
    for (const f of [...Object.keys(manifest.files), '']) {
      const text = Buffer.from(await (await fetch(`${server.url}/runs/latest${f ? `/${f}` : ''}`)).arrayBuffer()).toString('latin1');
      expect(text.includes(run.dir), f).toBe(false);
      expect(text.includes(process.cwd()), f).toBe(false);
    }
  });

  it('notify a receiver with a signed run.published webhook it can verify', () => {
    expect(received).toHaveLength(1);
    const { headers, body } = received[0];
    const ts = String(headers['x-shelfcast-timestamp']);
    const expected = `sha256=${createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex')}`;
    const got = String(headers['x-shelfcast-signature']);
    expect(timingSafeEqual(Buffer.from(got), Buffer.from(expected))).toBe(true);
    expect(Math.abs(Date.now() / 1000 - Number(ts))).toBeLessThan(600);
    expect(headers['x-shelfcast-event']).toBe('run.published');
    const notice = JSON.parse(body);
    expect(notice).toMatchObject({ event: 'run.published', run_id: run.runId, manifest: `/runs/${run.runId}` });
    expect(notice.files['outputs/sap-ibp.csv'].url).toBe(`/runs/${run.runId}/outputs/sap-ibp.csv`);
    expect(body.includes(run.dir)).toBe(false);
  });

  it('stops a run whose webhook secret is named but not set', async () => {
    await expect(runForecast(parseConfig({ out: tempDir(), threads: 1, horizon: 7, webhook: { url: 'http://127.0.0.1:9/x', secretEnv: 'SHELFCAST_NOT_SET_ANYWHERE' } }))).rejects.toThrow(/webhook.secretEnv names SHELFCAST_NOT_SET_ANYWHERE, which is not set/);
  });
});

describe('profile dates', () => {
  it('label weeks with the Monday (or Sunday) of the calendar week holding most of their days', () => {
    expect(weekLabel('2012-08-10', 'monday', 'end')).toBe('2012-08-06'); // a Walmart Friday: Sat–Fri, Mon–Fri in the week of Monday the 6th
    expect(weekLabel('2026-01-04', 'monday', 'end')).toBe('2025-12-29'); // a Sunday ending Mon–Sun
    expect(weekLabel('2012-08-10', 'sunday', 'end')).toBe('2012-08-05');
    expect(weekLabel('2026-01-05', 'monday', 'start')).toBe('2026-01-05');
    expect(formatDate('2026-03-07', '%d.%m.%Y')).toBe('07.03.2026');
    expect(formatDate('2026-03-07', '%Y%m%d %j %%')).toBe('20260307 066 %');
  });
});
