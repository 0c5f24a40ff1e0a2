import type { ApiToken } from './auth.js';
import type { QueryEngine } from './db.js';
import type { RequestMetrics } from './metrics.js';
import type { PageAsset } from './page-assets.js';
import type { RunStore } from '../publish/run-store.js';

/** What the route handlers share: built once at start, read-only afterwards (except counters). */
export interface ServerDeps {
  readonly store: RunStore;
  readonly db: QueryEngine;
  readonly tokens: readonly ApiToken[];
  /** Host names a tokenless server answers to besides the loopback ones (server.allowedHosts). */
  readonly allowedHosts: readonly string[];
  readonly requests: RequestMetrics;
  readonly assets: ReadonlyMap<string, PageAsset>;
  /** Where unexpected errors are reported (they reach the client only as "internal error"). */
  readonly log: (line: string) => void;
}
