import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { sizeBytes } from '../config/schema.js';

const spillDirs: string[] = [];
process.once('exit', () => {
  for (const dir of spillDirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A DuckDB connection for one command; in-memory unless a database file is named. Sorts and
 * joins larger than memory spill to a folder of their own under the system temp folder (not
 * the current directory, and not one shared with another shelfcast process: two commands
 * spilling to the same files corrupt each other), removed when the process exits.
 */
export async function openDuckDb(path = ':memory:', options: Record<string, string> = {}): Promise<DuckDBConnection> {
  const spill = mkdtempSync(join(tmpdir(), 'shelfcast-duckdb-'));
  spillDirs.push(spill);
  const instance = await createInstance(path, { temp_directory: spill, ...options });
  return instance.connect();
}

/**
 * A DuckDB instance whose results do not depend on the machine: DuckDB takes its time zone
 * from the process (`TZ`), and casting a TIMESTAMPTZ to DATE uses it, so the same Parquet
 * file gave other dates on another server. Every instance runs in UTC; the data's own zone is
 * applied explicitly where a timestamp becomes a date (ingest/parse.ts).
 */
export async function createInstance(path: string, options: Record<string, string> = {}): Promise<DuckDBInstance> {
  const instance = await DuckDBInstance.create(path, options);
  const conn = await instance.connect();
  try {
    // The time-zone setting needs the built-in ICU extension, which is loaded on first use,
    // so it cannot go in the creation options.
    await conn.run(`SET GLOBAL TimeZone = 'UTC'`);
  } finally {
    conn.closeSync();
  }
  return instance;
}

/** DuckDB's buffer pool while it only streams a table to busy workers. */
const STREAMING_BYTES = 256e6;

/**
 * Run `f` with DuckDB set for streaming a table to the workers while they fit: one thread
 * (batches are read one after another, so more threads only take cores from the workers:
 * 2 vs 1 worker threads 1.71× with them, 1.79× without) and a small buffer pool (a table that
 * spilled is read back block by block, and DuckDB keeps those blocks up to its limit: 2.3 GB
 * beside the workers on the M5-shaped set, for blocks read once). Then back to `memoryLimit`.
 */
export async function whileStreaming<T>(conn: DuckDBConnection, memoryLimit: string, f: () => Promise<T>): Promise<T> {
  const limit = Math.min(sizeBytes(memoryLimit), STREAMING_BYTES);
  await conn.run('SET threads = 1');
  await conn.run(`SET memory_limit = '${Math.floor(limit / 1e6)}MB'`);
  // Not restored when `f` fails: the command is failing, and a second error would hide the first.
  const result = await f();
  await conn.run('RESET threads');
  await conn.run(`SET memory_limit = ${sqlString(memoryLimit)}`);
  return result;
}

/**
 * SQL for the sum of `expr` as an exact decimal, each value rounded to `scale` decimals first:
 * the same bits whatever order DuckDB's threads add their partial sums in, which a
 * floating-point sum is not (and an ordered aggregate costs a sort per group).
 */
export function exactSum(expr: string, scale = 10): string {
  return `sum((${expr})::DECIMAL(38, ${scale}))`;
}

/** Quote a SQL string literal. */
export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** Quote a SQL identifier. */
export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

/** Run a query and return its rows as plain JS objects (for small results only). */
export async function queryRows<T = Record<string, unknown>>(conn: DuckDBConnection, sql: string): Promise<T[]> {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJS() as T[];
}

/** The first row of a query (for aggregates). */
export async function queryOne<T = Record<string, unknown>>(conn: DuckDBConnection, sql: string): Promise<T> {
  const rows = await queryRows<T>(conn, sql);
  if (rows.length === 0) throw new Error(`query returned no rows: ${sql.slice(0, 80)}`);
  return rows[0];
}
