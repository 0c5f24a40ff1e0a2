import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { createInstance } from '../db/duckdb.js';

/**
 * One in-memory DuckDB for the server. Each request gets its own connection (cheap), so
 * concurrent requests query the Parquet files in parallel instead of queueing on one.
 */
export class QueryEngine {
  private constructor(private readonly instance: DuckDBInstance) {}

  static async open(): Promise<QueryEngine> {
    return new QueryEngine(await createInstance(':memory:'));
  }

  async with<T>(fn: (conn: DuckDBConnection) => Promise<T>): Promise<T> {
    const conn = await this.instance.connect();
    try {
      return await fn(conn);
    } finally {
      conn.closeSync();
    }
  }

  close(): void {
    this.instance.closeSync();
  }
}
