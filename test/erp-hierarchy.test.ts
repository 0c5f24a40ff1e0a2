import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { denseReconciler, diagonalReconciler, errorMatrix, shrinkageIntensity, type HierarchyShape } from '../src/models/reconcile.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

// Issue 18, item 3: every level of the hierarchy forecast, reconciled, and adding up to the
// last decimal the file (or the profile) rounds to.

/** A published decimal as an exact count of 1e-4. */
const ticks = (s: string): bigint => {
  const [i, f = ''] = s.split('.');
  return BigInt(i) * 10000n + BigInt((f + '0000').slice(0, 4)) * (s.startsWith('-') ? -1n : 1n);
};

const ITEMS = ['sku,category,pack_size', 'BANANA-KG,fresh,1', 'BATTERY-AA,household,4', 'BREAD-WH,fresh,1', 'CHARCOAL-5KG,seasonal,1', 'EGGS-12,fresh,1', 'ICE-CREAM,frozen,6', 'LIGHTBULB,household,2', 'MILK-1L,fresh,6', 'SODA-2L,drinks,6', 'TOY-ROBOT,seasonal,1', 'TURKEY-WHL,frozen,1', 'UMBRELLA,seasonal,1'];

describe('hierarchy', () => {
  let run: RunSummary;
  const levels = ['store', 'region', 'category-store', 'sku-region', 'total'] as const;

  beforeAll(async () => {
    const dir = tempDir();
    const items = writeCsv(dir, 'items.csv', ITEMS[0], ITEMS.slice(1));
    run = await runForecast(parseConfig({
      out: join(dir, 'out'), threads: 1, horizon: 7, items, calendars: { stores: new URL('../data/demo/stores.csv', import.meta.url).pathname },
      hierarchy: { enabled: true, samples: 200 },
      outputs: [{ profile: 'sap-ibp', name: 'ibp-levels', levels: ['series', ...levels], round: 'integer' }, { profile: 'wide', name: 'packs', round: 'pack', levels: ['series', 'store', 'total'] }],
    }));
  });

  /** Rows of a file grouped: the series' means per (store, sku, date), and the other rows. */
  function check(rows: Record<string, string>[], key: { level: string; store: string; sku: string; region: string; category: string; date: string; mean: string }, parse: (s: string) => bigint): number {
    const series = rows.filter((r) => r[key.level] === 'series');
    let checked = 0;
    for (const r of rows) {
      if (r[key.level] === 'series') continue;
      const members = series.filter((b) => b[key.date] === r[key.date] && (!r[key.store] || b[key.store] === r[key.store]) && (!r[key.sku] || b[key.sku] === r[key.sku]) && (!r[key.region] || b[key.region] === r[key.region]) && (!r[key.category] || b[key.category] === r[key.category]));
      expect(members.length, `${r[key.level]} ${r[key.store]}/${r[key.sku]}/${r[key.region]}/${r[key.category]}`).toBeGreaterThan(0);
      expect(members.reduce((a, b) => a + parse(b[key.mean]), 0n), `${r[key.level]} ${r[key.store]}/${r[key.sku]} ${r[key.date]}`).toBe(parse(r[key.mean]));
      checked++;
    }
    return checked;
  }

  it('publishes every level in hierarchy.csv, adding up to the 4th decimal on every level and date', () => {
    const rows = parseCsv(readFileSync(join(run.dir, 'hierarchy.csv'), 'utf8'));
    const count = (l: string) => new Set(rows.filter((r) => r.level === l).map((r) => `${r.store_id}|${r.sku}|${r.region}|${r.category}`)).size;
    expect(Object.fromEntries(['series', ...levels].map((l) => [l, count(l)]))).toEqual({ series: 48, store: 4, region: 4, 'category-store': 20, 'sku-region': 48, total: 1 });
    const checked = check(rows, { level: 'level', store: 'store_id', sku: 'sku', region: 'region', category: 'category', date: 'date', mean: 'mean' }, ticks);
    expect(checked).toBe((4 + 4 + 20 + 48 + 1) * 7);
    for (const r of rows) {
      const qs = [r.p10, r.p50, r.p90].map(Number);
      expect(qs[0]).toBeGreaterThanOrEqual(0);
      expect(qs[1]).toBeGreaterThanOrEqual(qs[0]);
      expect(qs[2]).toBeGreaterThanOrEqual(qs[1]);
    }
    const m = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
    expect(m.hierarchy).toMatchObject({ method: 'mint-shrink', aggregates: 21, levels: { series: 48, store: 4, total: 1 } });
    expect(m.hierarchy.shrinkage).toBeGreaterThanOrEqual(0);
    expect(m.hierarchy.shrinkage).toBeLessThanOrEqual(1);
    // W from the base forecasts' one-step in-sample errors, the last insamplePeriods of them.
    expect(m.hierarchy).toMatchObject({ errors: 'insample', error_vectors: 104 });
  });

  it('adds up in whole units in a profile that rounds to integers, and in packs', () => {
    const ibp = parseCsv(readFileSync(join(run.dir, 'outputs', 'ibp-levels.csv'), 'utf8'));
    expect(Object.keys(ibp[0])).toEqual(['PLANLEVEL', 'LOCID', 'PRDID', 'REGIONID', 'PRODCATEGORY', 'KEYFIGUREDATE', 'STATISTICALFORECASTQTY', 'CONSENSUSDEMANDQTY', 'STATFCSTQTY_P10', 'STATFCSTQTY_P50', 'STATFCSTQTY_P90']);
    for (const r of ibp) expect(r.STATISTICALFORECASTQTY, JSON.stringify(r)).toMatch(/^\d+$/);
    expect(check(ibp, { level: 'PLANLEVEL', store: 'LOCID', sku: 'PRDID', region: 'REGIONID', category: 'PRODCATEGORY', date: 'KEYFIGUREDATE', mean: 'STATISTICALFORECASTQTY' }, (s) => BigInt(s))).toBe((4 + 4 + 20 + 48 + 1) * 7);
    // IBP weeks start on Monday, but daily data keeps its days.
    expect(new Set(ibp.map((r) => r.KEYFIGUREDATE)).size).toBe(7);
    const packs = parseCsv(readFileSync(join(run.dir, 'outputs', 'packs.csv'), 'utf8'));
    const pack = Object.fromEntries(ITEMS.slice(1).map((l) => [l.split(',')[0], Number(l.split(',')[2])]));
    for (const r of packs.filter((p) => p.level === 'series')) expect(Number(r.mean) % pack[r.sku], `${r.sku} ${r.mean}`).toBe(0);
    expect(check(packs, { level: 'level', store: 'store_id', sku: 'sku', region: 'region', category: 'category', date: 'date', mean: 'mean' }, (s) => BigInt(s))).toBe((4 + 1) * 7);
  });
});

