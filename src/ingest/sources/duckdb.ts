import { UserError, errorMessage } from '../../errors.js';
import { sqlIdent, sqlString } from '../../db/duckdb.js';
import type { SourceKind } from './index.js';

/** A table (or view) `input.table` of a DuckDB database file, attached read-only. */
export const duckdbSource: SourceKind = {
  kind: 'duckdb',
  extensions: ['.duckdb', '.db', '.ddb'],
  async select(conn, input, path) {
    try {
      await conn.run(`ATTACH ${sqlString(path)} AS srcdb (READ_ONLY)`);
    } catch (e) {
      throw new UserError(`input ${path}: cannot open as a DuckDB database: ${errorMessage(e).split('\n')[0]}`);
    }
    const table = `srcdb.${sqlIdent(input.table)}`;
    // A view in a DuckDB file has no rowid: number its rows in order instead.
    return { sql: `SELECT rowid + 1 AS src_row, * FROM ${table}`, reads: path, fallback: `SELECT row_number() OVER () AS src_row, * FROM ${table}` };
  },
};
