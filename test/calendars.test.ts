import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { fiscalLabel, fiscalYearStart, isoDate, weeksInFiscalYear } from '../src/calendars/fiscal454.js';
import { FeatureRegistry, featureTable, mergeTables, PROMO_FEATURE, withoutSeasonalRepeats, type PeriodGrid } from '../src/calendars/features.js';
import { latestCalendarPriors, withState } from '../src/registry/state.js';
import { readUserEvents } from '../src/calendars/scoped.js';
import { CalendarCatalog, shippedCalendarDir } from '../src/calendars/catalog.js';
import { estimateEffects, withEvents } from '../src/models/events.js';
import { modelByName } from '../src/models/library.js';
import { days, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

const forecastOf = (dir: string, store: string, sku: string): Map<string, number> =>
  new Map(parseCsv(readFileSync(join(dir, 'forecasts.csv'), 'utf8')).filter((r) => r.store_id === store && r.sku === sku).map((r) => [r.date, Number(r.forecast)]));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('effects learned from history', () => {
  it('apply to the next occurrence of a moving holiday (Easter)', async () => {
    // Three Easters in the history (2021-04-04, 2022-04-17, 2023-04-09), each with double sales
    // on Easter Saturday; forecast across Easter 2024 (31 March) on a different date again.
    const r = rng(4);
    const easterEves = new Set(['2021-04-03', '2022-04-16', '2023-04-08']);
    const rows = days('2021-01-01', '2024-03-10').map((d) => `S1,EGGS,${d},${Math.round((easterEves.has(d) ? 2 : 1) * (100 + 5 * gaussian(r)))}`);
    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const run = async (enabled: boolean) => forecastOf((await runForecast(parseConfig({ input: { path: input }, out: join(dir, `out-${enabled}`), horizon: 28, calendars: { enabled } }))).dir, 'S1', 'EGGS');
    const withCal = await run(true);
    const without = await run(false);
    const ordinary = mean([...withCal].filter(([d]) => d < '2024-03-25').map(([, v]) => v));
    expect(withCal.get('2024-03-30')! / ordinary).toBeGreaterThan(1.5);
    expect(without.get('2024-03-30')! / ordinary).toBeLessThan(1.2);
  });

  it('follow Thanksgiving week when it moves against the 52-week cycle', () => {
    // Weekly grid ending Fridays from 2009-01-02: Thanksgiving falls in a different week of
    // the 52-week cycle in some years; its feature is kept and its effect estimated.
    const grid: PeriodGrid = { firstDate: '2009-01-02', stepDays: 7, periods: 6 * 52 + 10, history: 6 * 52, weekLabel: 'end' };
    const reg = new FeatureRegistry();
    const catalog = new CalendarCatalog(shippedCalendarDir(), { before: 0, after: 0 });
    const table = withoutSeasonalRepeats(featureTable(catalog.forLocation({ country: 'US' }).filter((e) => e.name === 'Thanksgiving Day'), grid, reg), 52);
    expect(table.t.length).toBeGreaterThan(4);
    const r = rng(8);
    const tg = new Set(Array.from(table.t));
    const n = 5 * 52;
    const y = Float64Array.from({ length: n }, (_, t) => (tg.has(t) ? 3 : 1) * (200 + 10 * gaussian(r)));
    const ev = { t: table.t, f: table.f, prior: new Float64Array(reg.size).fill(NaN), priorWeight: 2, baselineStep: 1 };
    // True effect ×3; with no pooled prior the estimate is shrunk towards ×1 (prior weight 2).
    const effect = Math.exp(estimateEffects(y, ev)[0]);
    expect(effect).toBeGreaterThan(2);
    expect(effect).toBeLessThan(3.2);
    const next = Array.from(table.t).find((t) => t >= n) as number;
    const f = withEvents(modelByName('theta'), ev).fit(y, { season: 1, seasons: [] }).forecast(next - n + 1);
    expect(f.mean[next - n] / f.mean[0]).toBeGreaterThan(2);
  });
});

describe('per-store calendars', () => {
  it('give two stores in different countries different holiday effects in one run', async () => {
    // Identical history in a US and a UK store, both with a spike on 4 July 2023.
    const r = rng(6);
    const history = days('2023-01-01', '2024-06-20').map((d) => [d, Math.round((d === '2023-07-04' ? 3 : 1) * (80 + 4 * gaussian(r)))] as const);
    const rows = ['S-US', 'S-UK'].flatMap((s) => history.map(([d, u]) => `${s},SODA,${d},${u}`));
    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows);
    const stores = writeCsv(dir, 'stores.csv', 'store_id,country,region', ['S-US,US,TX', 'S-UK,GB,ENG']);
    const res = await runForecast(parseConfig({ input: { path: input }, out: join(dir, 'out'), horizon: 28, calendars: { stores } }));
    const us = forecastOf(res.dir, 'S-US', 'SODA');
    const uk = forecastOf(res.dir, 'S-UK', 'SODA');
    const base = (m: Map<string, number>): number => mean([...m].filter(([d]) => d < '2024-07-01').map(([, v]) => v));
    expect(us.get('2024-07-04')! / base(us)).toBeGreaterThan(1.5);
    expect(uk.get('2024-07-04')! / base(uk)).toBeLessThan(1.2);
    const events = parseCsv(readFileSync(join(res.dir, 'events.csv'), 'utf8'));
    expect(events.some((e) => e.store_id === 'S-US' && e.date === '2024-07-04')).toBe(true);
    expect(events.some((e) => e.store_id === 'S-UK' && e.date === '2024-07-04')).toBe(false);
    const manifest = JSON.parse(readFileSync(join(res.dir, 'manifest.json'), 'utf8'));
    const files = manifest.calendars.files.map((f: { file: string }) => f.file.split('/').slice(-2).join('/'));
    expect(files).toEqual(expect.arrayContaining(['holidays/US.csv', 'holidays/GB.csv', 'events/GB.csv']));
    expect(manifest.calendars.files.every((f: { sha256: string }) => /^[0-9a-f]{64}$/.test(f.sha256))).toBe(true);
  });
});

