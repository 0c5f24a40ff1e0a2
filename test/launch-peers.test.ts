import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { openDuckDb, queryRows } from '../src/db/duckdb.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

/**
 * Launches forecast from their peers (models.coldStart: peers): a series too short for a
 * backtest gets its own level times the same SKU's forecasts in the other stores over their
 * level in the same weeks, through real runs (and a sharded one), with no network trained.
 */
type Row = Record<string, string>;
const rowsOf = (dir: string, file: string): Row[] => parseCsv(readFileSync(join(dir, file), 'utf8'));
const WEEKS = 160;
const LAUNCHED = 6;

/** Weekly sales of SKUs A and B in stores S1–S3 for 160 weeks, with a year's season; S4 sells A for the last 6 weeks only. */
function launchData(dir: string): { input: string; actual: Map<string, number[]> } {
  const r = rng(7);
  const t0 = Date.parse('2021-01-01T00:00:00Z');
  const date = (w: number): string => new Date(t0 + w * 7 * 86400000).toISOString().slice(0, 10);
  const rows: string[] = [];
  const actual = new Map<string, number[]>();
  const series = [['S1', 'A', 100], ['S2', 'A', 200], ['S3', 'A', 300], ['S1', 'B', 80], ['S2', 'B', 60], ['S3', 'B', 40], ['S4', 'A', 50]] as const;
  for (const [store, sku, size] of series) {
    const from = store === 'S4' ? WEEKS - LAUNCHED : 0;
    const ys: number[] = [];
    for (let w = from; w < WEEKS; w++) {
      const season = sku === 'A' ? 1 + 0.5 * Math.sin((2 * Math.PI * w) / 52) : 1;
      const y = Math.max(0, Math.round(size * season * (1 + 0.05 * gaussian(r))));
      ys.push(y);
      rows.push(`${store},${sku},${date(w)},${y}`);
    }
    actual.set(`${store}/${sku}`, ys);
  }
  return { input: writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows), actual };
}

describe('launches forecast from their peers (models.coldStart: peers)', () => {
  const dir = tempDir();
  const data = launchData(dir);
  const settings = (out: string, coldStart?: 'peers' | 'model') => ({
    input: { path: data.input }, out, horizon: 8, threads: 1, calendars: { enabled: false },
    models: { windows: 2, global: { enabled: false }, ...(coldStart ? { coldStart } : {}) },
  });

  it('gives a short series its level times its peers\' forecasts over their level in the same weeks', async () => {
    const run = await runForecast(parseConfig(settings(join(dir, 'a'))), undefined, new Date('2024-01-20T03:00:00Z'), 'retrain');
    const series = new Map(rowsOf(run.dir, 'series.csv').map((s) => [`${s.store_id}/${s.sku}`, s]));
    expect(series.get('S4/A')).toMatchObject({ model: 'peers', selection: 'cold-start' });
    for (const k of ['S1/A', 'S2/A', 'S3/A', 'S1/B']) expect(series.get(k)?.model).not.toBe('peers');
    const fc = rowsOf(run.dir, 'forecasts.csv');
    const path = (k: string): number[] => fc.filter((f) => `${f.store_id}/${f.sku}` === k).map((f) => Number(f.forecast));
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const level = mean(data.actual.get('S4/A') as number[]);
    const peers = ['S1/A', 'S2/A', 'S3/A'];
    const peerLevel = peers.reduce((a, k) => a + mean((data.actual.get(k) as number[]).slice(-LAUNCHED)), 0);
    const expected = path('S1/A').map((_, s) => (level * peers.reduce((a, k) => a + path(k)[s], 0)) / peerLevel);
    const got = path('S4/A');
    expect(got).toHaveLength(8);
    got.forEach((v, s) => expect(v).toBeCloseTo(expected[s], 2));
    // The season carries over: the peers' forecasts move, and so does the launch, a sixth of them.
    expect(Math.max(...got) / Math.min(...got)).toBeGreaterThan(1.1);
    // Its band is ordered and around it; its components add up to it.
    for (const x of fc.filter((f) => f.store_id === 'S4')) {
      const [p10, p50, p90] = [x.p10, x.p50, x.p90].map(Number);
      expect(p10).toBeLessThanOrEqual(p50);
      expect(p50).toBeLessThanOrEqual(p90);
      expect(p90).toBeGreaterThan(Number(x.forecast));
    }
    const conn = await openDuckDb();
    const parts = await queryRows<{ date: string; units: number }>(conn, `SELECT strftime(date, '%Y-%m-%d') AS date, sum(units) AS units FROM '${join(run.dir, 'components.parquet')}'
      WHERE store_id = 'S4' AND kind <> 'model' GROUP BY date ORDER BY date`);
    conn.closeSync();
    expect(parts).toHaveLength(8);
    parts.forEach((p, s) => expect(p.units).toBeCloseTo(got[s], 3));
  });

  it('keeps the model\'s forecast with models.coldStart: model', async () => {
    const run = await runForecast(parseConfig(settings(join(dir, 'b'), 'model')), undefined, new Date('2024-01-20T03:00:00Z'), 'retrain');
    const s4 = rowsOf(run.dir, 'series.csv').find((s) => s.store_id === 'S4');
    expect(s4?.model).not.toBe('peers');
  });

  it('publishes the same bytes when the run is split across machines', async () => {
    const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
    const cfg = join(dir, 'config.json');
    const { input: _input, out: _out, ...rest } = settings('');
    writeFileSync(cfg, JSON.stringify(rest));
    const env = { ...process.env, SHELFCAST_LOG_FORMAT: 'text' };
    const cmd = (args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
    const single = join(dir, 'single');
    const sharded = join(dir, 'sharded');
    const one = cmd(['run', '-i', data.input, '-c', cfg, '-o', single, '--quiet']);
    expect(one.status, one.stderr).toBe(0);
    const plan = cmd(['plan', '--shards', '2', '-i', data.input, '-c', cfg, '-o', sharded, '--quiet']);
    expect(plan.status, plan.stderr).toBe(0);
    const id = plan.stdout.trim().split('\n').pop() as string;
    const codes = await Promise.all([0, 1].map((k) => new Promise<number>((done) => {
      const p = spawn(process.execPath, [cli, 'run', '--plan', id, '-o', sharded, '--threads', '1', '--quiet'], { env: { ...env, JOB_COMPLETION_INDEX: String(k), JOB_COMPLETION_COUNT: '2' }, stdio: 'ignore' });
      p.on('exit', (code) => done(code ?? 1));
    })));
    expect(codes).toEqual([0, 0]);
    const pub = cmd(['publish', '--plan', id, '-o', sharded, '--quiet']);
    expect(pub.status, pub.stderr).toBe(0);
    for (const f of ['forecasts.csv', 'series.csv', 'components.parquet']) expect(readFileSync(join(sharded, 'latest', f)).equals(readFileSync(join(single, 'latest', f))), f).toBe(true);
    expect(rowsOf(join(single, 'latest'), 'series.csv').find((s) => s.store_id === 'S4')?.model).toBe('peers');
    expect(readdirSync(sharded)).not.toContain('models');
  });
});
