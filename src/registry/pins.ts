import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { queryRows, sqlString } from '../db/duckdb.js';
import { liveVersions, seriesKey } from './state.js';

/**
 * Rollback by pinning: a pinned series is forecast with the named version until unpinned,
 * and no retrain replaces it. `previous` means the version before the one live now.
 */
export interface PinResult {
  readonly store_id: string;
  readonly sku: string;
  readonly from: number;
  readonly to: number;
  /** When the version pinned to was flagged as drifting by `monitor`, and why (the latest flag); null if never. */
  readonly drifted: { flagged_at: string; reason: string } | null;
}

export async function pinVersions(conn: DuckDBConnection, store: string, sku: string | undefined, to: number | 'previous', at: string): Promise<PinResult[]> {
  const where = `store_id = ${sqlString(store)}${sku === undefined ? '' : ` AND sku = ${sqlString(sku)}`}`;
  const series = await queryRows<{ store_id: string; sku: string }>(conn, `SELECT DISTINCT store_id, sku FROM model_versions WHERE ${where} ORDER BY sku`);
  if (series.length === 0) throw new UserError(`no model versions for store ${store}${sku === undefined ? '' : ` sku ${sku}`} (run shelfcast retrain first, or check the ids)`);
  const live = await liveVersions(conn);
  const out: PinResult[] = [];
  for (const s of series) {
    const current = live.get(seriesKey(s.store_id, s.sku))?.version ?? 0;
    const versions = (await queryRows<{ version: number }>(conn, `SELECT version FROM model_versions WHERE store_id = ${sqlString(s.store_id)} AND sku = ${sqlString(s.sku)} ORDER BY version`)).map((r) => r.version);
    const target = to === 'previous' ? versions.filter((v) => v < current).pop() : to;
    if (target === undefined) throw new UserError(`store ${s.store_id} sku ${s.sku} has no version before ${current} to roll back to`);
    if (!versions.includes(target)) throw new UserError(`store ${s.store_id} sku ${s.sku} has no version ${target}; it has ${versions.join(', ')}`);
    const flags = await queryRows<{ flagged_at: string; reason: string }>(conn, `SELECT strftime(flagged_at, '%Y-%m-%dT%H:%M:%SZ') AS flagged_at, reason FROM drift_log
      WHERE store_id = ${sqlString(s.store_id)} AND sku = ${sqlString(s.sku)} AND version = ${target} ORDER BY flagged_at DESC LIMIT 1`);
    out.push({ store_id: s.store_id, sku: s.sku, from: current, to: target, drifted: flags[0] ?? null });
  }
  for (const p of out) {
    await conn.run(`INSERT OR REPLACE INTO pins VALUES (${sqlString(p.store_id)}, ${sqlString(p.sku)}, ${p.to}, ${sqlString(at)}::TIMESTAMP)`);
  }
  return out;
}

export async function unpin(conn: DuckDBConnection, store: string, sku: string | undefined): Promise<number> {
  const where = `store_id = ${sqlString(store)}${sku === undefined ? '' : ` AND sku = ${sqlString(sku)}`}`;
  const r = await queryRows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM pins WHERE ${where}`);
  await conn.run(`DELETE FROM pins WHERE ${where}`);
  return r[0].n;
}