describe('feature tables', () => {
  it('merge in (period, feature) order without repeating a pair', () => {
    const a = { t: Int32Array.from([1, 3, 3, 9]), f: Int32Array.from([0, 0, 2, 1]) };
    const b = { t: Int32Array.from([0, 3, 9, 12]), f: Int32Array.from([5, 2, 0, 5]) };
    const m = mergeTables(a, b, { t: Int32Array.from([3]), f: Int32Array.from([1]) });
    expect([...m.t]).toEqual([0, 1, 3, 3, 3, 9, 9, 12]);
    expect([...m.f]).toEqual([5, 0, 0, 1, 2, 0, 1, 5]);
  });
});

describe('promotions', () => {
  it('a planned promotion lifts that SKU\'s forecast and not another\'s', async () => {
    const r = rng(12);
    const dates = days('2023-06-01', '2024-05-31');
    const onPromo = (i: number): boolean => i % 60 >= 50 && i % 60 < 57; // a week of promotion every 60 days
    const rows = ['A', 'B'].flatMap((sku) => dates.map((d, i) => `S1,${sku},${d},${Math.round((onPromo(i) ? 1.6 : 1) * (50 + 3 * gaussian(r)))},${onPromo(i) ? 1 : 0}`));
    const dir = tempDir();
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units,promo', rows);
    const plan = writeCsv(dir, 'plan.csv', 'name,start,end,kind,store_id,sku', ['June deal,2024-06-10,2024-06-16,promo,S1,A']);
    const res = await runForecast(parseConfig({ input: { path: input }, out: join(dir, 'out'), horizon: 28, calendars: { events: plan } }));
    const a = forecastOf(res.dir, 'S1', 'A');
    const b = forecastOf(res.dir, 'S1', 'B');
    const inPromo = (m: Map<string, number>): number => mean(days('2024-06-10', '2024-06-16').map((d) => m.get(d)!));
    const outside = (m: Map<string, number>): number => mean(days('2024-06-20', '2024-06-28').map((d) => m.get(d)!));
    expect(inPromo(a) / outside(a)).toBeGreaterThan(1.35);
    expect(inPromo(b) / outside(b)).toBeLessThan(1.15);

    // The next (nightly) run keeps the pooled effects the first run stored with its calibration
    // rather than scanning the history again; on the same data it forecasts the same numbers.
    const stored = await withState(join(dir, 'out'), (db) => latestCalendarPriors(db, 'sku'));
    expect(stored?.find((p) => p.pool === 'A' && p.feature === PROMO_FEATURE)?.effect).toBeGreaterThan(Math.log(1.3));
    const nightly = await runForecast(parseConfig({ input: { path: input }, out: join(dir, 'out'), horizon: 28, calendars: { events: plan } }));
    expect(JSON.parse(readFileSync(join(nightly.dir, 'manifest.json'), 'utf8')).calendars.pooled_effects).toBe('from the last retrain');
    expect([...forecastOf(nightly.dir, 'S1', 'A')]).toEqual([...a]);
  });
});

