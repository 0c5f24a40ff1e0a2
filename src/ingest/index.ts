import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { codeVersion } from '../version.js';
import { openSource, type RegisteredSource, type Source } from './source.js';
import { applyQualityRules, type CleanOrder, type Ingested } from './quality.js';
import { historyStoreDir } from './history-store.js';

export type { RegisteredSource, Source } from './source.js';
export type { Ingested, QualityReport } from './quality.js';
export { writeRejects } from './rejects.js';

export interface Opened {
  readonly source: Source;
  readonly registered: RegisteredSource;
  readonly ingested: Ingested;
}

/** How `run` and `retrain` use the output folder's stored history (incremental.ts). */
export interface StoreUse {
  readonly out: string;
  /** Check only what the feed changed; false checks it whole and stores it anew. */
  readonly incremental: boolean;
  info(message: string): void;
}

export interface IngestOptions {
  /** The sales input; the configured one (or the demo data) when absent. */
  readonly source?: Source;
  readonly store?: StoreUse;
  /** `clean` in series order (the series reader streams it), or in any (`validate`: only counted). */
  readonly order?: CleanOrder;
}

/**
 * The one way a command reads its sales input: open the configured source (the demo data
 * when none is), register it in DuckDB and apply the data-quality rules, against the output
 * folder's stored history when `store` is given (the caller holds the folder's lock). Leaves
 * the tables of quality.ts (`clean`, `series`, `rejected`…) in `conn`.
 */
export async function openIngest(conn: DuckDBConnection, cfg: Config, today: string, opts: IngestOptions = {}): Promise<Opened> {
  const { source = openSource(cfg.input), store, order = 'series' } = opts;
  const registered = await source.register(conn);
  const { path: _path, future: _future, newItems: _newItems, feed, ...input } = cfg.input;
  const { asOf: _asOf, maxRejectedShare: _share, missingStores: _stores, olderFeed: _older, ...rules } = cfg.quality;
  const history = store && {
    dir: historyStoreDir(store.out),
    incremental: store.incremental,
    feed,
    sourcePath: source.path,
    settings: { store: 1, code: codeVersion(), kind: registered.format, input, quality: rules, freq: cfg.freq },
    info: store.info,
  };
  const ingested = await applyQualityRules(conn, registered, cfg.input, cfg.quality, cfg.freq, today, history, order);
  return { source, registered, ingested };
}
