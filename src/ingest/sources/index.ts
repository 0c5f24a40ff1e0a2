import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputConfig } from '../../config/schema.js';
import { csvSource } from './csv.js';
import { parquetSource } from './parquet.js';
import { duckdbSource } from './duckdb.js';

/**
 * One kind of sales source: how its rows become the DuckDB view `src` with a 1-based
 * `src_row` in source order. Adding a source is a file here, an entry in SOURCE_KINDS and a
 * value of `input.format` (config/schema.ts).
 */
export interface SourceKind {
  readonly kind: SourceFormat;
  /** File name endings that mean this kind (lower case). */
  readonly extensions: readonly string[];
  /** The SELECT the view is made of; `reads` is the file DuckDB opens (a transcoded copy, say), named as the input in errors. */
  select(conn: DuckDBConnection, input: InputConfig, path: string): Promise<{ sql: string; reads: string; fallback?: string }>;
}

export type SourceFormat = NonNullable<InputConfig['format']>;

export const SOURCE_KINDS: Readonly<Record<SourceFormat, SourceKind>> = { csv: csvSource, parquet: parquetSource, duckdb: duckdbSource };
