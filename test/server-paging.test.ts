import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

// A large run (400 series × 28 days = 11,200 forecast rows): paging must return every row once,
// in order, and the server must finish a download in flight when it is asked to stop.

const SERIES = 400;
const HORIZON = 28;

describe('paging across a large run', () => {
  let run: RunSummary;
  let server: RunningServer;
  let csv: string;

  beforeAll(async () => {
    const dir = tempDir();
    const rows: string[] = [];
    for (let s = 0; s < SERIES; s++) {
      const store = `S${String(s % 20).padStart(3, '0')}`;
      rows.push(...dailyRows(store, `SKU-${String(Math.floor(s / 20)).padStart(2, '0')}`, '2025-01-01', 60, (i) => 5 + ((i * (s + 3)) % 11)));
    }
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const snaive = ['snaive'] as const;
    run = await runForecast(
      parseConfig({
        out: join(dir, 'out'),
        input: { path: input },
        threads: 1,
        horizon: HORIZON,
        models: { windows: 1, combine: 1, candidates: { smooth: snaive, erratic: snaive, intermittent: snaive, lumpy: snaive } },
      }),
    );
    csv = readFileSync(join(run.dir, 'forecasts.csv'), 'utf8');
    server = await startServer({ out: join(dir, 'out'), host: '127.0.0.1', port: 0, tokens: [], env: {}, log: () => {} });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('returns every row exactly once, in store/SKU/date order, one page at a time', async () => {
    const want = csv.trimEnd().split('\n').slice(1).map((l) => l.split(',').slice(1, 4).join('|'));
    expect(want).toHaveLength(SERIES * HORIZON);
    const got: string[] = [];
    let next: string | null = '/runs/latest/forecasts?limit=1000';
    let pages = 0;
    while (next) {
      const page = (await (await fetch(`${server.url}${next}`)).json()) as { count: number; rows: Record<string, string>[]; next: string | null };
      expect(page.count).toBeLessThanOrEqual(1000);
      got.push(...page.rows.map((r) => `${r.store_id}|${r.sku}|${r.date}`));
      next = page.next;
      pages += 1;
    }
    expect(pages).toBe(Math.ceil((SERIES * HORIZON) / 1000));
    expect(got).toEqual([...want].sort());
    expect(new Set(got).size).toBe(got.length);
  });

  it('pages a filter across page boundaries that split a series', async () => {
    const want = csv.split('\n').filter((l) => l.split(',')[1] === 'S007').map((l) => l.split(',').slice(2, 4).join('|'));
    const got: string[] = [];
    let next: string | null = '/runs/latest/forecasts?store=S007&from=2026-01-01&limit=9';
    while (next) {
      const page = (await (await fetch(`${server.url}${next}`)).json()) as { rows: Record<string, string>[]; next: string | null };
      got.push(...page.rows.map((r) => `${r.sku}|${r.date}`));
      next = page.next;
    }
    expect(want).toHaveLength(20 * HORIZON);
    expect(got).toEqual(want.filter((k) => k.split('|')[1] >= '2026-01-01'));
  });

  it('finishes a download in flight when it stops, and then accepts no more', async () => {
    const res = await fetch(`${server.url}/runs/latest/forecasts.csv`);
    const reader = res.body!.getReader();
    const first = await reader.read();
    const closing = server.close();
    const chunks: Uint8Array[] = [first.value!];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(r.value);
    await closing;
    expect(Buffer.concat(chunks).toString('utf8')).toBe(csv);
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});
