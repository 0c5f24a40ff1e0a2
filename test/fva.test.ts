import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { applyOverridesRun } from '../src/run/overrides-run.js';
import { runMonitor } from '../src/monitor/monitor.js';
import { addOverride } from '../src/publish/overrides.js';
import { QueryEngine } from '../src/server/db.js';
import { diffRuns } from '../src/server/workbench-queries.js';
import { dailyRows, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { rng } from './helpers/random.js';

// Forecast value added (issue 17): two planners override two series. Alice knows of a promotion
// that the history cannot show (demand jumps from about 20 to 50 a day): her override is better
// than the statistical forecast. Bob raises a steady seller to 60 for no reason the actuals
// bear out: his is worse. monitor measures both, per planner, reason and store.

const HEADER = 'store_id,sku,date,units';
const START = '2025-01-01';
const DAYS = 120;

describe('forecast value added of overrides', () => {
  it('is positive for an override known to be better and negative for one known to be worse', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const r = rng(5);
    const noisy = () => Math.round(20 + 4 * (r() - 0.5));
    const history = [...dailyRows('S1', 'PROMO', START, DAYS, noisy), ...dailyRows('S1', 'STEADY', START, DAYS, noisy)];
    const cfg = parseConfig({ input: { path: writeCsv(dir, 'sales.csv', HEADER, history) }, out, horizon: 14, threads: 1, calendars: { enabled: false }, models: { windows: 2, combine: 2 } });
    const run = await runForecast(cfg);
    const first = '2025-05-01';
    const last = '2025-05-14';
    await addOverride(out, { store: 'S1', sku: 'PROMO', from: first, to: last, mode: 'value', amount: 50, reason: 'regional promotion' }, 'alice');
    await addOverride(out, { store: 'S1', sku: 'STEADY', from: first, to: last, mode: 'pct', amount: 200, reason: 'gut feeling' }, 'bob');
    const applied = await applyOverridesRun(cfg, 'cli:test');
    expect(applied).toMatchObject({ base: run.runId, applied: 2, rows: 28 });

    // What happened: the promotion doubled PROMO's sales; STEADY stayed where it was.
    const actuals = writeCsv(dir, 'actuals.csv', HEADER, [...dailyRows('S1', 'PROMO', first, 14, () => 50), ...dailyRows('S1', 'STEADY', first, 14, noisy)]);
    const report = await runMonitor({ ...cfg, input: { ...cfg.input, path: actuals } }, actuals);
    const fva = report.fva;
    expect(fva.by_planner.alice.points).toBe(14);
    expect(fva.by_planner.alice.mae_final).toBe(0);
    expect(fva.by_planner.alice.fva).toBe(1);
    expect(fva.by_planner.bob.fva!).toBeLessThan(-1);
    expect(fva.by_planner.bob.mae_final).toBeGreaterThan(fva.by_planner.bob.mae_statistical);
    expect(Object.keys(fva.by_reason).sort()).toEqual(['gut feeling', 'regional promotion']);
    expect(fva.by_reason['regional promotion'].fva).toBe(1);
    expect(fva.by_store.S1).toMatchObject({ overrides: 2, points: 28 });
    expect(fva.overall).toMatchObject({ overrides: 2, points: 28 });
    expect(fva.by_override.map((o) => [o.created_by, Math.sign(o.fva ?? 0)])).toEqual([['alice', 1], ['bob', -1]]);
    // The same in monitoring.json, which GET /monitoring serves.
    expect(JSON.parse(readFileSync(join(out, 'monitoring.json'), 'utf8')).fva.by_planner.alice.fva).toBe(1);

    // The promotion's jump made monitor flag PROMO as drifting: the next run (with a week of the
    // new actuals) re-selects it and lists it among the exceptions, and comparing it with the
    // overridden run over the week both forecast says why PROMO changed.
    expect(report.drifting.map((d) => d.sku)).toContain('PROMO');
    const week = readFileSync(actuals, 'utf8').trim().split('\n').slice(1).filter((l) => l.split(',')[2] <= '2025-05-07');
    const later = parseConfig({ ...cfg, input: { ...cfg.input, path: writeCsv(dir, 'sales2.csv', HEADER, [...history, ...week]) } });
    const next = await runForecast(later, undefined, new Date('2025-05-08T02:00:00Z'));
    const exceptions = parseCsv(readFileSync(join(next.dir, 'exceptions.csv'), 'utf8'));
    expect(exceptions.find((e) => e.sku === 'PROMO' && e.reason === 'drift')).toMatchObject({ store_id: 'S1', detail: expect.stringMatching(/^monitor: /) });
    expect(parseCsv(readFileSync(join(next.dir, 'series.csv'), 'utf8')).find((s) => s.sku === 'PROMO')?.selection).toBe('drift');
    const db = await QueryEngine.open();
    const side = (id: string, lastDate: string) => ({ run_id: id, last_date: lastDate, forecasts: join(out, 'runs', id, 'forecasts.parquet'), series: join(out, 'runs', id, 'series.csv') });
    const diff = await diffRuns(db, side(applied.runId, '2025-04-30'), side(next.runId, '2025-05-07'), 10);
    db.close();
    expect(diff.common_dates).toEqual({ first: '2025-05-08', last: '2025-05-14' });
    expect(diff.rows.find((r) => r.sku === 'PROMO')?.reasons).toEqual(expect.arrayContaining(['drift', 'new data', 'override']));
  });
});
