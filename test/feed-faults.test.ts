import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunSummary } from '../src/run/run.js';
import { demoInput } from '../src/ingest/source.js';
import { withState, liveVersions } from '../src/registry/state.js';
import { parseCsv, tempDir } from './helpers/tmp.js';

/**
 * Small, realistic faults in a feed (issue 11): a new SKU whose every row is rejected, one
 * stray late series, absurd values. None of them may move another series' forecast.
 */

const demo = readFileSync(demoInput(), 'utf8');
const cfg = { threads: 2, horizon: 14 };

/** The demo feed with `extra` rows appended and `edit` applied to its lines. */
function feed(dir: string, name: string, extra: string[] = [], edit: (line: string) => string = (l) => l): string {
  const lines = demo.trimEnd().split('\n');
  const path = join(dir, name);
  writeFileSync(path, [lines[0], ...lines.slice(1).map(edit), ...extra].join('\n') + '\n');
  return path;
}

/** forecasts.csv without its run id, and series.csv: what must not change. */
function published(s: RunSummary): { forecasts: string; series: string } {
  const strip = (text: string): string => text.split('\n').map((l) => l.slice(l.indexOf(',') + 1)).join('\n');
  return { forecasts: strip(readFileSync(join(s.dir, 'forecasts.csv'), 'utf8')), series: readFileSync(join(s.dir, 'series.csv'), 'utf8') };
}

async function run(input: string, extra: Record<string, unknown> = {}): Promise<RunSummary & { out: string }> {
  const out = tempDir();
  return { ...(await runForecast(parseConfig({ ...cfg, ...extra, out, input: { path: input } }))), out };
}

