import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { openDuckDb, sqlString } from '../src/db/duckdb.js';
import { openIngest } from '../src/ingest/index.js';
import { openSource } from '../src/ingest/source.js';
import { readSeriesBatches } from '../src/ingest/series-reader.js';
import { parseConfig } from '../src/config/load.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

/** The same rows as a CSV file, a Parquet file and a table of a DuckDB database. */
async function threeKinds(): Promise<string[]> {
  const dir = tempDir();
  const csv = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', [...dailyRows('S1', 'A', '2024-01-01', 40, (i) => 10 + (i % 7)), ...dailyRows('S2', 'B', '2024-01-05', 30, (i) => 3 + (i % 3))]);
  const parquet = join(dir, 'sales.parquet');
  const duck = join(dir, 'sales.duckdb');
  const conn = await openDuckDb();
  await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)})) TO ${sqlString(parquet)} (FORMAT parquet)`);
  await conn.run(`ATTACH ${sqlString(duck)} AS out`);
  await conn.run(`CREATE TABLE out.sales AS SELECT * FROM read_csv(${sqlString(csv)})`);
  await conn.run('DETACH out');
  conn.closeSync();
  return [csv, parquet, duck];
}

describe('sources', () => {
  it('read the same rows the same way from CSV, Parquet and DuckDB, and give one series\' rows back', async () => {
    const seen: { kind: string; values: number[]; report: unknown; rows: number }[] = [];
    for (const path of await threeKinds()) {
      const cfg = parseConfig({ input: { path } });
      const source = openSource(cfg.input);
      const conn = await openDuckDb();
      try {
        const { ingested } = await openIngest(conn, cfg, '2025-01-01', { source });
        const values: number[] = [];
        for await (const b of readSeriesBatches(conn, { lastT: ingested.lastT, gapValue: 0, batchSize: 10 })) values.push(...b.batch.values);
        const rows = await source.readRows(conn, 'S2', 'B');
        seen.push({ kind: source.kind, values, report: { ...ingested.report, source: undefined, format: undefined }, rows: rows.length });
        expect(source.describe()).toBe(path.split('/').pop());
        expect((await source.fingerprint()).sha256).toMatch(/^[0-9a-f]{64}$/);
      } finally {
        conn.closeSync();
      }
    }
    expect(seen.map((s) => s.kind)).toEqual(['csv', 'parquet', 'duckdb']);
    for (const s of seen.slice(1)) {
      expect(s.values).toEqual(seen[0].values);
      expect(s.report).toEqual(seen[0].report);
    }
    expect(seen.map((s) => s.rows)).toEqual([30, 30, 30]);
  });

  it('reads the bundled demo data when no input is given', () => {
    expect(openSource(parseConfig({}).input).path).toMatch(/data\/demo\/sales\.csv$/);
  });
});
