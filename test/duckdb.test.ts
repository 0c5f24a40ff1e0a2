import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { openDuckDb, queryOne } from '../src/db/duckdb.js';

describe('DuckDB connections', () => {
  it('spill to a folder of their own, so two commands at once cannot corrupt each other\'s temp files', async () => {
    const a = await openDuckDb();
    const b = await openDuckDb();
    const dir = async (c: typeof a) => (await queryOne<{ d: string }>(c, `SELECT current_setting('temp_directory') AS d`)).d;
    const [da, db] = [await dir(a), await dir(b)];
    expect(da).not.toBe(db);
    expect(existsSync(da) && existsSync(db)).toBe(true);
    a.closeSync();
    b.closeSync();
  });
});
