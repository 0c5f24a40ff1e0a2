import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDb } from '../src/db/duckdb.js';
import { openIngest } from '../src/ingest/index.js';
import { validateInput } from '../src/run/validate.js';
import { writeRejects } from '../src/ingest/rejects.js';
import { parseConfig } from '../src/config/load.js';
import { readSeriesBatches } from '../src/ingest/series-reader.js';
import { dailyRows, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

const HEADER = 'store_id,sku,date,units';
const good = dailyRows('S1', 'A', '2024-01-01', 30, (i) => 10 + (i % 7));

async function check(rows: string[], config: Record<string, unknown> = {}, header = HEADER) {
  const dir = tempDir();
  const path = writeCsv(dir, 'sales.csv', header, rows);
  const cfg = parseConfig({ ...config, input: { ...(config.input as object), path } });
  const conn = await openDuckDb();
  try {
    const { registered: source, ingested } = await openIngest(conn, cfg, '2025-01-01');
    const rejects = join(dir, 'rejects.csv');
    await writeRejects(conn, source, rejects);
    const batches = [];
    for await (const b of readSeriesBatches(conn, { lastT: ingested.lastT, gapValue: cfg.quality.gaps === 'zero' ? 0 : NaN, batchSize: 100 })) batches.push(b.batch);
    return { report: ingested.report, rejects: parseCsv(readFileSync(rejects, 'utf8')), batches, ingested };
  } finally {
    conn.closeSync();
  }
}

describe('data-quality rules', () => {
  it('accepts clean data and reports no problems', async () => {
    const { report } = await check(good);
    expect(report.rows_read).toBe(30);
    expect(report.rows_rejected).toBe(0);
    expect(report.frequency.name).toBe('day');
    expect(report.series).toBe(1);
  });

  it('rejects a missing key with the line and column', async () => {
    const { report, rejects } = await check([...good, ',A,2024-02-01,3', 'S1,,2024-02-01,3']);
    expect(report.rules.missing_key.rows).toBe(2);
    expect(rejects.map((r) => [r.line, r.column])).toEqual([['32', 'store_id'], ['33', 'sku']]);
  });

  it('rejects an unparsable date, naming the value', async () => {
    const { report, rejects } = await check([...good, 'S1,A,2024-02-30,3', 'S1,A,yesterday,3']);
    expect(report.rules.bad_date.rows).toBe(2);
    expect(rejects[0].reason).toContain('"2024-02-30" is not a date');
    expect(rejects[1].line).toBe('33');
  });

  it('rejects non-numeric units', async () => {
    const { report, rejects } = await check([...good, 'S1,A,2024-02-01,lots', 'S1,A,2024-02-02,']);
    expect(report.rules.bad_units.rows).toBe(2);
    expect(rejects[0].reason).toContain('"lots" is not a finite number');
  });

  it('sets negative units to 0 by default and counts them', async () => {
    const { report, batches } = await check([...good.slice(0, 29), 'S1,A,2024-01-30,-4']);
    expect(report.rules.negative_units).toEqual({ rows: 1, action: 'set to 0' });
    expect(batches[0].values[29]).toBe(0);
  });

  it('can reject or keep negative units instead', async () => {
    const rows = [...good.slice(0, 29), 'S1,A,2024-01-30,-4'];
    expect((await check(rows, { quality: { negativeUnits: 'reject' } })).report.rules.negative_units).toEqual({ rows: 1, action: 'rejected' });
    const kept = await check(rows, { quality: { negativeUnits: 'keep' } });
    expect(kept.batches[0].values[29]).toBe(-4);
  });

  it('rejects later duplicates of a (store, sku, date), or sums them when asked', async () => {
    const rows = [...good, 'S1,A,2024-01-05,100'];
    const r = await check(rows);
    expect(r.report.rules.duplicate.rows).toBe(1);
    expect(r.rejects[0].reason).toBe('duplicate of line 6');
    const summed = await check(rows, { quality: { duplicates: 'sum' } });
    expect(summed.report.rows_rejected).toBe(0);
    expect(summed.batches[0].values[4]).toBe(10 + (4 % 7) + 100);
  });

  it('finds a duplicate hidden by a gap (as many rows as periods)', async () => {
    // Day 10 is missing and day 5 appears twice: the row count matches the span of dates.
    const rows = [...good.filter((_, i) => i !== 9), 'S1,A,2024-01-05,100'];
    const r = await check(rows);
    expect(r.report.rules.duplicate.rows).toBe(1);
    expect(r.report.gaps.periods).toBe(1);
    expect(r.rejects.map((x) => x.reason)).toEqual(['duplicate of line 6']);
  });

  it('rejects dates after the as-of date', async () => {
    const { report, rejects } = await check([...good, 'S1,A,2031-01-01,3']);
    expect(report.rules.future_date.rows).toBe(1);
    expect(rejects[0].rule).toBe('future_date');
  });

  it('fills gaps with zero by default, or leaves them unobserved', async () => {
    const rows = good.filter((_, i) => i !== 10 && i !== 11);
    const zero = await check(rows);
    expect(zero.report.gaps).toEqual({ periods: 2, series: 1, action: 'filled with 0' });
    expect(zero.batches[0].values[10]).toBe(0);
    const missing = await check(rows, { quality: { gaps: 'missing' } });
    expect(Number.isNaN(missing.batches[0].values[11])).toBe(true);
  });

  it('extends every series to the data set\'s last date', async () => {
    const short = dailyRows('S1', 'B', '2024-01-01', 20, () => 4);
    const { batches } = await check([...good, ...short]);
    const offsets = Array.from(batches[0].offsets);
    expect(offsets).toEqual([0, 30, 60]);
    expect(batches[0].values[59]).toBe(0);
  });

  it('marks stock-out periods as unobserved demand', async () => {
    const rows = good.map((r, i) => `${r},${i === 15 ? 1 : 0}`);
    const { report, batches } = await check(rows, {}, `${HEADER},stockout`);
    expect(report.stockout_periods).toBe(1);
    expect(Number.isNaN(batches[0].values[15])).toBe(true);
  });

  it('infers weekly data and rejects dates off its weekday', async () => {
    const weeks = Array.from({ length: 20 }, (_, i) => `S1,A,${new Date(Date.UTC(2024, 0, 5 + 7 * i)).toISOString().slice(0, 10)},${50 + i}`);
    const { report, rejects } = await check([...weeks, 'S1,A,2024-03-07,9']);
    expect(report.frequency.name).toBe('week');
    expect(report.rules.off_grid_date.rows).toBe(1);
    expect(rejects[0].reason).toContain('Thursday');
    expect(rejects[0].reason).toContain('Fridays');
  });

  it('maps renamed columns from the config', async () => {
    const rows = good.map((r) => r.split(',').reverse().join(','));
    const { report } = await check(rows, { input: { columns: { store_id: 'shop', sku: 'item', date: 'day', units: 'qty' } } }, 'qty,day,item,shop');
    expect(report.rows_accepted).toBe(30);
  });
});

describe('where the data ends and what is missing (issue 11, issue 12 item 5)', () => {
  const steady = (store: string, sku: string, n: number, level = 10) => dailyRows(store, sku, '2024-01-01', n, (i) => level + (i % 7));

  it('ends where most series or most sales end, holding back one series\' late rows', async () => {
    const late = dailyRows('S9', 'NEW', '2024-03-01', 3, () => 5);
    const r = await check([...steady('S1', 'A', 40), ...steady('S1', 'B', 40), ...steady('S2', 'A', 40), ...late]);
    expect(r.report.last_date).toBe('2024-02-09');
    expect(r.report.rules.after_end.rows).toBe(3);
    expect(r.rejects.map((x) => x.rule)).toEqual(['after_end', 'after_end', 'after_end']);
    expect(r.rejects[0].reason).toContain('after the data\'s end 2024-02-09');
    // The late series had no other row: it is dropped, and the ids of the rest stay dense.
    expect(r.report.series_dropped).toEqual({ series: 1, examples: [{ store_id: 'S9', sku: 'NEW' }] });
    expect(r.report.series).toBe(3);
    expect(Array.from(r.batches[0].offsets)).toEqual([0, 40, 80, 120]);
  });

  it('follows the volume when most series are slow sellers that did not sell lately', async () => {
    const slow = Array.from({ length: 5 }, (_, k) => dailyRows('S1', `SLOW${k}`, '2024-01-01', 30, () => 1));
    const r = await check([...steady('S1', 'FAST', 40, 100), ...slow.flat()]);
    expect(r.report.last_date).toBe('2024-02-09');
  });

  it('treats a long implausible run of missing days as an outage, not as zero sales', async () => {
    // Daily rows for two years, except three months missing in the second.
    const later = { quality: { asOf: '2026-12-31' } };
    const rows = steady('S1', 'A', 730).filter((_, i) => i < 400 || i >= 490);
    const r = await check(rows, later);
    expect(r.report.outages).toMatchObject({ runs: 1, periods: 90, series: 1 });
    expect(r.report.gaps.periods).toBe(0);
    expect(Number.isNaN(r.batches[0].values[450])).toBe(true);
    // The same run of days missing every year is a seasonal absence: gaps, zero sales.
    const seasonal = steady('S1', 'A', 730).filter((_, i) => i % 365 < 200 || i % 365 >= 290);
    const s = await check(seasonal, later);
    expect(s.report.outages.runs).toBe(0);
    expect(s.report.gaps.periods).toBe(180);
  });

  it('treats rare long gaps of a sparse series as sales of zero', async () => {
    // A slow seller with a row on one day in three, and one run of 20 days without.
    const rows = steady('S1', 'A', 300).filter((_, i) => i % 3 === 0 && (i < 100 || i > 120));
    const r = await check(rows, { freq: 'day' });
    expect(r.report.outages.runs).toBe(0);
    expect(r.report.gaps.periods).toBe(298 - rows.length);
  });
});

describe('absurd values and how numbers are written', () => {
  const base = dailyRows('S1', 'A', '2024-01-01', 120, (i) => 20 + (i % 5));

  it('rejects a value far above the series\' usual highs and leaves its period unobserved', async () => {
    const rows = base.map((l, i) => (i === 60 ? l.replace(/,\d+$/, ',1000000') : l));
    const r = await check(rows);
    expect(r.report.rules.outlier).toEqual({ rows: 1, action: 'rejected (period unobserved)' });
    expect(Number.isNaN(r.batches[0].values[60])).toBe(true);
    expect(r.rejects[0]).toMatchObject({ rule: 'outlier', action: 'rejected' });
    const capped = await check(rows, { quality: { outliers: { action: 'cap' } } });
    expect(capped.batches[0].values[60]).toBe(240);
    expect(capped.report.rows_corrected).toBe(1);
    // A peak ten times a normal day, as on a holiday, is not an outlier.
    expect((await check(base.map((l, i) => (i % 30 === 7 ? l.replace(/,\d+$/, ',200') : l)))).report.rules.outlier.rows).toBe(0);
  });

  it('rejects values no store could sell (beyond 1e15)', async () => {
    const r = await check(base.map((l, i) => (i === 3 ? l.replace(/,\d+$/, ',1e308') : l)));
    expect(r.rejects[0]).toMatchObject({ rule: 'bad_units', action: 'rejected' });
  });

  it('stops on "." thousands separators instead of reading 1.500 as 1.5, and reads them when told', async () => {
    const rows = base.map((l, i) => l.replace(/,(\d+)$/, (_, u) => `,${i % 2 ? '1.' + String(u).padStart(3, '0') : u}`));
    await expect(check(rows)).rejects.toThrow(/units such as "1\.0\d\d" \(line \d+\) look like "\." thousands separators.*input\.csv\.thousands/);
    const told = await check(rows, { input: { csv: { thousands: '.', decimal: ',' } } });
    expect(told.batches[0].values[1]).toBe(1021);
    const decimals = await check(rows, { input: { csv: { decimal: '.' } } });
    expect(decimals.batches[0].values[1]).toBe(1.021);
  });
});

describe('unreadable sources', () => {
  it('names the missing column and what was found', async () => {
    await expect(check(good.map((r) => r.replace(/,\d+$/, '')), {}, 'store_id,sku,date')).rejects.toThrow(/missing required column "units"; found "store_id", "sku", "date"/);
  });

  it('names a file that does not exist', async () => {
    const cfg = parseConfig({});
    const conn = await openDuckDb();
    await expect(openIngest(conn, { ...cfg, input: { ...cfg.input, path: '/nonexistent/sales.csv' } }, '2025-01-01')).rejects.toThrow('input /nonexistent/sales.csv: no such file');
    conn.closeSync();
  });
});

describe('validate builds `clean` in no particular order', () => {
  it('reports what a run reports on a shuffled feed, without sorting the rows', async () => {
    const steady = (store: string, sku: string, n: number, level = 10) => dailyRows(store, sku, '2024-01-01', n, (i) => level + (i % 7));
    const rows = [
      ...steady('S1', 'A', 60), ...steady('S1', 'B', 60, 3), ...steady('S2', 'A', 45), ...dailyRows('S9', 'NEW', '2024-03-10', 3, () => 5),
    ].filter((r) => !r.startsWith('S1,B,2024-01-1') && !r.startsWith('S1,A,2024-01-20'));
    // A duplicate, a negative in a gap, a bad date and an absurd value.
    rows.push('S1,A,2024-01-05,100', 'S1,B,2024-01-12,-2', 'S2,A,yesterday,3', 'S1,A,2024-01-20,900000');
    // A seeded shuffle: the feed is in no key order, so a `clean` left unsorted is out of order too.
    let seed = 7;
    for (let i = rows.length - 1; i > 0; i--) { seed = (seed * 1103515245 + 12345) % 2147483648; const j = seed % (i + 1); [rows[i], rows[j]] = [rows[j], rows[i]]; }
    const dir = tempDir();
    const cfg = parseConfig({ input: { path: writeCsv(dir, 'sales.csv', HEADER, rows) } });
    const run = await check(rows);
    const validated = await validateInput(cfg, undefined, new Date('2025-01-01T12:00:00Z'));
    expect(validated.report).toEqual(run.report);
    expect(run.report.rules.duplicate.rows).toBe(1);
    expect(run.report.rules.negative_units.rows).toBe(1);
    expect(run.report.rules.bad_date.rows).toBe(1);
    expect(run.report.rules.after_end.rows).toBe(3);
    // Summed duplicates and kept negatives take the other ways into `clean`.
    const quality = { duplicates: 'sum', negativeUnits: 'keep' };
    const summed = parseConfig({ input: { path: cfg.input.path }, quality });
    expect((await validateInput(summed, undefined, new Date('2025-01-01T12:00:00Z'))).report).toEqual((await check(rows, { quality })).report);

    // Without the late series (dropping it renumbers, and sorts, `clean`).
    const kept = parseConfig({ input: { path: writeCsv(dir, 'kept.csv', HEADER, rows.filter((r) => !r.startsWith('S9'))) } });
    const conn = await openDuckDb();
    try {
      await openIngest(conn, kept, '2025-01-01', { order: 'any' });
      const out = await conn.runAndReadAll('SELECT count(*) FILTER (k < prev)::INTEGER AS n FROM (SELECT k, lag(k) OVER () AS prev FROM (SELECT sid::BIGINT * 4294967296 + t AS k FROM clean))');
      expect(out.getRowObjects()[0].n).toBeGreaterThan(0);
    } finally {
      conn.closeSync();
    }
  });
});
