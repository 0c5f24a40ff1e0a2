import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDb } from '../src/db/duckdb.js';
import { ingest } from '../src/ingest/index.js';
import { writeRejects } from '../src/ingest/quality.js';
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
    const { source, ingested } = await ingest(conn, cfg, path, '2025-01-01');
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

describe('unreadable sources', () => {
  it('names the missing column and what was found', async () => {
    await expect(check(good.map((r) => r.replace(/,\d+$/, '')), {}, 'store_id,sku,date')).rejects.toThrow(/missing required column "units"; found "store_id", "sku", "date"/);
  });

  it('names a file that does not exist', async () => {
    const cfg = parseConfig({});
    const conn = await openDuckDb();
    await expect(ingest(conn, cfg, '/nonexistent/sales.csv', '2025-01-01')).rejects.toThrow('input /nonexistent/sales.csv: no such file');
    conn.closeSync();
  });
});
