import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../src/db/duckdb.js';
import { openIngest } from '../src/ingest/index.js';
import { readSeriesKeys } from '../src/ingest/series-reader.js';
import { parseConfig } from '../src/config/load.js';
import { peerProfiles } from '../src/run/global-peers.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';
import { rng } from './helpers/random.js';

/**
 * The peer profiles the network and launches read (src/run/global-peers.ts), against their
 * definition computed here from the rows themselves: per SKU sold in two stores or more, per
 * category with two series or more, and over all series, the mean at each period of every
 * series' value over its own mean (over its whole history), from period `from` on.
 */
describe('peer profiles', () => {
  const DAYS = 60;
  const category = (sku: string): string => (sku === 'C' ? 'toys' : sku === 'D' ? '' : 'food');

  it('are the mean of each series over its own mean, by SKU, category and overall', async () => {
    const r = rng(3);
    // A and B in three stores (food), C in one store (toys, with a second series only in the
    // category: none), D with no category, and a series that never sold (no mean: left out).
    const spec: [string, string, number][] = [['S1', 'A', 10], ['S2', 'A', 30], ['S3', 'A', 5], ['S1', 'B', 2.5], ['S2', 'B', 7], ['S3', 'B', 0], ['S1', 'C', 12], ['S1', 'D', 4], ['S2', 'D', 9]];
    const values = new Map<string, number[]>();
    const rows: string[] = [];
    for (const [store, sku, level] of spec) {
      const ys = Array.from({ length: DAYS }, (_, i) => (level === 0 ? 0 : Math.round(level * (1 + 0.3 * Math.sin(i / 3)) * (0.8 + 0.4 * r()) * 4) / 4));
      values.set(`${store}/${sku}`, ys);
      rows.push(...dailyRows(store, sku, '2024-01-01', DAYS, (i) => ys[i]));
    }
    const dir = tempDir();
    const cfg = parseConfig({ input: { path: writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows) } });
    const conn = await openDuckDb();
    try {
      const { ingested } = await openIngest(conn, cfg, '2025-01-01');
      const keys = await readSeriesKeys(conn);
      const from = 40;
      const peers = await peerProfiles(conn, keys, category, ingested.lastT, from);
      expect(peers.length).toBe(DAYS);

      const mean = (ys: number[]): number => ys.reduce((a, b) => a + b, 0) / ys.length;
      const profile = (members: string[]): number[] => Array.from({ length: DAYS }, (_, t) => (t < from ? NaN : mean(members.map((k) => (values.get(k) as number[])[t] / mean(values.get(k) as number[])))));
      const sold = [...values.keys()].filter((k) => mean(values.get(k) as number[]) > 0);
      const expected = {
        A: profile(sold.filter((k) => k.endsWith('/A'))),
        B: profile(sold.filter((k) => k.endsWith('/B'))),
        D: profile(sold.filter((k) => k.endsWith('/D'))),
        all: profile(sold),
      };
      const got = (sid: number): Float32Array => peers.data.subarray(peers.index[sid] * peers.length, (peers.index[sid] + 1) * peers.length);
      const sidOf = (store: string, sku: string): number => keys.store.findIndex((s, i) => s === store && keys.sku[i] === sku);
      const close = (a: Float32Array, b: number[]): void => b.forEach((v, t) => (Number.isNaN(v) ? expect(a[t]).toBeNaN() : expect(a[t]).toBeCloseTo(v, 5)));
      close(got(sidOf('S2', 'A')), expected.A);
      // B is sold in two stores (S3 never sold it): its own profile.
      close(got(sidOf('S1', 'B')), expected.B);
      // C is in one store: its category's profile, but toys has one series: everyone's.
      close(got(sidOf('S1', 'C')), expected.all);
      close(got(sidOf('S1', 'D')), expected.D);
      // A SKU of one series in a category with others gets the category's.
      const withFood = await peerProfiles(conn, keys, (sku) => (sku === 'C' ? 'food' : category(sku)), ingested.lastT, from);
      const foodOfC = withFood.data.subarray(withFood.index[sidOf('S1', 'C')] * DAYS, (withFood.index[sidOf('S1', 'C')] + 1) * DAYS);
      close(foodOfC, profile(sold.filter((k) => /\/[ABC]$/.test(k))));
    } finally {
      conn.closeSync();
    }
  });
});
