import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { registerSource, type Source } from './source.js';
import { applyQualityRules, type Ingested } from './quality.js';

export type { Source } from './source.js';
export type { Ingested, QualityReport } from './quality.js';
export { writeRejects } from './rejects.js';

/** Read the configured source into DuckDB and apply the data-quality rules. */
export async function ingest(conn: DuckDBConnection, cfg: Config, inputPath: string, today: string): Promise<{ source: Source; ingested: Ingested }> {
  const source = await registerSource(conn, { ...cfg.input, path: inputPath });
  const ingested = await applyQualityRules(conn, source, cfg.input, cfg.quality, cfg.freq, today);
  return { source, ingested };
}
