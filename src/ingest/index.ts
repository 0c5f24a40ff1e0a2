import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { openSource, type RegisteredSource, type Source } from './source.js';
import { applyQualityRules, type Ingested } from './quality.js';

export type { RegisteredSource, Source } from './source.js';
export type { Ingested, QualityReport } from './quality.js';
export { writeRejects } from './rejects.js';

export interface Opened {
  readonly source: Source;
  readonly registered: RegisteredSource;
  readonly ingested: Ingested;
}

/**
 * The one way a command reads its sales input: open the configured source (the demo data
 * when none is), register it in DuckDB and apply the data-quality rules. Leaves the tables of
 * quality.ts (`clean`, `series`, `rejected`…) in `conn`.
 */
export async function openIngest(conn: DuckDBConnection, cfg: Config, today: string, source: Source = openSource(cfg.input)): Promise<Opened> {
  const registered = await source.register(conn);
  const ingested = await applyQualityRules(conn, registered, cfg.input, cfg.quality, cfg.freq, today);
  return { source, registered, ingested };
}
