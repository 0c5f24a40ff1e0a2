import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { z } from 'zod';
import { queryRows, sqlString } from '../db/duckdb.js';
import { IsoDate } from '../iso-date.js';
import { STATE_FILE, withState } from '../registry/state.js';

/** The state database held open elsewhere too long (for the server, which reads state only through publish/). */
export { StateBusy } from '../registry/state.js';
import { UserError } from '../errors.js';

/**
 * Planner overrides and their audit trail, kept in the state database (OUT/state.duckdb):
 * `overrides` holds what was asked (store, SKU, date range, a value or a % change, the reason,
 * who and when), `override_log` every action on one (created, applied by a run, expired,
 * removed) with who did it and when. Nothing is ever deleted: expiring or removing one stops it
 * applying and is itself logged. The next `run` (or `shelfcast overrides apply`) publishes a
 * run whose forecasts carry `forecast_final` (the statistical forecast with the active
 * overrides applied) and `override` (the id of the override that set the row, empty when none).
 *
 * Who is the name of the API token (or `cli:<user>` from the command line).
 */

const SCHEMA = `
CREATE SEQUENCE IF NOT EXISTS override_ids START 1;
CREATE TABLE IF NOT EXISTS overrides (
  id INTEGER PRIMARY KEY, store_id VARCHAR NOT NULL, sku VARCHAR NOT NULL, from_date DATE NOT NULL, to_date DATE NOT NULL,
  mode VARCHAR NOT NULL, amount DOUBLE NOT NULL, reason VARCHAR NOT NULL, created_by VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
  expires_on DATE, status VARCHAR NOT NULL, ended_at TIMESTAMP, ended_by VARCHAR);
CREATE TABLE IF NOT EXISTS override_log (override_id INTEGER, action VARCHAR, acted_at TIMESTAMP, acted_by VARCHAR, run_id VARCHAR, detail VARCHAR);
`;

export const OVERRIDE_MODES = ['value', 'pct'] as const;
export type OverrideMode = (typeof OVERRIDE_MODES)[number];

const code = () => z.string().min(1, 'empty').max(200, 'longer than 200 characters').regex(/^[^\u0000-\u001f\u007f]+$/, 'contains control characters');

/** What a planner asks for: the body of `POST /overrides`, and `shelfcast overrides add`. */
export const OverrideRequest = z
  .strictObject({
    store: code().describe('store id, as in the input data'),
    sku: code().describe('SKU, as in the input data'),
    from: IsoDate.describe('first target date, inclusive'),
    to: IsoDate.describe('last target date, inclusive'),
    mode: z.enum(OVERRIDE_MODES).describe('`value`: every period in the range is set to `amount` units; `pct`: the statistical forecast changed by `amount` %'),
    amount: z.number().finite().describe('units per period (value, ≥ 0) or a % change (pct, ≥ -100)'),
    reason: z.string().trim().min(3, 'say why, in a few words').max(500, 'longer than 500 characters').describe('why: what the planner knows that the model does not'),
    expires: IsoDate.optional().describe('date after which the override no longer applies (default: never, until expired or removed)'),
  })
  .refine((o) => o.from <= o.to, { message: 'from is after to', path: ['from'] })
  .refine((o) => (o.mode === 'value' ? o.amount >= 0 : o.amount >= -100), { message: 'a value is ≥ 0 units; a % change is ≥ -100', path: ['amount'] })
  .refine((o) => o.expires === undefined || o.expires >= o.from, { message: 'expires is before from', path: ['expires'] });
export type OverrideRequest = z.infer<typeof OverrideRequest>;

export type OverrideStatus = 'active' | 'expired' | 'removed';

export interface Override {
  readonly id: number;
  readonly store_id: string;
  readonly sku: string;
  readonly from: string;
  readonly to: string;
  readonly mode: OverrideMode;
  readonly amount: number;
  readonly reason: string;
  readonly created_by: string;
  readonly created_at: string;
  readonly expires: string | null;
  readonly status: OverrideStatus;
  readonly ended_at: string | null;
  readonly ended_by: string | null;
}

export interface OverrideAction {
  readonly override_id: number;
  readonly action: 'created' | 'applied' | 'expired' | 'removed';
  readonly at: string;
  readonly by: string;
  readonly run_id: string | null;
  readonly detail: string | null;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v));

async function ensure(db: DuckDBConnection): Promise<void> {
  await db.run(SCHEMA);
}

