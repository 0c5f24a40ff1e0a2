import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openDuckDb, queryRows } from '../src/db/duckdb.js';
import { csvField, csvText } from '../src/publish/format.js';
import { readPublishedCsv, sqlCsvText } from '../src/publish/csv-sql.js';
import { fiscalAggregate } from '../src/publish/parquet.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

// The one CSV text rule (OWASP CSV injection), in JavaScript and in SQL, and its inverse for
// reading shelfcast's own files back.

describe('CSV text fields', () => {
  it('are prefixed with a single quote when they start like a formula; numbers, negative ones included, stay numbers', () => {
    expect(csvText('=1+1')).toBe("'=1+1");
    expect(csvText('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvText('+A1')).toBe("'+A1");
    expect(csvText('\t=x')).toBe("'\t=x");
    expect(csvText('\r=x')).toBe("'\r=x");
    expect(csvText('-2+3')).toBe("'-2+3");
    expect(csvText("'=x")).toBe("''=x");
    for (const n of ['-5', '+1.5', '-0.25', '1e-3', '-.5', '-3E+2', 'S01', "it's", "'quoted", '']) expect(csvText(n)).toBe(n);
    expect(csvField('=a,b')).toBe(`"'=a,b"`);
    expect(csvField('a"b')).toBe(`"a""b"`);
  });

  it('follow the same rule in SQL, and read back as they were', async () => {
    const dir = tempDir();
    const values = ['=1', '-5', '-2+3', "'@x", "''+y", 'ok', "'plain", '\t-x'];
    const conn = await openDuckDb();
    try {
      const sql = await queryRows<{ v: string }>(conn, `SELECT ${sqlCsvText('x')} AS v FROM (VALUES ${values.map((v) => `('${v.replaceAll("'", "''")}')`).join(', ')}) t(x)`);
      expect(sql.map((r) => r.v)).toEqual(values.map(csvText));
      const file = writeCsv(dir, 'x.csv', 'sku,n', values.map((v) => `${csvField(v)},1`));
      const back = await queryRows<{ sku: string }>(conn, `SELECT sku FROM ${readPublishedCsv(file, ['sku'])}`);
      expect(back.map((r) => r.sku)).toEqual(values);

      // The fiscal totals, written by DuckDB from forecasts.csv: still neutralised, codes kept as text.
      const csv = writeCsv(dir, 'fiscal-in.csv', 'store_id,sku,forecast,fiscal_year,fiscal_period', ["'@evil,007,1.5,2024,1", "'@evil,007,2,2024,1"]);
      await fiscalAggregate(conn, csv, join(dir, 'fiscal.csv'));
      expect(parseCsv(readFileSync(join(dir, 'fiscal.csv'), 'utf8'))).toEqual([{ store_id: "'@evil", sku: '007', fiscal_year: '2024', fiscal_period: '1', periods: '2', forecast: '3.5' }]);
    } finally {
      conn.closeSync();
    }
  });
});