describe('W from one-step in-sample errors', () => {
  it('reconciles with them by default, with the backtest errors when asked, and leaves forecasts.csv as it is', async () => {
    const dir = tempDir();
    const runWith = (errors: 'insample' | 'backtest', sub: string) => runForecast(parseConfig({ out: join(dir, sub), threads: 1, horizon: 3, hierarchy: { enabled: true, samples: 50, levels: ['store', 'total'], errors, insamplePeriods: 60 } }));
    const insample = await runWith('insample', 'a');
    const backtest = await runWith('backtest', 'b');
    const manifest = (r: RunSummary) => JSON.parse(readFileSync(join(r.dir, 'manifest.json'), 'utf8'));
    const mi = manifest(insample);
    const mb = manifest(backtest);
    expect(mi.hierarchy).toMatchObject({ method: 'mint-shrink', errors: 'insample', error_vectors: 60 });
    expect(mb.hierarchy).toMatchObject({ method: 'mint-shrink', errors: 'backtest', error_vectors: 3 * 3 });
    expect(mi.hierarchy.shrinkage).not.toBe(mb.hierarchy.shrinkage);
    const means = (r: RunSummary) => parseCsv(readFileSync(join(r.dir, 'hierarchy.csv'), 'utf8')).map((row) => row.mean);
    expect(means(insample)).not.toEqual(means(backtest));
    // The series' own forecasts do not depend on the reconciliation.
    const forecasts = (r: RunSummary) => readFileSync(join(r.dir, 'forecasts.csv'), 'utf8').replaceAll(r.runId, '');
    expect(forecasts(insample)).toBe(forecasts(backtest));
  });
});

