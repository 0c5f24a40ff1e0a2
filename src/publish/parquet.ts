import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import { quantileColumn } from './format.js';
import { readPublishedCsv, sqlCsvText } from './csv-sql.js';
import { textColumns } from './artifacts.js';
import { FISCAL_COLUMNS } from './forecast-csv.js';

/**
 * Convert the published forecast CSV to Parquet with explicit types, so both files hold the
 * same rounded numbers and a reader of either sees the same values.
 */
export async function forecastCsvToParquet(conn: DuckDBConnection, csv: string, parquet: string, levels: readonly number[], fiscal = false): Promise<void> {
  const numeric = ['forecast', ...levels.map(quantileColumn)].map((c) => `'${c}': 'DOUBLE'`).join(', ');
  const fiscalCols = fiscal ? `, ${FISCAL_COLUMNS.map((c) => `'${c}': 'INTEGER'`).join(', ')}` : '';
  const columns = `{'run_id': 'VARCHAR', 'store_id': 'VARCHAR', 'sku': 'VARCHAR', 'date': 'DATE', 'step': 'INTEGER', ${numeric}, 'model': 'VARCHAR', 'model_version': 'INTEGER'${fiscalCols}, 'forecast_final': 'DOUBLE', 'override': 'INTEGER'}`;
  await conn.run(`COPY (SELECT * FROM ${readPublishedCsv(csv, textColumns('forecasts.csv'), `columns = ${columns}`)})
    TO ${sqlString(parquet)} (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)`);
}

/** Point forecasts summed by fiscal year and period (quantiles do not add up, so only the point). */
export async function fiscalAggregate(conn: DuckDBConnection, csv: string, out: string): Promise<void> {
  await conn.run(`COPY (
      SELECT ${sqlCsvText('store_id')} AS store_id, ${sqlCsvText('sku')} AS sku, fiscal_year, fiscal_period, count(*)::INTEGER AS periods, round(sum(forecast), 4) AS forecast
      FROM ${readPublishedCsv(csv, ['store_id', 'sku'], `types = {'store_id': 'VARCHAR', 'sku': 'VARCHAR'}`)}
      GROUP BY ALL ORDER BY 1, 2, fiscal_year, fiscal_period
    ) TO ${sqlString(out)} (HEADER, DELIMITER ',')`);
}
