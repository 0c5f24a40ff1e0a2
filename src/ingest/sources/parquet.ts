import { sqlString } from '../../db/duckdb.js';
import type { SourceKind } from './index.js';

/** A Parquet file: typed columns, and a row number of its own (cheap, parallel). */
export const parquetSource: SourceKind = {
  kind: 'parquet',
  extensions: ['.parquet', '.pq'],
  async select(_conn, _input, path) {
    return { sql: `SELECT file_row_number + 1 AS src_row, * EXCLUDE (file_row_number) FROM read_parquet(${sqlString(path)}, file_row_number = true)`, reads: path };
  },
};
