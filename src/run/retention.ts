import { existsSync, mkdirSync, renameSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { RetentionConfig } from '../config/schema.js';
import { queryRows } from '../db/duckdb.js';
import { latestRunId, runDir, stagingRoot } from '../publish/atomic.js';
import { withState } from '../registry/state.js';
import { errorMessage } from '../errors.js';

export interface Pruned {
  /** Run folders removed, oldest first. */
  readonly removed: readonly string[];
  /** Runs kept although outside `keep`/`keepRetrains`, and why. */
  readonly protected: Readonly<Record<string, 'latest' | 'pinned' | 'live'>>;
}

/**
 * The registered runs whose folders `retention` lets go: every registered run, newest first,
 * minus the newest `keep`, the newest `keepRetrains` retrains, the run `latest` shows, runs
 * that a pinned version was selected in, and runs that any live version was selected in
 * (explain and rollback read them). Folders the registry does not know are never touched.
 */
export async function runsToPrune(db: DuckDBConnection, retention: RetentionConfig, latest: string | null): Promise<{ prune: string[]; protected: Record<string, 'latest' | 'pinned' | 'live'> }> {
  const runs = await queryRows<{ run_id: string; kind: string }>(db, `
    SELECT run_id, arg_max(kind, finished_at) AS kind FROM runs GROUP BY run_id ORDER BY max(finished_at) DESC, run_id DESC`);
  const pinned = new Set((await queryRows<{ run_id: string }>(db, `SELECT DISTINCT v.run_id FROM pins p JOIN model_versions v USING (store_id, sku, version)`)).map((r) => r.run_id));
  const live = new Set((await queryRows<{ run_id: string }>(db, `
    SELECT DISTINCT v.run_id FROM model_versions v JOIN (
      SELECT n.store_id, n.sku, COALESCE(p.version, n.version) AS version
      FROM (SELECT store_id, sku, max(version) AS version FROM model_versions GROUP BY ALL) n LEFT JOIN pins p USING (store_id, sku)
    ) l USING (store_id, sku, version)`)).map((r) => r.run_id));
  const kept = new Set(runs.slice(0, retention.keep).map((r) => r.run_id));
  for (const r of runs.filter((x) => x.kind === 'retrain').slice(0, retention.keepRetrains)) kept.add(r.run_id);
  const prune: string[] = [];
  const guarded: Record<string, 'latest' | 'pinned' | 'live'> = {};
  for (const r of runs) {
    if (kept.has(r.run_id)) continue;
    const why = r.run_id === latest ? 'latest' : pinned.has(r.run_id) ? 'pinned' : live.has(r.run_id) ? 'live' : null;
    if (why) guarded[r.run_id] = why;
    else prune.push(r.run_id);
  }
  return { prune: prune.reverse(), protected: guarded };
}

/**
 * After a publish, under the lock: remove the run folders `retention` lets go. Each is first
 * renamed into the staging folder (one atomic step: a reader, or the API, sees the run whole
 * or not at all), then deleted; a command killed in between leaves only staging, which the
 * next command clears. The registry keeps the runs' rows.
 */
export async function pruneRuns(out: string, retention: RetentionConfig): Promise<Pruned> {
  const { prune, protected: guarded } = await withState(out, (db) => runsToPrune(db, retention, latestRunId(out)));
  const removed: string[] = [];
  for (const runId of prune) {
    const dir = runDir(out, runId);
    if (!existsSync(dir)) continue;
    mkdirSync(stagingRoot(out), { recursive: true });
    const doomed = join(stagingRoot(out), `pruned-${runId}-${process.pid}`);
    renameSync(dir, doomed);
    rmSync(doomed, { recursive: true, force: true });
    removed.push(runId);
  }
  if (removed.length > 0) {
    try {
      rmdirSync(stagingRoot(out));
    } catch {
      // Not empty, or gone: either is fine.
    }
  }
  return { removed, protected: guarded };
}

/**
 * pruneRuns for a run that has just published: it says what it removed, and a failure (a
 * folder that cannot be removed) is a warning, since the run itself is published.
 */
export async function pruneAfterPublish(out: string, retention: RetentionConfig, info: (message: string) => void): Promise<void> {
  try {
    const { removed } = await pruneRuns(out, retention);
    if (removed.length > 0) info(`retention: removed ${removed.length} old run folder(s) (keep ${retention.keep}, keepRetrains ${retention.keepRetrains}): ${removed.join(', ')}`);
  } catch (e) {
    info(`warning: retention: could not prune old runs: ${errorMessage(e).split('\n')[0]}`);
  }
}