describe('hierarchy beyond the dense size', () => {
  it('reconciles by conjugate gradients and still adds up', async () => {
    const dir = tempDir();
    const items = writeCsv(dir, 'items.csv', ITEMS[0], ITEMS.slice(1));
    const run = await runForecast(parseConfig({ out: join(dir, 'out'), threads: 1, horizon: 3, items, hierarchy: { enabled: true, samples: 50, maxDense: 1, levels: ['store', 'total'] } }));
    const rows = parseCsv(readFileSync(join(run.dir, 'hierarchy.csv'), 'utf8'));
    const m = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
    expect(m.hierarchy.method).toMatch(/^wls/);
    for (const agg of rows.filter((r) => r.level !== 'series')) {
      const parts = rows.filter((r) => r.level === 'series' && r.date === agg.date && (!agg.store_id || r.store_id === agg.store_id));
      expect(parts.reduce((a, r) => a + ticks(r.mean), 0n)).toBe(ticks(agg.mean));
    }
  });
});

describe('reconciliation', () => {
  // total = a + b + c; store X = a + b.
  const shape: HierarchyShape = { n: 5, bottoms: 3, members: [Int32Array.of(0, 1, 2), Int32Array.of(0, 1)] };
  const coherent = (y: Float64Array) => {
    expect(y[3]).toBeCloseTo(y[0] + y[1] + y[2], 9);
    expect(y[4]).toBeCloseTo(y[0] + y[1], 9);
  };

  it('makes any forecast coherent, and leaves a coherent one as it is', () => {
    const r = rng(7);
    const N = 40;
    const cols = Array.from({ length: 5 }, () => Float64Array.from({ length: N }, () => gaussian(r)));
    const e = errorMatrix(N, 5, (i) => cols[i], () => 1);
    const lambda = shrinkageIntensity(e);
    expect(lambda).toBeGreaterThan(0);
    expect(lambda).toBeLessThanOrEqual(1);
    for (const rec of [denseReconciler(shape, e, lambda), denseReconciler(shape, e, 1), diagonalReconciler(shape, e.diag)]) {
      coherent(rec.reconcile(Float64Array.of(10, 20, 30, 70, 35)));
      const already = Float64Array.of(1, 2, 3, 6, 3);
      expect(Array.from(rec.reconcile(already)).map((v) => +v.toFixed(9))).toEqual(Array.from(already));
    }
    // WLS dense and by conjugate gradients agree.
    const a = denseReconciler(shape, e, 1).reconcile(Float64Array.of(10, 20, 30, 70, 35));
    const b = diagonalReconciler(shape, e.diag).reconcile(Float64Array.of(10, 20, 30, 70, 35));
    for (let i = 0; i < 5; i++) expect(b[i]).toBeCloseTo(a[i], 6);
  });

  it('equals the structural form S (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹ ŷ with the shrunk W', () => {
    // Bottoms 0..3; aggregates 4 = 0 + 1, 5 = 2 + 3, 6 = all.
    const members = [Int32Array.of(0, 1), Int32Array.of(2, 3), Int32Array.of(0, 1, 2, 3)];
    const shape4: HierarchyShape = { n: 7, bottoms: 4, members };
    const r = rng(5);
    const N = 30;
    const n = 7;
    const cols = Array.from({ length: n }, () => Float64Array.from({ length: N }, () => gaussian(r)));
    for (let t = 0; t < N; t++) { cols[4][t] += cols[0][t]; cols[6][t] += 0.5 * cols[4][t]; }
    const e = errorMatrix(N, n, (i) => cols[i], () => 1);
    const lambda = shrinkageIntensity(e);
    const W = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => { let s = 0; for (let t = 0; t < N; t++) s += e.x[t * n + i] * e.x[t * n + j]; return (i === j ? 1 : 1 - lambda) * (s / N); }));
    const S = Array.from({ length: n }, (_, i) => Array.from({ length: 4 }, (_, b) => (i < 4 ? (i === b ? 1 : 0) : members[i - 4].includes(b) ? 1 : 0)));
    const inv = (A: number[][]): number[][] => {
      const m = A.length;
      const M = A.map((row, i) => [...row, ...Array.from({ length: m }, (_, j) => (i === j ? 1 : 0))]);
      for (let c = 0; c < m; c++) {
        let p = c;
        for (let k = c + 1; k < m; k++) if (Math.abs(M[k][c]) > Math.abs(M[p][c])) p = k;
        [M[c], M[p]] = [M[p], M[c]];
        const d = M[c][c];
        for (let j = 0; j < 2 * m; j++) M[c][j] /= d;
        for (let k = 0; k < m; k++) if (k !== c) { const f = M[k][c]; for (let j = 0; j < 2 * m; j++) M[k][j] -= f * M[c][j]; }
      }
      return M.map((row) => row.slice(m));
    };
    const mul = (A: number[][], B: number[][]) => A.map((row) => B[0].map((_, j) => row.reduce((s, v, k) => s + v * B[k][j], 0)));
    const T = (A: number[][]) => A[0].map((_, j) => A.map((row) => row[j]));
    const y = [10, 20, 30, 40, 35, 60, 110];
    const Wi = inv(W);
    const expected = mul(S, mul(inv(mul(mul(T(S), Wi), S)), mul(mul(T(S), Wi), y.map((v) => [v])))).map((row) => row[0]);
    const got = denseReconciler(shape4, e, lambda).reconcile(Float64Array.from(y));
    for (let i = 0; i < n; i++) expect(got[i]).toBeCloseTo(expected[i], 8);
  });

  it('pins λ and MinT to hts shrink.estim computed in R, on raw and on centred errors', () => {
    // Errors of a, b, c, total = a + b + c, X = a + b over 8 periods; R (4.x) with hts 6.0's
    // lowerD and shrink.estim, then S (Sᵀ W⁻¹ S)⁻¹ Sᵀ W⁻¹ y; "centred": scale(x, scale = FALSE) first.
    const rows = [[1, -2, 0.5, 0, -1], [2, 1, -1, 1.5, 2.5], [-1, 0.5, 2, 2, -0.5], [0.5, 1.5, -0.5, 1, 1], [-2, -1, 1, -1.5, -3], [1.5, 0, 0.5, 2.5, 1], [0, 2, -1.5, 0, 2.5], [-0.5, -1, 1, -0.5, -2]];
    const cols = Array.from({ length: 5 }, (_, i) => Float64Array.from(rows, (r) => r[i]));
    const y = Float64Array.of(10, 20, 30, 70, 35);
    const cases = [
      { center: false, lambda: 0.281243030221958, mint: [12.9784195373612, 23.9796249116883, 30.1902983670074, 67.1483428160569, 36.9580444490495] },
      { center: true, lambda: 0.299023194857759, mint: [13.0809111658807, 24.1509575403091, 30.3060802706867, 67.5379489768765, 37.2318687061898] },
    ];
    for (const c of cases) {
      const e = errorMatrix(8, 5, (i) => cols[i], () => 1, c.center);
      const lambda = shrinkageIntensity(e);
      expect(lambda).toBeCloseTo(c.lambda, 12);
      const got = denseReconciler(shape, e, lambda).reconcile(y);
      c.mint.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 9));
    }
  });

  it('estimates the shrinkage intensity as the hts package does', () => {
    const r = rng(11);
    const N = 12;
    const n = 6;
    const cols = Array.from({ length: n }, (_, i) => Float64Array.from({ length: N }, () => gaussian(r) + (i > 2 ? 0.5 * gaussian(r) : 0)));
    const e = errorMatrix(N, n, (i) => cols[i], () => 1, false);
    // hts shrink.estim, written out with the full matrices.
    const covm = (i: number, j: number) => cols[i].reduce((acc, v, t) => acc + v * cols[j][t], 0) / N;
    const xs = cols.map((c, i) => c.map((v) => v / Math.sqrt(covm(i, i))));
    let sv = 0;
    let sd = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      if (i === j) continue;
      const a2 = xs[i].reduce((acc, v, t) => acc + v * v * xs[j][t] * xs[j][t], 0);
      const c = xs[i].reduce((acc, v, t) => acc + v * xs[j][t], 0);
      sv += (a2 - (c * c) / N) / (N * (N - 1));
      sd += (covm(i, j) / Math.sqrt(covm(i, i) * covm(j, j))) ** 2;
    }
    expect(shrinkageIntensity(e)).toBeCloseTo(Math.min(1, Math.max(0, sv / sd)), 10);
  });
});
