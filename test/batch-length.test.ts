import { describe, expect, it } from 'vitest';
import { openDuckDb } from '../src/db/duckdb.js';
import { openIngest } from '../src/ingest/index.js';
import { parseConfig } from '../src/config/load.js';
import { batchLength, readSeriesBatches } from '../src/ingest/series-reader.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

describe('batch lengths near the end of the stream', () => {
  it('are the batch size until a few batches per worker are left, then shrink to a floor', () => {
    expect(batchLength(5000, 200, 2)).toBe(200);
    expect(batchLength(800, 200, 2)).toBe(200);
    expect(batchLength(600, 200, 2)).toBe(150);
    expect(batchLength(30, 200, 2)).toBe(10);
    expect(batchLength(3, 200, 2)).toBe(10);
    expect(batchLength(3, 4, 2)).toBe(4);
    expect(batchLength(600, 200)).toBe(200);
  });

  it('split the same series into shrinking batches, values unchanged', async () => {
    const dir = tempDir();
    const rows = Array.from({ length: 120 }, (_, s) => dailyRows(`S${s % 4}`, `K${s}`, '2024-01-01', 20 + (s % 5), (i) => (s * 7 + i) % 11)).flat();
    const cfg = parseConfig({ input: { path: writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', rows) } });
    const conn = await openDuckDb();
    try {
      const { ingested } = await openIngest(conn, cfg, '2025-01-01');
      const read = async (workers?: number) => {
        const out: { first: number; n: number; values: number[] }[] = [];
        for await (const b of readSeriesBatches(conn, { lastT: ingested.lastT, gapValue: 0, batchSize: 30, ...(workers ? { workers } : {}) })) {
          out.push({ first: b.firstSid, n: b.batch.offsets.length - 1, values: Array.from(b.batch.values) });
        }
        return out;
      };
      const plain = await read();
      const tapered = await read(2);
      expect(plain.map((b) => b.n)).toEqual([30, 30, 30, 30]);
      expect(tapered.map((b) => b.n)).toEqual([30, 23, 17, 13, 10, 10, 10, 7]);
      expect(tapered.flatMap((b) => b.values)).toEqual(plain.flatMap((b) => b.values));
      expect(tapered.map((b) => b.first)).toEqual([0, 30, 53, 70, 83, 93, 103, 113]);
    } finally {
      conn.closeSync();
    }
  });
});