const SELECT = `SELECT id, store_id, sku, strftime(from_date, '%Y-%m-%d') AS "from", strftime(to_date, '%Y-%m-%d') AS "to", mode, amount, reason,
  created_by, created_at, strftime(expires_on, '%Y-%m-%d') AS expires, status, ended_at, ended_by FROM overrides`;

function toOverride(r: Record<string, unknown>): Override {
  return {
    id: Number(r.id), store_id: String(r.store_id), sku: String(r.sku), from: String(r.from), to: String(r.to), mode: r.mode as OverrideMode,
    amount: Number(r.amount), reason: String(r.reason), created_by: String(r.created_by), created_at: iso(r.created_at) as string,
    expires: (r.expires as string | null) ?? null, status: r.status as OverrideStatus, ended_at: iso(r.ended_at), ended_by: (r.ended_by as string | null) ?? null,
  };
}

export interface OverrideFilter {
  readonly store?: string;
  readonly sku?: string;
  readonly status?: OverrideStatus;
}

async function select(db: DuckDBConnection, f: OverrideFilter): Promise<Override[]> {
  const where: string[] = [];
  if (f.store !== undefined) where.push(`store_id = ${sqlString(f.store)}`);
  if (f.sku !== undefined) where.push(`sku = ${sqlString(f.sku)}`);
  if (f.status !== undefined) where.push(`status = ${sqlString(f.status)}`);
  const rows = await queryRows<Record<string, unknown>>(db, `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC`);
  return rows.map(toOverride);
}

async function log(db: DuckDBConnection, id: number, action: OverrideAction['action'], at: string, by: string, runId: string | null, detail: string | null): Promise<void> {
  await db.run(`INSERT INTO override_log VALUES (${id}, ${sqlString(action)}, ${sqlString(at)}::TIMESTAMP, ${sqlString(by)}, ${runId === null ? 'NULL' : sqlString(runId)}, ${detail === null ? 'NULL' : sqlString(detail)})`);
}

/**
 * Overrides live beside the runs' registry: with no state database (no run published yet, or
 * it was lost) there is nothing to override, and readers must not create an empty one, which
 * would hide a lost registry from the next run (registry/lost-state.ts).
 */
const hasState = (out: string): boolean => existsSync(join(out, STATE_FILE));

function requireState(out: string): void {
  if (!hasState(out)) throw new UserError(`${join(out, STATE_FILE)} does not exist: publish a run before recording overrides`);
}

/** Record a new override (and its `created` action); returns it. */
export async function addOverride(out: string, req: OverrideRequest, by: string, now = new Date()): Promise<Override> {
  const at = now.toISOString();
  requireState(out);
  return withState(out, async (db) => {
    await ensure(db);
    const [{ id }] = await queryRows<{ id: number }>(db, `SELECT nextval('override_ids')::INTEGER AS id`);
    await db.run('BEGIN TRANSACTION');
    try {
      await db.run(`INSERT INTO overrides VALUES (${id}, ${sqlString(req.store)}, ${sqlString(req.sku)}, DATE ${sqlString(req.from)}, DATE ${sqlString(req.to)},
        ${sqlString(req.mode)}, ${req.amount}, ${sqlString(req.reason)}, ${sqlString(by)}, ${sqlString(at)}::TIMESTAMP,
        ${req.expires ? `DATE ${sqlString(req.expires)}` : 'NULL'}, 'active', NULL, NULL)`);
      await log(db, id, 'created', at, by, null, describe(req));
      await db.run('COMMIT');
    } catch (e) {
      await db.run('ROLLBACK');
      throw e;
    }
    return (await select(db, {})).find((o) => o.id === id) as Override;
  });
}

/** One line saying what an override does: "S01/MILK-1L 2026-01-05..2026-01-11 set to 120" or "+15%". */
export function describe(o: Pick<OverrideRequest, 'store' | 'sku' | 'from' | 'to' | 'mode' | 'amount'>): string {
  const what = o.mode === 'value' ? `set to ${o.amount}` : `${o.amount >= 0 ? '+' : ''}${o.amount}%`;
  return `${o.store}/${o.sku} ${o.from}..${o.to} ${what}`;
}

/** Every override, newest first, with an optional filter. No state database yet: none. */
export async function listOverrides(out: string, f: OverrideFilter = {}): Promise<Override[]> {
  if (!hasState(out)) return [];
  return withState(out, async (db) => {
    await ensure(db);
    return select(db, f);
  });
}

