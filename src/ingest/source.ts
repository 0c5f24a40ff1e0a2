import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError, errorMessage } from '../errors.js';
import type { InputConfig } from '../config/schema.js';
import { queryRows, sqlIdent, sqlString } from '../db/duckdb.js';
import { utf8Copy } from './encoding.js';

export type SourceFormat = 'csv' | 'parquet' | 'duckdb';

export type ResolvedColumns = InputConfig['columns'];
const OPTIONAL_ROLES = ['price', 'promo', 'stockout', 'open'] as const;

/** A readable sales source, registered in DuckDB as the view `src` with a 1-based `src_row`. */
export interface Source {
  readonly path: string;
  readonly format: SourceFormat;
  /** Column names present in the source. */
  readonly available: readonly string[];
  /** DuckDB type of each column (VARCHAR for every CSV column). */
  readonly types: Readonly<Record<string, string>>;
  /** Source column for each role; optional roles default to a column of the same name. */
  readonly columns: ResolvedColumns;
  /** How a row number reads to a human: CSV rows are file lines (header is line 1). */
  readonly rowLabel: 'line' | 'row';
  /** How dates are written, for the reasons in rejects.csv (input.csv.dateFormat, CSV only). */
  readonly dateFormat: string | null;
}

/** Fail early, with the path, when the input is not a readable file. */
export function assertInputFile(path: string): void {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`input ${path}: no such file`);
}

export function inferFormat(path: string): SourceFormat {
  const ext = extname(path.replace(/\.(gz|zst)$/i, '')).toLowerCase();
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  if (ext === '.duckdb' || ext === '.db' || ext === '.ddb') return 'duckdb';
  return 'csv';
}

/**
 * Register the source as view `src`. CSV is read as text so that a bad value is a rejected
 * row with a reason, never a failed read; typed formats keep their types. `src_row` follows
 * the file order (DuckDB preserves insertion order).
 */
export async function registerSource(conn: DuckDBConnection, input: InputConfig & { path: string }): Promise<Source> {
  const path = input.path;
  assertInputFile(path);
  const format = input.format ?? inferFormat(path);
  // `src_row` numbers rows 1.. in file order. Parquet and DuckDB tables carry a row number of
  // their own (cheap, parallel); CSV needs a window over the whole read.
  let select: string;
  // DuckDB reads UTF-8: a CSV file in another encoding is read from a UTF-8 copy (encoding.ts).
  const text = format === 'csv' ? await utf8Copy(path, input.csv.encoding) : path;
  if (format === 'csv') {
    const delim = input.csv.delimiter === undefined ? '' : `, delim = ${sqlString(input.csv.delimiter)}`;
    select = `SELECT row_number() OVER () AS src_row, * FROM read_csv(${sqlString(text)}, header = true, all_varchar = true, auto_detect = true${delim})`;
  } else if (format === 'parquet') {
    select = `SELECT file_row_number + 1 AS src_row, * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path)}, file_row_number = true)`;
  } else {
    try {
      await conn.run(`ATTACH ${sqlString(path)} AS srcdb (READ_ONLY)`);
    } catch (e) {
      throw new UserError(`input ${path}: cannot open as a DuckDB database: ${firstLine(e)}`);
    }
    select = `SELECT rowid + 1 AS src_row, * FROM srcdb.${sqlIdent(input.table)}`;
  }
  try {
    try {
      await conn.run(`CREATE OR REPLACE VIEW src AS ${select}`);
    } catch (e) {
      // A view in a DuckDB file has no rowid: number its rows in order instead.
      if (format !== 'duckdb') throw e;
      await conn.run(`CREATE OR REPLACE VIEW src AS SELECT row_number() OVER () AS src_row, * FROM srcdb.${sqlIdent(input.table)}`);
    }
  } catch (e) {
    throw new UserError(`input ${path}: cannot read as ${format}${format === 'duckdb' ? ` table ${input.table}` : ''}: ${firstLine(e).replaceAll(text, path)}`);
  }
  const cols = await queryRows<{ column_name: string; column_type: string }>(conn, `SELECT column_name, column_type FROM (DESCRIBE src) WHERE column_name <> 'src_row'`);
  const available = cols.map((c) => c.column_name);
  const types = Object.fromEntries(cols.map((c) => [c.column_name, c.column_type]));
  const columns: ResolvedColumns = { ...input.columns };
  for (const role of OPTIONAL_ROLES) if (columns[role] === undefined && available.includes(role)) columns[role] = role;
  const wanted = Object.entries(input.columns).filter(([, v]) => v !== undefined) as [string, string][];
  const missing = wanted.filter(([, name]) => !available.includes(name));
  if (missing.length > 0) {
    const list = missing.map(([role, name]) => (role === name ? `"${name}"` : `"${name}" (for ${role})`)).join(', ');
    throw new UserError(`input ${path}: missing required column ${list}; found ${available.map((c) => `"${c}"`).join(', ')} (map columns with input.columns in the config)`);
  }
  return { path, format, available, types, columns, rowLabel: format === 'csv' ? 'line' : 'row', dateFormat: format === 'csv' ? input.csv.dateFormat ?? null : null };
}

function firstLine(e: unknown): string {
  return errorMessage(e).split('\n')[0];
}
