import type { DuckDBConnection } from '@duckdb/node-api';
import type { SeriesBatch } from '../forecast/batch.js';
import { queryRows } from '../db/duckdb.js';

/** Identity of each series by dense id (its index in these arrays). */
export interface SeriesKeys {
  readonly store: readonly string[];
  readonly sku: readonly string[];
}

export async function readSeriesKeys(conn: DuckDBConnection): Promise<SeriesKeys> {
  const rows = await queryRows<{ store_id: string; sku: string }>(conn, `SELECT store_id, sku FROM series ORDER BY sid`);
  return { store: rows.map((r) => r.store_id), sku: rows.map((r) => r.sku) };
}

export interface ReadOptions {
  /** Index of the data set's last period: every series is extended to it. */
  readonly lastT: number;
  /** Value for a period with no row: 0, or NaN for unobserved. */
  readonly gapValue: number;
  readonly batchSize: number;
  /** Also read the promo flag of each period. */
  readonly promo?: boolean;
}

export interface ReadBatch {
  readonly batch: SeriesBatch;
  readonly firstSid: number;
  /** With `promo`: 1 where the period was on promotion, aligned with batch.values. */
  readonly promo?: Uint8Array;
}

/**
 * Stream the `clean` table in series order and yield batches of whole series as typed
 * arrays. Memory is bounded by one batch plus DuckDB's chunk, not by the data set.
 * Series ids within a batch are consecutive, starting at `firstSid`.
 */
export async function* readSeriesBatches(conn: DuckDBConnection, opts: ReadOptions): AsyncGenerator<ReadBatch> {
  const result = await conn.stream(`SELECT sid, t, CASE WHEN unobserved THEN 'NaN'::DOUBLE ELSE u END AS u, COALESCE(promo, false) AS promo FROM clean ORDER BY sid, t`);
  let pending: { values: Float64Array; promo: Uint8Array | null }[] = [];
  let pendingFirst = 0;
  let index = 0;
  let curSid = -1;
  let cur: Float64Array | null = null;
  let curPromo: Uint8Array | null = null;
  let curT0 = 0;
  let prevT = -1;

  const flush = (): ReadBatch => {
    const offsets = new Int32Array(pending.length + 1);
    let total = 0;
    for (let i = 0; i < pending.length; i++) { offsets[i] = total; total += pending[i].values.length; }
    offsets[pending.length] = total;
    const values = new Float64Array(total);
    const promo = opts.promo ? new Uint8Array(total) : null;
    for (let i = 0; i < pending.length; i++) {
      values.set(pending[i].values, offsets[i]);
      if (promo) promo.set(pending[i].promo as Uint8Array, offsets[i]);
    }
    const out: ReadBatch = { batch: { index: index++, offsets, values }, firstSid: pendingFirst, ...(promo ? { promo } : {}) };
    pending = [];
    return out;
  };
  const finish = (): void => {
    if (!cur) return;
    if (pending.length === 0) pendingFirst = curSid;
    pending.push({ values: cur, promo: curPromo });
  };

  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const sids = chunk.getColumnVector(0);
    const ts = chunk.getColumnVector(1);
    const us = chunk.getColumnVector(2);
    const ps = chunk.getColumnVector(3);
    for (let r = 0; r < chunk.rowCount; r++) {
      const sid = sids.getItem(r) as number;
      const t = ts.getItem(r) as number;
      if (sid !== curSid) {
        finish();
        if (pending.length >= opts.batchSize) yield flush();
        curSid = sid;
        curT0 = t;
        prevT = t - 1;
        cur = new Float64Array(opts.lastT - t + 1).fill(opts.gapValue);
        curPromo = opts.promo ? new Uint8Array(cur.length) : null;
      }
      if (t <= prevT) throw new Error(`series ${sid}: period ${t} repeats or goes back (after ${prevT}); the duplicate check missed a row`);
      prevT = t;
      (cur as Float64Array)[t - curT0] = us.getItem(r) as number;
      if (curPromo && ps.getItem(r)) curPromo[t - curT0] = 1;
    }
  }
  finish();
  if (pending.length > 0) yield flush();
}
