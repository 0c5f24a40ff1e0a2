import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { openDuckDb, queryOne, whileStreaming } from '../src/db/duckdb.js';
import { sizeBytes } from '../src/config/schema.js';

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

  it('stream to the workers at one thread and a small buffer pool, then get their limit back', async () => {
    const conn = await openDuckDb(':memory:', { memory_limit: '2.5GB' });
    const settings = () => queryOne<{ threads: number; mem: string }>(conn, `SELECT current_setting('threads')::INTEGER AS threads, current_setting('memory_limit') AS mem`);
    const before = await settings();
    // A table larger than the streaming pool is still read whole: it spills, it does not fail.
    await conn.run('CREATE TABLE t AS SELECT i, i * 0.5 AS x FROM range(20000000) r(i)');
    const during = await whileStreaming(conn, '2.5GB', async () => ({ ...(await settings()), sum: (await queryOne<{ s: number }>(conn, 'SELECT sum(x)::DOUBLE AS s FROM t')).s }));
    expect(during.threads).toBe(1);
    expect(during.mem).toBe('244.1 MiB');
    expect(during.sum).toBe(0.5 * (20000000 * 19999999) / 2);
    expect(await settings()).toEqual(before);
    conn.closeSync();
  });

  it('read memory sizes as the config writes them', () => {
    expect(sizeBytes('2.5GB')).toBe(2.5e9);
    expect(sizeBytes('1500 MB')).toBe(1.5e9);
    expect(sizeBytes('2GiB')).toBe(2 ** 31);
    expect(() => sizeBytes('lots')).toThrow(/not a memory size/);
  });
});