describe('NRF 4-5-4 fiscal calendar', () => {
  it('has 53 weeks in the known long years and 52 otherwise', () => {
    for (const y of [2006, 2012, 2017, 2023]) expect(weeksInFiscalYear(y)).toBe(53);
    for (const y of [2011, 2013, 2016, 2018, 2019, 2022, 2024]) expect(weeksInFiscalYear(y)).toBe(52);
    expect(isoDate(fiscalYearStart(2023))).toBe('2023-01-29');
    expect(isoDate(fiscalYearStart(2024))).toBe('2024-02-04');
  });

  it('labels weeks with 4-5-4 periods and puts the 53rd week in the last period', () => {
    expect(fiscalLabel('2023-01-29')).toEqual({ year: 2023, quarter: 1, period: 1, week: 1 });
    expect(fiscalLabel('2023-02-26')).toEqual({ year: 2023, quarter: 1, period: 2, week: 5 });
    expect(fiscalLabel('2023-04-02')).toEqual({ year: 2023, quarter: 1, period: 3, week: 10 });
    expect(fiscalLabel('2024-02-03')).toEqual({ year: 2023, quarter: 4, period: 12, week: 53 });
    expect(fiscalLabel('2024-02-04')).toEqual({ year: 2024, quarter: 1, period: 1, week: 1 });
  });
});

describe('bad calendar files', () => {
  it('are refused with the file, line and reason', () => {
    const dir = tempDir();
    const file = join(dir, 'events.csv');
    writeFileSync(file, 'name,start,end,kind\nSpring sale,2024-03-01,2024-03-07,promo\nSummer sale,2024-13-01,2024-13-07,promo\n');
    expect(() => readUserEvents(file, null)).toThrow(`calendar ${file}:3: start "2024-13-01" is not a date (expected YYYY-MM-DD)`);
    writeFileSync(file, 'name,start,end,kind\nSale,2024-03-07,2024-03-01,promo\n');
    expect(() => readUserEvents(file, null)).toThrow(`calendar ${file}:2: end 2024-03-01 is before start 2024-03-07`);
    writeFileSync(file, 'name,begin,end\n');
    expect(() => readUserEvents(file, null)).toThrow(`calendar ${file}:1: missing column "start"`);
    writeFileSync(file, '# our sales\nname,start,end,kind\n\nSale,2024-03-01,2024-03-07\n');
    expect(() => readUserEvents(file, null)).toThrow(`calendar ${file}:4: 3 fields, the header has 4`);
    writeFileSync(file, 'name,start,end,kind\n"Sale, spring,2024-03-01,2024-03-07,promo\n');
    expect(() => readUserEvents(file, null)).toThrow(new RegExp(`^calendar ${file}:2: .*quote`, 'i'));
  });

  it('reads quoted fields, comments, padding and Windows line ends', () => {
    const file = join(tempDir(), 'events.csv');
    writeFileSync(file, '# our sales\r\nname,start,end,kind\r\n"Sale, ""spring""" , 2024-03-01 ,2024-03-07,promo\r\n\r\n# done\r\n');
    const events = readUserEvents(file, null);
    expect(events.map((e) => [e.name, e.date, e.span, e.kind])).toEqual([['Sale, "spring"', '2024-03-01', 6, 'promo']]);
  });

  it('stop a run before anything is published', async () => {
    const dir = tempDir();
    const bad = writeCsv(dir, 'stores.csv', 'store_id,country', ['S01,USA']);
    await expect(runForecast(parseConfig({ out: join(dir, 'out'), calendars: { stores: bad } }))).rejects.toThrow(`calendar ${bad}:2: country "USA" is not a two-letter ISO code`);
  });
});
