import { describe, expect, it } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { explainForecast } from '../src/run/explain.js';
import { withState } from '../src/registry/state.js';
import { queryRows } from '../src/db/duckdb.js';
import { pinVersions } from '../src/registry/pins.js';
import { days, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

/**
 * The global network (issue 16) through real runs: training in its worker, the artifact and
 * registry, forecast workers running it, cold start, nightly reuse. Small networks and few
 * training windows, so each run takes seconds.
 */
type Row = Record<string, string>;
const rowsOf = (dir: string, file: string): Row[] => parseCsv(readFileSync(join(dir, file), 'utf8'));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const small = { samples: 12000, epochs: 12, hidden: [16, 8], batch: 128, learningRate: 0.01 };
const HEADER = 'store_id,sku,date,units,promo';

describe('a shared promotion lift (issue 16)', () => {
  it('is learnt across series that each saw one promotion day', async () => {
    // 30 SKUs of one store, a weekly pattern, and one promotion day each in their history
    // (a different day for each) that sells 2.5 times a normal day: one occurrence per series
    // is no estimate, thirty are. The plan puts every SKU on promotion on the same day ahead.
    const dir = tempDir();
    const r = rng(5);
    const dates = days('2024-01-01', '2024-05-29');
    const pattern = [1, 0.9, 0.95, 1, 1.1, 1.4, 1.2];
    const rows: string[] = [];
    for (let k = 0; k < 30; k++) {
      const sku = `K${String(k).padStart(2, '0')}`;
      const level = 60 + 4 * k;
      const promoDay = 20 + 2 * k;
      dates.forEach((d, i) => {
        const promo = i === promoDay ? 1 : 0;
        const v = level * pattern[i % 7] * (promo ? 2.5 : 1) * (1 + 0.05 * gaussian(r));
        rows.push(`S1,${sku},${d},${Math.round(v)},${promo}`);
      });
    }
    const input = writeCsv(dir, 'sales.csv', HEADER, rows);
    const ahead = days('2024-05-30', '2024-06-12');
    const promoAhead = ahead[6];
    const future = writeCsv(dir, 'future.csv', 'store_id,sku,date,promo', ahead.map((d) => `S1,,${d},${d === promoAhead ? 1 : 0}`));
    const out = join(dir, 'out');
    const cfg = parseConfig({
      input: { path: input, columns: { promo: 'promo' }, future }, out, horizon: 14, threads: 1,
      models: { combine: 1, windows: 2, candidates: { smooth: ['global'], erratic: ['global'] }, global: small },
    });
    const run = await runForecast(cfg, undefined, new Date('2024-05-30T03:00:00Z'), 'retrain');
    // A candidate is backtested with a network trained before its windows (2 × 14 days), and
    // forecasts with one trained on every day.
    const training = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8')).global.training;
    expect(training.map((t: { role: string; cutoff_date: string }) => [t.role, t.cutoff_date])).toEqual([['final', '2024-05-30'], ['backtest', '2024-05-02']]);
    const fc = rowsOf(run.dir, 'forecasts.csv');
    expect(new Set(fc.map((x) => x.model))).toEqual(new Set([JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8')).global.network]));
    // The promotion day against the same weekday one week later, per SKU.
    const lift = [...new Set(fc.map((x) => x.sku))].map((sku) => {
      const at = (d: string): number => Number(fc.find((x) => x.sku === sku && x.date === d)?.forecast);
      return at(promoAhead) / at(ahead[13]);
    });
    expect(mean(lift)).toBeGreaterThan(1.7);
    expect(mean(lift)).toBeLessThan(3.5);
  });
});

/** 24 long daily series of two stores and three categories, 4 of them launched 10 days before the data end. */
function launchData(dir: string): { input: string; newItems: string; items: string } {
  const r = rng(11);
  const dates = days('2024-01-01', '2024-04-30');
  const pattern = [1, 0.8, 0.9, 1, 1.2, 1.6, 1.3];
  const rows: string[] = [];
  for (const store of ['S1', 'S2']) {
    for (let k = 0; k < 12; k++) {
      const sku = `K${k}`;
      const level = (store === 'S1' ? 1 : 1.5) * (20 + 10 * (k % 3));
      const start = k >= 10 ? dates.length - 10 : 0;
      dates.forEach((d, i) => { if (i >= start) rows.push(`${store},${sku},${d},${Math.max(0, Math.round(level * pattern[i % 7] + 3 * gaussian(r)))},0`); });
    }
  }
  return {
    input: writeCsv(dir, 'sales.csv', HEADER, rows),
    items: writeCsv(dir, 'items.csv', 'sku,category', Array.from({ length: 13 }, (_, k) => `K${k},C${k % 3}`)),
    // K12 is a SKU no store has sold; K3 in a new store; K4 in S2 from the 8th day ahead.
    newItems: writeCsv(dir, 'new_items.csv', 'store_id,sku,category,launch_date', ['S1,K12,C0,', 'S3,K3,C0,2024-05-01', 'S1,K1,C1,2024-05-01']),
  };
}

describe('cold start (issue 16)', () => {
  const dir = tempDir();
  const data = launchData(dir);
  const config = (out: string, threads = 1, seed = 1) => parseConfig({
    input: { path: data.input, newItems: data.newItems }, out, horizon: 14, threads,
    calendars: { items: data.items },
    models: { windows: 2, global: { ...small, seed } },
  });

  it('forecasts short and new series with the network: finite, non-negative, non-crossing', async () => {
    const out = join(dir, 'a');
    const run = await runForecast(config(out), undefined, new Date('2024-05-01T03:00:00Z'), 'retrain');
    const series = rowsOf(run.dir, 'series.csv');
    const cold = series.filter((s) => s.selection === 'cold-start').map((s) => `${s.store_id}/${s.sku}`).sort();
    // The four launched 10 days ago, and the two new items (S1/K1 has history: it is left to it).
    expect(cold).toEqual(['S1/K10', 'S1/K11', 'S1/K12', 'S2/K10', 'S2/K11', 'S3/K3']);
    const fc = rowsOf(run.dir, 'forecasts.csv');
    for (const x of fc.filter((f) => cold.includes(`${f.store_id}/${f.sku}`))) {
      const q = [x.p10, x.p50, x.p90].map(Number);
      expect(q.every(Number.isFinite)).toBe(true);
      expect(q[0]).toBeGreaterThanOrEqual(0);
      expect(q[0]).toBeLessThanOrEqual(q[1]);
      expect(q[1]).toBeLessThanOrEqual(q[2]);
      expect(Number(x.forecast)).toBeGreaterThanOrEqual(0);
    }
    // A new SKU sells something, from what the store and its category sell.
    const k12 = fc.filter((f) => f.sku === 'K12').map((f) => Number(f.forecast));
    expect(mean(k12)).toBeGreaterThan(5);
    expect(mean(k12)).toBeLessThan(80);
    const m = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
    expect(m.new_items).toMatchObject({ rows: 3, used: 2, known_series: 1 });
    expect(m.global.trained).toBe(true);
    // Trained on every period; without `global` among the candidates nothing is backtested with it.
    expect(readdirSync(join(out, 'models'))).toEqual([m.global.network]);
    expect(m.global.training.map((t: { role: string; cutoff_date: string }) => [t.role, t.cutoff_date])).toEqual([['final', '2024-05-01']]);
    expect(m.global.backtest_network).toBeNull();
  });

  it('gives the same bytes on a rerun in a fresh folder, whatever the thread count', async () => {
    const [a, b] = await Promise.all([1, 2].map((threads) => runForecast(config(join(dir, `r${threads}`), threads), undefined, new Date('2024-05-01T03:00:00Z'), 'retrain')));
    expect(a.runId).toBe(b.runId);
    expect(readFileSync(join(a.dir, 'forecasts.csv'))).toEqual(readFileSync(join(b.dir, 'forecasts.csv')));
    const net = JSON.parse(readFileSync(join(a.dir, 'manifest.json'), 'utf8')).global.network;
    expect(readFileSync(join(dir, 'r1', 'models', net, 'weights.bin'))).toEqual(readFileSync(join(dir, 'r2', 'models', net, 'weights.bin')));
  });

  it('predicts with the registered network on a nightly run, and explain names it', async () => {
    const out = join(dir, 'n');
    const first = await runForecast(config(out), undefined, new Date('2024-05-01T03:00:00Z'), 'retrain');
    const net = JSON.parse(readFileSync(join(first.dir, 'manifest.json'), 'utf8')).global.network;
    const nightly = await runForecast(config(out), undefined, new Date('2024-05-02T03:00:00Z'), 'run');
    const m = JSON.parse(readFileSync(join(nightly.dir, 'manifest.json'), 'utf8'));
    expect(m.global).toMatchObject({ network: net, trained: false });
    expect(m.stage_seconds.global).toBeLessThan(5);
    expect(readdirSync(join(out, 'models'))).toEqual([net]);
    const used = await withState(out, (db) => queryRows<{ run_id: string; version: string; trained: boolean }>(db, 'SELECT run_id, version, trained FROM run_networks ORDER BY trained DESC'));
    expect(used).toEqual([{ run_id: first.runId, version: net, trained: true }, { run_id: nightly.runId, version: net, trained: false }]);
    const e = await explainForecast(parseConfig({ out }), 'S1', 'K12', '2024-05-03');
    expect(e.network).toMatchObject({ version: net, trained: false });

    // A retrain with another seed registers another network; a series rolled back to its first
    // version is forecast with the network that version was made with.
    const second = await runForecast(config(out, 1, 2), undefined, new Date('2024-05-03T03:00:00Z'), 'retrain');
    const net2 = JSON.parse(readFileSync(join(second.dir, 'manifest.json'), 'utf8')).global.network;
    expect(net2).not.toBe(net);
    await withState(out, (db) => pinVersions(db, 'S1', 'K12', 1, '2024-05-03T04:00:00Z'));
    const after = await runForecast(config(out, 1, 2), undefined, new Date('2024-05-04T03:00:00Z'), 'run');
    const models = new Map(rowsOf(after.dir, 'forecasts.csv').map((x) => [`${x.store_id}/${x.sku}`, x.model]));
    expect(models.get('S1/K12')).toBe(net);
    expect(models.get('S3/K3')).toBe(net2);
    expect(JSON.parse(readFileSync(join(after.dir, 'manifest.json'), 'utf8')).global).toMatchObject({ network: net2, trained: false });
  });
});

describe('when a network is trained for short series alone (issue 16)', () => {
  // 4 of the 24 series were launched 10 days before the data end (too short for a backtest);
  // no new items, `global` not a candidate: only cold start could use a network.
  const dir = tempDir();
  const data = launchData(dir);
  const run = (name: string, coldStartShare?: number) => runForecast(parseConfig({
    input: { path: data.input }, out: join(dir, name), horizon: 14, threads: 1, calendars: { items: data.items },
    models: { windows: 2, global: { ...small, ...(coldStartShare === undefined ? {} : { coldStartShare }) } },
  }), undefined, new Date('2024-05-01T03:00:00Z'), 'retrain');
  const short = ['S1/K10', 'S1/K11', 'S2/K10', 'S2/K11'];

  it('trains one when at least models.global.coldStartShare of the series are short (default 5 %: 4 of 24 are)', async () => {
    const r = await run('share-default');
    const series = rowsOf(r.dir, 'series.csv');
    expect(series.filter((s) => s.selection === 'cold-start').map((s) => `${s.store_id}/${s.sku}`).sort()).toEqual(short);
    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    expect(m.global).toMatchObject({ trained: true, backtest_network: null });
    expect(readdirSync(join(dir, 'share-default', 'models'))).toEqual([m.global.network]);
  });

  it('trains none below that share: the short series get the local rule, and the run has no network', async () => {
    const r = await run('share-high', 0.2);
    const series = rowsOf(r.dir, 'series.csv');
    expect(series.filter((s) => s.selection === 'cold-start')).toEqual([]);
    const byKey = new Map(series.map((s) => [`${s.store_id}/${s.sku}`, s]));
    for (const k of short) expect(byKey.get(k)?.model).not.toMatch(/^global-/);
    const m = JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    expect(m.global).toBeNull();
    expect(m.stage_seconds.global).toBeLessThan(2);
    expect(readdirSync(join(dir, 'share-high')).includes('models')).toBe(false);
    const used = await withState(join(dir, 'share-high'), (db) => queryRows<{ n: number }>(db, 'SELECT count(*)::INTEGER AS n FROM run_networks'));
    expect(used).toEqual([{ n: 0 }]);
  });
});