describe('faults in the feed never move another series\' forecast', () => {
  let dir: string;
  let base: RunSummary;

  beforeAll(async () => {
    dir = tempDir();
    base = await run(feed(dir, 'base.csv'));
  });

  it('a new SKU whose rows are all rejected (future dates, bad dates, blank units) shifts nothing', async () => {
    const days = [1, 2, 3, 4, 5];
    for (const rows of [
      days.map((d) => `S01,COFFEE-NEW,2027-03-0${d},5,4.99,0,0`),
      days.map((d) => `S01,COFFEE-NEW,2025-13-0${d},5,4.99,0,0`),
      days.map((d) => `S01,COFFEE-NEW,2025-12-0${d},,4.99,0,0`),
    ]) {
      const r = await run(feed(dir, 'bad.csv', rows));
      expect(r.series).toBe(48);
      expect(published(r)).toEqual(published(base));
      expect(r.warnings.join('\n')).toContain('S01/COFFEE-NEW');
      // The registry holds each series' own model, not a neighbour's.
      const live = await withState(r.out, liveVersions);
      const mine = parseCsv(readFileSync(join(r.dir, 'series.csv'), 'utf8'));
      for (const s of mine) expect(live.get(`${s.store_id}\u0001${s.sku}`)?.label).toBe(s.model);
    }
  });

  it('one stray series dated two months late neither zero-fills nor moves the others', async () => {
    const r = await run(feed(dir, 'late.csv', [1, 2, 3, 4, 5].map((d) => `S01,COFFEE-NEW,2026-03-0${d},5,4.99,0,0`)));
    expect(published(r)).toEqual(published(base));
    const q = JSON.parse(readFileSync(join(r.dir, 'quality.json'), 'utf8'));
    expect(q.data_end).toMatchObject({ date: '2025-12-31', latest_row: '2026-03-05' });
    expect(q.rules.after_end.rows).toBe(5);
    expect(r.warnings.some((w) => w.includes('held back'))).toBe(true);
  });

  it('every published series gets the forecast of a run on that series alone', async () => {
    const alone = { calendars: { enabled: false } };
    const all = parseCsv(published(await run(feed(dir, 'all.csv', [1, 2, 3].map((d) => `S01,COFFEE-NEW,2027-03-0${d},5,4.99,0,0`)), alone)).forecasts);
    for (const [store, sku] of [['S01', 'MILK-1L'], ['S01', 'LIGHTBULB'], ['S04', 'UMBRELLA']]) {
      const lines = demo.trimEnd().split('\n');
      const own = join(dir, `${store}-${sku}.csv`);
      writeFileSync(own, [lines[0], ...lines.filter((l) => l.startsWith(`${store},${sku},`))].join('\n') + '\n');
      const single = parseCsv(published(await run(own, alone)).forecasts);
      expect(single.length).toBe(14);
      expect(all.filter((r) => r.store_id === store && r.sku === sku).map((r) => [r.date, r.forecast, r.model])).toEqual(single.map((r) => [r.date, r.forecast, r.model]));
    }
  });

  it('an absurd value (1e308, or 1,000,000 in a series of tens) is caught and every row stays finite', async () => {
    const r = await run(feed(dir, 'absurd.csv', [], (l) => (l.startsWith('S01,MILK-1L,2025-06-10,') ? l.replace(/^([^,]*,[^,]*,[^,]*),[^,]*/, '$1,1e308') : l.startsWith('S02,BREAD-WH,2025-11-10,') ? l.replace(/^([^,]*,[^,]*,[^,]*),[^,]*/, '$1,1000000') : l)));
    const rows = parseCsv(readFileSync(join(r.dir, 'forecasts.csv'), 'utf8'));
    for (const row of rows) for (const c of ['forecast', 'p10', 'p50', 'p90']) expect(Number.isFinite(Number(row[c]))).toBe(true);
    const rejects = parseCsv(readFileSync(join(r.dir, 'rejects.csv'), 'utf8'));
    expect(rejects.find((x) => x.sku === 'MILK-1L' && x.date === '2025-06-10')?.rule).toBe('bad_units');
    expect(rejects.find((x) => x.sku === 'BREAD-WH' && x.date === '2025-11-10')?.rule).toBe('outlier');
    // The typo does not drag the point forecast to 0 nor blow up the band.
    const bread = rows.filter((x) => x.store_id === 'S02' && x.sku === 'BREAD-WH');
    const before = parseCsv(published(base).forecasts).filter((x) => x.store_id === 'S02' && x.sku === 'BREAD-WH');
    bread.forEach((x, i) => {
      expect(Number(x.forecast)).toBeGreaterThan(0.8 * Number(before[i].forecast));
      expect(Number(x.p90)).toBeLessThan(1.5 * Number(before[i].p90));
    });
  });

  it('a units column mapped to the wrong field (all corrected to 0) stops the run', async () => {
    const negative = feed(dir, 'negative.csv', [], (l) => l.replace(/^([^,]*,[^,]*,[^,]*),([0-9.]+)/, '$1,-$2'));
    const out = tempDir();
    await expect(runForecast(parseConfig({ ...cfg, out, input: { path: negative } }))).rejects.toThrow(/rejected and \d+ corrected of 35077 rows.*maxRejectedShare/);
    expect(() => readlinkSync(join(out, 'latest'))).toThrow();
  });

  it('a feed older than the published run is refused; a store missing from the end is flagged', async () => {
    const out = tempDir();
    await runForecast(parseConfig({ ...cfg, out, input: { path: feed(dir, 'full.csv') } }));
    const before = readlinkSync(join(out, 'latest'));
    const older = feed(dir, 'older.csv', [], (l) => (l.includes(',2025-12-3') ? '' : l));
    await expect(runForecast(parseConfig({ ...cfg, out, input: { path: older } }))).rejects.toThrow(/feed ends 2025-12-29, before the data of the published run .* \(2025-12-31\)/);
    expect(readlinkSync(join(out, 'latest'))).toBe(before);

    // S03 delivered nothing for the last two days: flagged, and its latest days are
    // unobserved rather than two days of zero sales.
    const gone = feed(dir, 'gone.csv', [], (l) => (l.startsWith('S03,') && /,2025-12-3[01],/.test(l) ? '' : l));
    const r = await run(gone);
    expect(r.warnings.join('\n')).toMatch(/1 stores have no rows at the data end: S03/);
    const q = JSON.parse(readFileSync(join(r.dir, 'quality.json'), 'utf8'));
    expect(q.missing_stores.stores).toEqual(['S03']);
    expect(q.gaps.periods).toBe(JSON.parse(readFileSync(join(base.dir, 'quality.json'), 'utf8')).gaps.periods);
    await expect(runForecast(parseConfig({ ...cfg, out: tempDir(), input: { path: gone }, quality: { missingStores: 'stop' } }))).rejects.toThrow(/stores have no rows at the data end 2025-12-31 \(S03\)/);
  });
});
