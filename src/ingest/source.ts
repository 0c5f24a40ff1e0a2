import { existsSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError, errorMessage } from '../errors.js';
import type { InputConfig } from '../config/schema.js';
import { queryRows, sqlIdent, sqlString } from '../db/duckdb.js';
import { packageRoot } from '../version.js';
import { fingerprintInput, type InputFingerprint } from './fingerprint.js';
import { SOURCE_KINDS, type SourceFormat } from './sources/index.js';

export type { SourceFormat } from './sources/index.js';
export type ResolvedColumns = InputConfig['columns'];
const OPTIONAL_ROLES = ['price', 'promo', 'stockout', 'open'] as const;

/**
 * Where the sales rows come from: a file or table of one kind (sources/). Every command reads
 * its input through one: it registers the rows in DuckDB as the view `src` (numbered
 * `src_row`, in source order) for the quality rules, fingerprints the content for the run's
 * lineage, and reads one series' rows back for `explain`.
 */
export interface Source {
  readonly kind: SourceFormat;
  /** Absolute path: lineage in the registry. Published files name it with `describe()`. */
  readonly path: string;
  register(conn: DuckDBConnection): Promise<RegisteredSource>;
  fingerprint(): Promise<InputFingerprint>;
  /** The source as published files name it: no server folders. */
  describe(): string;
  /** The source rows of one series, in source order, with their row numbers (needs `register` first). */
  readRows(conn: DuckDBConnection, store: string, sku: string): Promise<Record<string, unknown>[]>;
}

/** A source as DuckDB sees it once registered: what the quality rules need to read it. */
export interface RegisteredSource {
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

/** The bundled demo data, read when no input is given. */
export function demoInput(): string {
  return join(packageRoot(), 'data', 'demo', 'sales.csv');
}

/** Fail early, with the path, when the input is not a readable file. */
export function assertInputFile(path: string): void {
  if (!existsSync(path) || !statSync(path).isFile()) throw new UserError(`input ${path}: no such file`);
}

export function inferFormat(path: string): SourceFormat {
  const p = path.toLowerCase().replace(/\.(gz|zst)$/, '');
  for (const kind of Object.values(SOURCE_KINDS)) if (kind.extensions.some((e) => p.endsWith(e))) return kind.kind;
  return 'csv';
}

/** The configured input (the demo data when none is), of the format its config or extension names. */
export function openSource(input: InputConfig): Source {
  const path = resolve(input.path ?? demoInput());
  const kind = SOURCE_KINDS[input.format ?? inferFormat(path)];
  return {
    kind: kind.kind,
    path,
    async register(conn) {
      assertInputFile(path);
      const select = await kind.select(conn, input, path);
      try {
        await conn.run(`CREATE OR REPLACE VIEW src AS ${select.sql}`);
      } catch (e) {
        const retry = select.fallback;
        if (!retry) throw new UserError(`input ${path}: cannot read as ${kind.kind}: ${firstLine(e).replaceAll(select.reads, path)}`);
        try {
          await conn.run(`CREATE OR REPLACE VIEW src AS ${retry}`);
        } catch (e2) {
          throw new UserError(`input ${path}: cannot read as ${kind.kind}${kind.kind === 'duckdb' ? ` table ${input.table}` : ''}: ${firstLine(e2)}`);
        }
      }
      return describeColumns(conn, input, path, kind.kind);
    },
    fingerprint: () => fingerprintInput(path),
    describe: () => basename(path),
    async readRows(conn, store, sku) {
      const c = (await describeColumns(conn, input, path, kind.kind));
      const line = c.rowLabel === 'line' ? '(src_row + 1)::INTEGER' : 'src_row::INTEGER';
      return queryRows(conn, `SELECT ${line} AS "${c.rowLabel}", * EXCLUDE (src_row) FROM src
        WHERE trim(CAST(${sqlIdent(c.columns.store_id)} AS VARCHAR)) = ${sqlString(store)} AND trim(CAST(${sqlIdent(c.columns.sku)} AS VARCHAR)) = ${sqlString(sku)} ORDER BY src_row`);
    },
  };
}

/** The registered view's columns, checked against the configured mapping. */
async function describeColumns(conn: DuckDBConnection, input: InputConfig, path: string, format: SourceFormat): Promise<RegisteredSource> {
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
