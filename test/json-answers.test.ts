import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

// Every command's --json: one document on stdout, numbers as numbers, dates as YYYY-MM-DD.

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const json = (...args: string[]): Record<string, any> => {
  const r = spawnSync(process.execPath, [cli, ...args, '--json'], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** No number hidden in a string, no date as a timestamp, anywhere in the document. */
function expectTyped(value: unknown, path = '$'): void {
  if (typeof value === 'string') {
    expect(/^-?\d+(\.\d+)?$/.test(value) && !/(_id|sku|store|version_label)$/.test(path), `${path} = "${value}" is a number as a string`).toBe(false);
    expect(/^\d{4}-\d{2}-\d{2}T00:00:00\.000Z$/.test(value), `${path} = "${value}" is a date as a timestamp`).toBe(false);
  } else if (Array.isArray(value)) value.forEach((v, i) => expectTyped(v, `${path}[${i}]`));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) expectTyped(v, `${path}.${k}`);
}

describe('--json answers', () => {
  const dir = tempDir();
  const out = join(dir, 'out');
  const rows = ['A', 'B'].flatMap((sku) => dailyRows('S1', sku, '2024-01-01', 90, (i) => 20 + (i % 7) * (sku === 'A' ? 2 : 1)));
  const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
  const fast = ['-H', '7', '-w', '1', '--combine', '1', '-t', '1'];
  let runId = '';

  beforeAll(() => {
    const r = json('retrain', '-i', input, '-o', out, ...fast);
    runId = r.run_id;
  });

  it('run and retrain', () => {
    const r = json('run', '-i', input, '-o', out, ...fast);
    expect(r).toMatchObject({ command: 'run', series: 2, forecast_rows: 14, rows_rejected: 0, fallbacks: 0, model_versions: { reused: 2 } });
    expect(r.finished_at).toMatch(TIME);
    expect(typeof r.seconds).toBe('number');
    expectTyped(r);
  });

  it('backtest', () => {
    const r = json('backtest', '-i', input, '-o', out, ...fast);
    expect(r).toMatchObject({ command: 'backtest', series: 2, windows: 1, horizon: 7 });
    expect(typeof r.models.ets.metrics.mase).toBe('number');
    expect(r.models.ets.series).toBe(2);
    expectTyped(r);
  });

  it('validate', () => {
    const r = json('validate', '-i', input);
    expect(r).toMatchObject({ command: 'validate', ok: true, problem: null, quality: { rows_read: 180, first_date: '2024-01-01', last_date: '2024-03-30' } });
    expectTyped(r);
  });

  it('explain', () => {
    const r = json('explain', '-o', out, '-s', 'S1', '-k', 'A', '-d', '2024-04-02');
    expect(r.forecast).toMatchObject({ store_id: 'S1', sku: 'A', date: '2024-04-02', step: 3, model_version: 1 });
    expect(typeof r.forecast.forecast).toBe('number');
    expect(typeof r.forecast.quantiles.p90).toBe('number');
    expect(typeof r.series.backtest_mase).toBe('number');
    expect(r.series.model_version).toBe(1);
    expect(r.live).toEqual({ version: 1, pinned: false, pinned_at: null });
    expect(r.input.rows[0]).toMatchObject({ line: 2, date: '2024-01-01' });
    expectTyped({ ...r, input: null });
  });

  it('monitor', () => {
    const actuals = writeCsv(dir, 'actuals.csv', 'store_id,sku,date,units', ['A', 'B'].flatMap((sku) => dailyRows('S1', sku, '2024-03-31', 5, (i) => 22 + i)));
    const r = json('monitor', '-i', actuals, '-o', out);
    expect(r).toMatchObject({ command: 'monitor', input: { first_date: '2024-03-31', last_date: '2024-04-04' }, overall: { series: 2, points: 10 } });
    expect(typeof r.overall.mase).toBe('number');
    expect(r.files).toEqual([join(out, 'monitoring.json'), join(out, 'monitoring.csv')]);
    expectTyped(r);
  });

  it('models list, show and unpin', () => {
    const list = json('models', 'list', '-o', out);
    expect(list).toMatchObject({ command: 'models list', series: 2, versions: 2, pinned: [], drifting: [] });
    expect(list.families.reduce((n: number, f: { series: number }) => n + f.series, 0)).toBe(2);
    expect(list.runs.find((r: { kind: string }) => r.kind === 'retrain')).toMatchObject({ runs: 1, last_finished_at: expect.stringMatching(TIME) });
    expectTyped(list);
    const show = json('models', 'show', '-o', out, '-s', 'S1', '-k', 'A');
    expect(show).toMatchObject({ command: 'models show', store_id: 'S1', sku: 'A', live_version: 1, pinned: false });
    expect(show.versions[0]).toMatchObject({ version: 1, run_id: runId, live: true, backtest_mase: expect.any(Number) });
    expectTyped(show);
    expect(json('models', 'unpin', '-o', out, '-s', 'S1')).toEqual({ command: 'models unpin', unpinned: 0 });
  });

  it('calendars list and show', () => {
    const list = json('calendars', 'list');
    expect(list.command).toBe('calendars list');
    expect(list.calendars.find((c: { file: string }) => c.file === 'holidays/US.csv')).toMatchObject({ country: 'US', entries: expect.any(Number), from: expect.stringMatching(DATE) });
    const show = json('calendars', 'show', '-s', 'S1', '--from', '2026-12-20', '--to', '2026-12-31');
    expect(show).toMatchObject({ command: 'calendars show', store: 'S1', location: { country: 'US', region: null }, listed: false });
    expect(show.events.find((e: { name: string }) => e.name === 'Christmas Day')).toMatchObject({ date: '2026-12-25', kind: 'holiday' });
    expectTyped(show);
  });
});
