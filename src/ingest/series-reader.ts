import type { DuckDBConnection, DuckDBVector } from '@duckdb/node-api';
import type { SeriesBatch } from '../forecast/wire.js';
import { queryRows } from '../db/duckdb.js';

type TypedArrayOf<T> = { new (n: number): T; readonly BYTES_PER_ELEMENT: number };

/**
 * A chunk column as a typed array: the vector's own buffer where the client library exposes it
 * (no copy, no call per value: reading 59M values drops from about 16 s to a few), else a copy
 * made through the public accessor. Columns read here are never NULL.
 */
function columnItems<T extends Int32Array | Float64Array | Uint8Array>(vector: DuckDBVector, Ctor: TypedArrayOf<T>, n: number): T {
  const items = (vector as unknown as { items?: unknown }).items;
  if (items instanceof (Ctor as unknown as typeof Int32Array) && (items as T).length === n) return items as T;
  const out = new Ctor(n);
  for (let i = 0; i < n; i++) out[i] = Number(vector.getItem(i) ?? NaN);
  return out;
}

/** Identity of each series by dense id (its index in these arrays). */
export interface SeriesKeys {
  readonly store: readonly string[];
  readonly sku: readonly string[];
}

export async function readSeriesKeys(conn: DuckDBConnection): Promise<SeriesKeys> {
  const rows = await queryRows<{ store_id: string; sku: string }>(conn, `SELECT store_id, sku FROM series ORDER BY sid`);
  return { store: rows.map((r) => r.store_id), sku: rows.map((r) => r.sku) };
}

/** Unobserved runs of periods per series id, from the quality rules. */
async function unobservedSpans(conn: DuckDBConnection): Promise<Map<number, [number, number][]>> {
  const rows = await queryRows<{ sid: number; t0: number; t1: number }>(conn, `SELECT sid, t0, t1 FROM unobserved_spans ORDER BY sid, t0`);
  const out = new Map<number, [number, number][]>();
  for (const r of rows) {
    const list = out.get(r.sid);
    if (list) list.push([r.t0, r.t1]);
    else out.set(r.sid, [[r.t0, r.t1]]);
  }
  return out;
}

export interface ReadOptions {
  /** Index of the data set's last period: every series is extended to it. */
  readonly lastT: number;
  /** Value for a period with no row: 0, or NaN for unobserved. */
  readonly gapValue: number;
  readonly batchSize: number;
}

/** Bits of `ReadBatch.flags`. */
export const PROMO_FLAG = 1;
export const CLOSED_FLAG = 2;

export interface ReadBatch {
  readonly batch: SeriesBatch;
  readonly firstSid: number;
  /**
   * Per period, aligned with batch.values: PROMO_FLAG where the input's `promo` column was set,
   * CLOSED_FLAG where its `open` column said the store was closed.
   */
  readonly flags: Uint8Array;
}

/**
 * Stream the `clean` table in series order and yield batches of whole series as typed
 * arrays. Memory is bounded by one batch plus DuckDB's chunk, not by the data set.
 * Series ids are 0..n−1 (the quality rules keep them dense), so within a batch they are
 * consecutive, starting at `firstSid`. Periods without a row are `gapValue`; periods in
 * `unobserved_spans` (outages, missing stores…), stock-outs and closed periods are NaN: a
 * closed period is neither zero demand nor a gap.
 */
export async function* readSeriesBatches(conn: DuckDBConnection, opts: ReadOptions): AsyncGenerator<ReadBatch> {
  const spans = await unobservedSpans(conn);
  // `clean` was written in (sid, t) order and DuckDB keeps insertion order, so no re-sort;
  // the loop below checks the order it relies on.
  const result = await conn.stream(`SELECT sid, t, CASE WHEN unobserved OR closed THEN 'NaN'::DOUBLE ELSE u END AS u,
    (COALESCE(promo, false)::UTINYINT * ${PROMO_FLAG} + closed::UTINYINT * ${CLOSED_FLAG})::UTINYINT AS flags FROM clean`);
  let pending: { values: Float64Array; flags: Uint8Array }[] = [];
  let pendingFirst = 0;
  let index = 0;
  let curSid = -1;
  let cur: Float64Array | null = null;
  let curFlags: Uint8Array | null = null;
  let curT0 = 0;
  let prevT = -1;

  const flush = (): ReadBatch => {
    const offsets = new Int32Array(pending.length + 1);
    let total = 0;
    for (let i = 0; i < pending.length; i++) { offsets[i] = total; total += pending[i].values.length; }
    offsets[pending.length] = total;
    const values = new Float64Array(total);
    const flags = new Uint8Array(total);
    for (let i = 0; i < pending.length; i++) {
      values.set(pending[i].values, offsets[i]);
      flags.set(pending[i].flags, offsets[i]);
    }
    const out: ReadBatch = { batch: { index: index++, offsets, values }, firstSid: pendingFirst, flags };
    pending = [];
    return out;
  };
  const finish = (): void => {
    if (!cur || !curFlags) return;
    for (const [t0, t1] of spans.get(curSid) ?? []) cur.fill(NaN, Math.max(0, t0 - curT0), Math.max(0, t1 - curT0 + 1));
    if (pending.length === 0) pendingFirst = curSid;
    pending.push({ values: cur, flags: curFlags });
  };

  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const sids = columnItems(chunk.getColumnVector(0), Int32Array, n);
    const ts = columnItems(chunk.getColumnVector(1), Int32Array, n);
    const us = columnItems(chunk.getColumnVector(2), Float64Array, n);
    const fs = columnItems(chunk.getColumnVector(3), Uint8Array, n);
    for (let r = 0; r < n; r++) {
      const sid = sids[r];
      const t = ts[r];
      if (sid !== curSid) {
        // Batches and publish place series by id, so a missing id would shift every later
        // series onto another's store and SKU: fail loudly instead.
        if (sid !== curSid + 1) throw new Error(`series ${sid} after ${curSid}: the clean table is out of order or its ids are not dense`);
        finish();
        if (pending.length >= opts.batchSize) yield flush();
        curSid = sid;
        curT0 = t;
        prevT = t - 1;
        cur = new Float64Array(opts.lastT - t + 1).fill(opts.gapValue);
        curFlags = new Uint8Array(cur.length);
      }
      if (t <= prevT) throw new Error(`series ${sid}: period ${t} repeats or goes back (after ${prevT}); the duplicate check missed a row`);
      prevT = t;
      (cur as Float64Array)[t - curT0] = us[r];
      (curFlags as Uint8Array)[t - curT0] = fs[r];
    }
  }
  finish();
  if (pending.length > 0) yield flush();
}
