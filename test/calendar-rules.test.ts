import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { days, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

/**
 * The rules of issue 12 on small simulated stores: closed weekdays and holidays, regional
 * holidays, one-day fixed-date holidays in daily data, multi-week events, calendars that carry
 * no signal, and known future inputs.
 */
const weekday = (d: string): number => new Date(`${d}T00:00:00Z`).getUTCDay();
type Row = Record<string, string>;
const rowsOf = (dir: string, file: string): Row[] => parseCsv(readFileSync(join(dir, file), 'utf8'));
const seriesRows = (rows: Row[], store: string): Row[] => rows.filter((r) => r.store_id === store);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Public holidays of two German states in 2022–2024 (from calendars/holidays/DE.csv). */
const DE_ALL = ['2022-01-01', '2022-04-15', '2022-04-18', '2022-05-01', '2022-05-26', '2022-06-06', '2022-10-03', '2022-12-25', '2022-12-26',
  '2023-01-01', '2023-04-07', '2023-04-10', '2023-05-01', '2023-05-18', '2023-05-29', '2023-10-03', '2023-12-25', '2023-12-26',
  '2024-01-01', '2024-03-29', '2024-04-01', '2024-05-01', '2024-05-09', '2024-05-20'];
const CORPUS_CHRISTI = ['2022-06-16', '2023-06-08', '2024-05-30'];

describe('closed days and holidays (issue 12)', () => {
  it('forecasts 0 in every quantile on a store\'s closed weekday and on its holidays, regional ones only where they apply', async () => {
    // Two German stores, closed every Sunday and on their state's public holidays (Corpus
    // Christi in Bavaria, not in Berlin), with a weekly pattern and noise.
    const r = rng(21);
    const closedBy = new Set([...DE_ALL, ...CORPUS_CHRISTI, '2022-01-06', '2023-01-06', '2024-01-06', '2022-08-15', '2023-08-15', '2022-11-01', '2023-11-01']);
    const closedBe = new Set([...DE_ALL, '2023-03-08', '2024-03-08']);
    const rows: string[] = [];
    for (const d of days('2022-01-03', '2024-04-20')) {
      const base = 1000 * (1 + 0.2 * weekday(d) / 6) * (1 + 0.05 * gaussian(r));
      rows.push(`BY1,TOTAL,${d},${weekday(d) === 0 || closedBy.has(d) ? 0 : Math.round(base)}`);
      rows.push(`BE1,TOTAL,${d},${weekday(d) === 0 || closedBe.has(d) ? 0 : Math.round(base * 1.1)}`);
    }
    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const stores = writeCsv(dir, 'stores.csv', 'store_id,country,region', ['BY1,DE,BY', 'BE1,DE,BE']);
    const run = await runForecast(parseConfig({ input: { path: input }, out: join(dir, 'out'), horizon: 42, threads: 1, calendars: { country: 'DE', stores } }));
    const fc = rowsOf(run.dir, 'forecasts.csv');
    const zero = (r: Row): boolean => ['forecast', 'p10', 'p50', 'p90'].every((c) => Number(r[c]) === 0);
    for (const store of ['BY1', 'BE1']) {
      const mine = seriesRows(fc, store);
      expect(mine.filter((x) => weekday(x.date) === 0).every(zero)).toBe(true);
      for (const d of ['2024-05-01', '2024-05-09', '2024-05-20']) expect(zero(mine.find((x) => x.date === d)!)).toBe(true);
      expect(mine.filter((x) => weekday(x.date) !== 0 && !['2024-05-01', '2024-05-09', '2024-05-20', '2024-05-30'].includes(x.date)).every((x) => Number(x.p10) > 500)).toBe(true);
    }
    // Corpus Christi closes the Bavarian store only.
    expect(zero(seriesRows(fc, 'BY1').find((x) => x.date === '2024-05-30')!)).toBe(true);
    expect(Number(seriesRows(fc, 'BE1').find((x) => x.date === '2024-05-30')!.forecast)).toBeGreaterThan(800);
    const series = rowsOf(run.dir, 'series.csv');
    expect(series.find((s) => s.store_id === 'BY1')!.closures).toMatch(/closed Sun \(no sales in 8 weeks\); closed on \d+ holiday days/);
    const events = rowsOf(run.dir, 'events.csv');
    expect(events.some((e) => e.store_id === 'BY1' && e.date === '2024-05-30')).toBe(true);
    expect(events.some((e) => e.store_id === 'BE1' && e.date === '2024-05-30')).toBe(false);
  });

  it('gives a one-day holiday that repeats every 365 days its effect in daily data', async () => {
    // Sales triple on 4 July in 2022 and 2023, 365 days apart: a smooth yearly cycle cannot
    // carry that one day, so the holiday keeps its own effect.
    const r = rng(22);
    const rows = days('2022-01-01', '2024-06-20').map((d) => `S1,SODA,${d},${Math.round((d.endsWith('-07-04') ? 3 : 1) * (100 + 5 * gaussian(r)))}`);
    const dir = tempDir();
    const run = await runForecast(parseConfig({ input: { path: writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows) }, out: join(dir, 'out'), horizon: 28, threads: 1 }));
    const fc = rowsOf(run.dir, 'forecasts.csv');
    const ordinary = mean(fc.filter((x) => x.date < '2024-07-01').map((x) => Number(x.forecast)));
    expect(Number(fc.find((x) => x.date === '2024-07-04')!.forecast) / ordinary).toBeGreaterThan(1.8);
  });

  it('gives a multi-week event its effect over its whole span', async () => {
    // A three-week summer sale lifts sales by half every year, on its last days as on its first.
    const r = rng(23);
    const sale = (d: string): boolean => d.slice(5) >= '07-01' && d.slice(5) <= '07-21';
    const rows = days('2021-01-01', '2024-06-23').map((d) => `S1,FAN,${d},${Math.round((sale(d) ? 1.5 : 1) * (200 + 8 * gaussian(r)))}`);
    const dir = tempDir();
    const events = writeCsv(dir, 'events.csv', 'name,start,end,kind,store_id,sku,category', ['2021', '2022', '2023', '2024'].map((y) => `Summer sale,${y}-07-01,${y}-07-21,event,,,`));
    const run = await runForecast(parseConfig({ input: { path: writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows) }, out: join(dir, 'out'), horizon: 35, threads: 1, calendars: { events } }));
    const fc = rowsOf(run.dir, 'forecasts.csv').map((x) => [x.date, Number(x.forecast)] as const);
    const before = mean(fc.filter(([d]) => d < '2024-07-01').map(([, v]) => v));
    const lastWeek = mean(fc.filter(([d]) => d >= '2024-07-15' && d <= '2024-07-21').map(([, v]) => v));
    const firstWeek = mean(fc.filter(([d]) => d >= '2024-07-01' && d <= '2024-07-07').map(([, v]) => v));
    expect(firstWeek / before).toBeGreaterThan(1.3);
    expect(lastWeek / before).toBeGreaterThan(1.3);
  });

  it('leaves out a calendar whose dates carry no signal', async () => {
    // Noise around a weekly pattern, nothing on any holiday: the German calendar must not
    // move the forecast.
    const r = rng(24);
    const rows = days('2022-01-03', '2024-04-20').map((d) => `S1,TOTAL,${d},${Math.round((1 + 0.1 * weekday(d)) * (500 + 25 * gaussian(r)))}`);
    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const on = await runForecast(parseConfig({ input: { path: input }, out: join(dir, 'on'), horizon: 42, threads: 1, calendars: { country: 'DE' } }));
    const off = await runForecast(parseConfig({ input: { path: input }, out: join(dir, 'off'), horizon: 42, threads: 1, calendars: { enabled: false } }));
    const a = rowsOf(on.dir, 'forecasts.csv').map((x) => Number(x.forecast));
    const b = rowsOf(off.dir, 'forecasts.csv').map((x) => Number(x.forecast));
    expect(mean(a.map((x, i) => Math.abs(x - b[i]) / b[i]))).toBeLessThan(0.01);
    expect(Number(rowsOf(on.dir, 'series.csv')[0].calendar_effects)).toBeLessThanOrEqual(2);
    expect(on.calendars).toBe('DE (default) 1 stores');
    expect(off.calendars).toBe('off');
  });

  it('takes planned promotions and closures from the future file', async () => {
    // History with a promo column (sales ×2 on promotion) and no plan in any calendar file.
    const r = rng(25);
    const promoDay = (d: string): boolean => Number(d.slice(8)) % 10 < 3;
    const rows = days('2023-01-01', '2024-03-31').map((d) => `S1,A,${d},${Math.round((promoDay(d) ? 2 : 1) * (100 + 4 * gaussian(r)))},${promoDay(d) ? 1 : 0}`);
    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units,promo', rows);
    const future = join(dir, 'future.csv');
    writeFileSync(future, ['store_id,sku,date,promo,open', 'S1,A,2024-04-05,1,1', 'S1,A,2024-04-06,1,1', 'S1,,2024-04-12,0,0', 'S9,A,2024-04-05,1,1', 'S1,A,2025-01-01,1,1'].join('\n') + '\n');
    const run = await runForecast(parseConfig({ input: { path: input, future }, out: join(dir, 'out'), horizon: 14, threads: 1 }));
    const fc = new Map(rowsOf(run.dir, 'forecasts.csv').map((x) => [x.date, x]));
    const plain = Number(fc.get('2024-04-08')!.forecast);
    expect(Number(fc.get('2024-04-05')!.forecast) / plain).toBeGreaterThan(1.6);
    expect(['forecast', 'p10', 'p90'].every((c) => Number(fc.get('2024-04-12')![c]) === 0)).toBe(true);
    const manifest = JSON.parse(readFileSync(join(run.dir, 'manifest.json'), 'utf8'));
    expect(manifest.future).toMatchObject({ file: 'future.csv', rows: 5, used: 3, unknown_series: 1, outside_horizon: 1, promo_periods: 2, closed_periods: 1 });
  });
});
