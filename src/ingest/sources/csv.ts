import { sqlString } from '../../db/duckdb.js';
import { utf8Copy } from '../encoding.js';
import type { SourceKind } from './index.js';

/**
 * A CSV file, read as text so that a bad value is a rejected row with a reason, never a
 * failed read. DuckDB reads UTF-8: a file in another encoding is read from a UTF-8 copy
 * (encoding.ts). Rows are numbered by a window over the whole read.
 */
export const csvSource: SourceKind = {
  kind: 'csv',
  extensions: ['.csv', '.tsv', '.txt'],
  async select(_conn, input, path) {
    const text = await utf8Copy(path, input.csv.encoding);
    const delim = input.csv.delimiter === undefined ? '' : `, delim = ${sqlString(input.csv.delimiter)}`;
    return { sql: `SELECT row_number() OVER () AS src_row, * FROM read_csv(${sqlString(text)}, header = true, all_varchar = true, auto_detect = true${delim})`, reads: text };
  },
};
