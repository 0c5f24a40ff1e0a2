import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runBacktest, formatSummary } from '../src/run/backtest.js';
import { dailyRows, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

describe('shelfcast backtest', () => {
  it('scores every candidate and the selection per series, window and metric', async () => {
    const dir = tempDir();
    const r = rng(9);
    const rows = [
      ...dailyRows('S1', 'WEEKLY', '2024-01-01', 120, (i) => Math.round(30 + 10 * Math.sin((2 * Math.PI * i) / 7) + 3 * gaussian(r))),
      ...dailyRows('S1', 'FLAT', '2024-01-01', 120, () => Math.round(20 + 4 * gaussian(r))),
      ...dailyRows('S2', 'SLOW', '2024-01-01', 120, (i) => (i % 5 === 0 ? 3 : 0)),
    ];
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const cfg = parseConfig({ input: { path: input }, out: join(dir, 'out'), horizon: 14, models: { windows: 2 } });
    const bt = await runBacktest(cfg);
    const csv = parseCsv(readFileSync(join(bt.dir, 'backtest.csv'), 'utf8'));
    expect(Object.keys(csv[0])).toEqual(['store_id', 'sku', 'model', 'window', 'metric', 'value']);
    const weekly = csv.filter((x) => x.sku === 'WEEKLY' && x.metric === 'mase');
    // Every smooth-class candidate plus the selection, in both windows.
    expect(new Set(weekly.map((x) => x.model))).toEqual(new Set(['snaive', 'ets', 'theta', 'stl-ets', 'stl-otm', 'thetaf', 'selected']));
    expect(new Set(weekly.map((x) => x.window))).toEqual(new Set(['1', '2']));
    const mase = (model: string): number => Number(weekly.filter((x) => x.model === model).reduce((a, x) => a + Number(x.value), 0));
    expect(mase('snaive')).toBeLessThan(mase('theta'));
    expect(new Set(csv.filter((x) => x.sku === 'SLOW').map((x) => x.model)).has('tsb')).toBe(true);
    const metrics = new Set(csv.map((x) => x.metric));
    for (const m of ['mase', 'rmsse', 'wape', 'bias', 'pinball_p10', 'pinball_p50', 'pinball_p90', 'pinball', 'coverage_80']) expect(metrics.has(m)).toBe(true);
    const summary = JSON.parse(readFileSync(join(bt.dir, 'summary.json'), 'utf8'));
    expect(summary.models.selected.series).toBe(3);
    expect(formatSummary(bt.summary)).toMatch(/^model\s+series\s+mase/);
  });
});
