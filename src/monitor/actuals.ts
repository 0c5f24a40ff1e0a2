import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlString } from '../db/duckdb.js';
import { withState } from '../registry/state.js';

/**
 * The registry keeps every actual once per store, SKU and date (a date sent again replaces
 * the earlier value), and each run's realised accuracy is computed over all actuals known for
 * its series, not just tonight's file. So monitoring the same file twice, or files that
 * overlap, records nothing twice. The state database and the monitor's in-memory DuckDB are two
 * instances: rows travel between them as Parquet files in a scratch folder.
 */

/**
 * Table `known_actuals` (store_id, sku, date, units) in `conn`: the new `actuals` table, plus
 * what the registry recorded earlier between `from` and `to` for the same series.
 */
export async function knownActuals(conn: DuckDBConnection, out: string, from: string, to: string): Promise<void> {
  await viaParquet(async (file) => {
    await withState(out, (db) => db.run(`COPY (SELECT store_id, sku, date, units FROM actuals WHERE date BETWEEN DATE ${sqlString(from)} AND DATE ${sqlString(to)}) TO ${sqlString(file)} (FORMAT parquet)`));
    await conn.run(`CREATE OR REPLACE TEMP TABLE known_actuals AS
      SELECT store_id, sku, date, units FROM actuals
      UNION ALL
      SELECT r.store_id, r.sku, r.date, r.units FROM read_parquet(${sqlString(file)}) r
      WHERE (r.store_id, r.sku) IN (SELECT store_id, sku FROM actuals)
        AND NOT EXISTS (SELECT 1 FROM actuals a WHERE a.store_id = r.store_id AND a.sku = r.sku AND a.date = r.date)`);
  });
}

/** Store the new `actuals` of `conn` in the registry, replacing any recorded for the same store, SKU and date. */
export async function recordActuals(conn: DuckDBConnection, db: DuckDBConnection, at: string): Promise<void> {
  await viaParquet(async (file) => {
    await conn.run(`COPY (SELECT store_id, sku, date, units FROM actuals) TO ${sqlString(file)} (FORMAT parquet)`);
    await db.run(`INSERT OR REPLACE INTO actuals SELECT store_id, sku, date, units, ${sqlString(at)}::TIMESTAMP FROM read_parquet(${sqlString(file)})`);
  });
}

async function viaParquet(fn: (file: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfcast-actuals-'));
  try {
    await fn(join(dir, 'actuals.parquet'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
