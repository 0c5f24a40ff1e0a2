import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import { quantileColumn } from './format.js';

/**
 * Convert the published forecast CSV to Parquet with explicit types, so both files hold the
 * same rounded numbers and a reader of either sees the same values.
 */
export async function forecastCsvToParquet(conn: DuckDBConnection, csv: string, parquet: string, levels: readonly number[]): Promise<void> {
  const numeric = ['forecast', ...levels.map(quantileColumn)].map((c) => `'${c}': 'DOUBLE'`).join(', ');
  const columns = `{'run_id': 'VARCHAR', 'store_id': 'VARCHAR', 'sku': 'VARCHAR', 'date': 'DATE', 'step': 'INTEGER', ${numeric}, 'model': 'VARCHAR'}`;
  await conn.run(`COPY (SELECT * FROM read_csv(${sqlString(csv)}, header = true, columns = ${columns}))
    TO ${sqlString(parquet)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
}