/** The audit trail: every action on overrides (or on one), newest first. */
export async function overrideLog(out: string, id?: number): Promise<OverrideAction[]> {
  if (!hasState(out)) return [];
  return withState(out, async (db) => {
    await ensure(db);
    const rows = await queryRows<Record<string, unknown>>(db, `SELECT override_id, action, acted_at, acted_by, run_id, detail FROM override_log ${id === undefined ? '' : `WHERE override_id = ${id}`} ORDER BY acted_at DESC, override_id DESC`);
    return rows.map((r) => ({ override_id: Number(r.override_id), action: r.action as OverrideAction['action'], at: iso(r.acted_at) as string, by: String(r.acted_by), run_id: (r.run_id as string | null) ?? null, detail: (r.detail as string | null) ?? null }));
  });
}

/**
 * End an active override: `expired` (it has run its course) or `removed` (it should not have
 * been made). It stops applying from the next published run; forecasts already published with
 * it keep it, and its audit trail stays. Null when there is no such override; the override as
 * it was when it is no longer active.
 */
export async function endOverride(out: string, id: number, how: 'expired' | 'removed', by: string, now = new Date()): Promise<{ override: Override; changed: boolean } | null> {
  const at = now.toISOString();
  if (!hasState(out)) return null;
  return withState(out, async (db) => {
    await ensure(db);
    const found = (await select(db, {})).find((o) => o.id === id);
    if (!found) return null;
    if (found.status !== 'active') return { override: found, changed: false };
    await db.run('BEGIN TRANSACTION');
    try {
      await db.run(`UPDATE overrides SET status = ${sqlString(how)}, ended_at = ${sqlString(at)}::TIMESTAMP, ended_by = ${sqlString(by)} WHERE id = ${id}`);
      await log(db, id, how, at, by, null, null);
      await db.run('COMMIT');
    } catch (e) {
      await db.run('ROLLBACK');
      throw e;
    }
    return { override: (await select(db, {})).find((o) => o.id === id) as Override, changed: true };
  });
}

/** Active overrides a run with data up to `today` applies (those whose `expires` has not passed), oldest first. */
export async function activeOverrides(db: DuckDBConnection, today: string): Promise<Override[]> {
  await ensure(db);
  const all = await select(db, { status: 'active' });
  return all.filter((o) => o.expires === null || o.expires >= today).reverse();
}

/** Log that `runId` published forecasts with these overrides (inside the run's registering transaction). */
export async function logApplied(db: DuckDBConnection, runId: string, applied: ReadonlyMap<number, number>, at: string, by: string): Promise<void> {
  await ensure(db);
  for (const [id, rows] of applied) await log(db, id, 'applied', at, by, runId, `${rows} forecast rows`);
}

/** Overrides by series, for applying them while forecasts are written. */
export class OverrideBook {
  private readonly bySeries = new Map<string, Override[]>();
  /** Override id → forecast rows it set. */
  readonly applied = new Map<number, number>();

  constructor(readonly overrides: readonly Override[]) {
    for (const o of overrides) {
      const k = `${o.store_id}\u0001${o.sku}`;
      const list = this.bySeries.get(k);
      if (list) list.push(o);
      else this.bySeries.set(k, [o]);
    }
  }

  get size(): number {
    return this.overrides.length;
  }

  /** What identifies this set of overrides in a run id: ids and contents. */
  fingerprint(): string {
    return JSON.stringify(this.overrides.map((o) => [o.id, o.store_id, o.sku, o.from, o.to, o.mode, o.amount]));
  }

  /**
   * The final forecast of one series: the statistical `point` where no override covers a date,
   * else the newest override's value or % change (never below 0). `ids[s]`: the override that
   * set step s, or 0.
   */
  apply(store: string, sku: string, dates: readonly string[], point: ArrayLike<number>): { final: Float64Array; ids: Int32Array } {
    const final = Float64Array.from(point as ArrayLike<number>);
    const ids = new Int32Array(dates.length);
    const list = this.bySeries.get(`${store}\u0001${sku}`);
    if (!list) return { final, ids };
    for (const o of list) {
      for (let s = 0; s < dates.length; s++) {
        if (dates[s] < o.from || dates[s] > o.to) continue;
        final[s] = Math.max(0, o.mode === 'value' ? o.amount : point[s] * (1 + o.amount / 100));
        ids[s] = o.id;
      }
    }
    for (const id of ids) if (id) this.applied.set(id, (this.applied.get(id) ?? 0) + 1);
    return { final, ids };
  }
}
