import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { quantileColumn } from '../src/publish/format.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { leadTimeSums } from '../src/run/leadtime-stage.js';
import { seededRandom } from '../src/backtest/distribution.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

// Issue 18, item 4: demand over the lead time from simulated paths, per store and SKU.

describe('lead-time demand', () => {
  let run: RunSummary;
  let again: RunSummary;
  const levels = [0.05, 0.1, 0.5, 0.9, 0.95];

  beforeAll(async () => {
    const dir = tempDir();
    const items = writeCsv(dir, 'items.csv', 'sku,category,lead_time_days,supplier', ['MILK-1L,dairy,3,', 'TOY-ROBOT,toys,,ACME']);
    const cfg = (out: string) => parseConfig({ out, threads: 1, quantiles: levels, items, leadtime: { days: 7, suppliers: { ACME: 14 }, serviceLevel: 0.95, samples: 500 } });
    run = await runForecast(cfg(join(dir, 'a')));
    again = await runForecast(cfg(join(dir, 'b')));
  });

  it('gives every store and SKU its lead time, mean and non-crossing quantiles of the sum', () => {
    const rows = parseCsv(readFileSync(join(run.dir, 'leadtime.csv'), 'utf8'));
    expect(rows).toHaveLength(48);
    const forecasts = parseCsv(readFileSync(join(run.dir, 'forecasts.csv'), 'utf8'));
    for (const r of rows) {
      const qs = levels.map((l) => Number(r[quantileColumn(l)]));
      for (let k = 1; k < qs.length; k++) expect(qs[k], `${r.store_id}/${r.sku}`).toBeGreaterThanOrEqual(qs[k - 1]);
      expect(qs[0]).toBeGreaterThanOrEqual(0);
      const expectDays = r.sku === 'MILK-1L' ? 3 : r.sku === 'TOY-ROBOT' ? 14 : 7;
      expect(Number(r.lead_time_days)).toBe(expectDays);
      expect(Number(r.periods)).toBe(expectDays);
      const mean = forecasts.filter((f) => f.store_id === r.store_id && f.sku === r.sku && Number(f.step) <= expectDays).reduce((a, f) => a + Number(f.forecast), 0);
      expect(Number(r.mean)).toBeCloseTo(mean, 2);
      expect(Number(r.reorder_point)).toBe(Number(r.p95));
      expect(Number(r.safety_stock)).toBeCloseTo(Math.max(0, Number(r.p95) - Number(r.mean)), 3);
    }
    // Count series: whole units.
    const toy = rows.find((r) => r.store_id === 'S01' && r.sku === 'TOY-ROBOT')!;
    for (const l of levels) expect(Number.isInteger(Number(toy[quantileColumn(l)]))).toBe(true);
    // Wider than any one day, narrower than the sum of the days' bands: a sum, not a sum of quantiles.
    const milk = rows.find((r) => r.store_id === 'S01' && r.sku === 'BANANA-KG')!;
    const days = forecasts.filter((f) => f.store_id === 'S01' && f.sku === 'BANANA-KG' && Number(f.step) <= 7);
    const sumOfP90 = days.reduce((a, f) => a + Number(f.p90), 0);
    expect(Number(milk.p90)).toBeLessThan(sumOfP90);
    expect(Number(milk.p90)).toBeGreaterThan(Number(milk.mean));
  });

  it('is the same file for the same input, settings and seed', () => {
    expect(readFileSync(join(again.dir, 'leadtime.csv'), 'utf8')).toBe(readFileSync(join(run.dir, 'leadtime.csv'), 'utf8'));
    const m = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
    expect(m.leadtime).toMatchObject({ default_days: 7, samples: 500, seed: 1, service_level: 0.95, capped: 0 });
    expect(readFileSync(join(run.dir, 'SCHEMA.md'), 'utf8')).toContain('## leadtime.csv');
  });

  it('keeps the dependence of the error paths: perfectly dependent steps add up their spread', () => {
    const h = 4;
    const d = { absGrid: new Float64Array(0), m2: new Float64Array(h), paths: Float32Array.from([1, 1, 1, 1, -1, -1, -1, -1]), weights: Float32Array.of(1, 1) };
    const sums = leadTimeSums([10, 10, 10, 10], [1, 1, 1, 1], [2, 2, 2, 2], [0, 0, 0, 0], 4, 200, d, false, seededRandom(3));
    // Every path moves all four steps the same way: the sum is 40 ± 4 · 2 · 1, never 40.
    expect(new Set(sums)).toEqual(new Set([32, 48]));
  });
});
