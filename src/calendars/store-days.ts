import type { DuckDBConnection } from '@duckdb/node-api';
import { queryRows } from '../db/duckdb.js';
import { OPEN, SHUT, UNKNOWN } from './closures.js';

/**
 * What the cleaned history says about each store's periods, for learning its closures
 * (closures.ts): OPEN where any of its series sold something, SHUT where none did or
 * the input said closed, including periods with no row at all (feeds often leave closed days
 * out), UNKNOWN before the store's first row and inside its series' outages.
 */
export interface StoreDays {
  readonly state: Uint8Array;
  /** Periods whose rows all said closed (the `open` column). */
  readonly closed: Int32Array;
}

export async function readStoreDays(conn: DuckDBConnection, endT: number): Promise<Map<string, StoreDays>> {
  const rows = await queryRows<{ store_id: string; t: number; sales: boolean; closed: boolean }>(conn, `
    SELECT s.store_id, c.t, bool_or(c.u > 0 AND NOT c.closed) AS sales, bool_and(c.closed) AS closed
    FROM clean c JOIN series s USING (sid) GROUP BY ALL ORDER BY s.store_id, c.t`);
  const spans = await queryRows<{ store_id: string; t0: number; t1: number }>(conn, `
    SELECT s.store_id, u.t0, u.t1 FROM unobserved_spans u JOIN series s USING (sid) WHERE u.reason <> 'outlier'`);
  const out = new Map<string, { state: Uint8Array; seen: Uint8Array; closed: number[] }>();
  for (const r of rows) {
    let d = out.get(r.store_id);
    if (!d) {
      d = { state: new Uint8Array(endT + 1).fill(SHUT), seen: new Uint8Array(endT + 1), closed: [] };
      d.state.fill(UNKNOWN, 0, r.t);
      out.set(r.store_id, d);
    }
    d.state[r.t] = r.sales ? OPEN : SHUT;
    d.seen[r.t] = 1;
    if (r.closed) d.closed.push(r.t);
  }
  // A period inside an outage without any row of the store says nothing about closures.
  for (const sp of spans) {
    const d = out.get(sp.store_id);
    if (!d) continue;
    for (let t = sp.t0; t <= Math.min(sp.t1, endT); t++) if (!d.seen[t]) d.state[t] = UNKNOWN;
  }
  return new Map([...out].map(([s, d]) => [s, { state: d.state, closed: Int32Array.from(d.closed) }]));
}
