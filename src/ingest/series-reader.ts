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
  /**
   * Workers the batches go to. Given, batches shrink near the end of the stream (to a share of
   * the series left, guided self-scheduling) so the last ones finish together instead of one
   * worker fitting a full batch while the others wait.
   */
  readonly workers?: number;
}

/** Series in the batch that starts with `remaining` series left to read. */
export function batchLength(remaining: number, batchSize: number, workers?: number): number {
  if (!workers) return batchSize;
  const floor = Math.min(batchSize, TAIL_FLOOR);
  return Math.min(batchSize, Math.max(floor, Math.ceil(remaining / (2 * workers))));
}
/** The smallest tapered batch: below it, sending a batch costs more than the wait it saves. */
const TAIL_FLOOR = 10;

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

/** Rows of `clean` flagged `tail` (an incremental ingest's rows checked now, not in series order), by series. */
interface TailRows {
  readonly t: Int32Array;
  readonly u: Float64Array;
  readonly f: Uint8Array;
  /** Rows of series sid are at [start.get(sid), end) in the arrays. */
  readonly start: Map<number, [number, number]>;
}

const ROW_COLUMNS = `sid, t, CASE WHEN unobserved OR closed THEN 'NaN'::DOUBLE ELSE u END AS u,
    (COALESCE(promo, false)::UTINYINT * ${PROMO_FLAG} + closed::UTINYINT * ${CLOSED_FLAG})::UTINYINT AS flags`;

/** The chunks of a query of ROW_COLUMNS, each as typed arrays. */
async function* rowChunks(conn: DuckDBConnection, sql: string): AsyncGenerator<{ n: number; sids: Int32Array; ts: Int32Array; us: Float64Array; fs: Uint8Array }> {
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) return;
    const n = chunk.rowCount;
    yield {
      n,
      sids: columnItems(chunk.getColumnVector(0), Int32Array, n),
      ts: columnItems(chunk.getColumnVector(1), Int32Array, n),
      us: columnItems(chunk.getColumnVector(2), Float64Array, n),
      fs: columnItems(chunk.getColumnVector(3), Uint8Array, n),
    };
  }
}

async function tailRows(conn: DuckDBConnection): Promise<TailRows | null> {
  const sids: number[] = [];
  const ts: number[] = [];
  const us: number[] = [];
  const fs: number[] = [];
  for await (const c of rowChunks(conn, `SELECT ${ROW_COLUMNS} FROM clean WHERE tail ORDER BY sid, t`)) {
    for (let r = 0; r < c.n; r++) { sids.push(c.sids[r]); ts.push(c.ts[r]); us.push(c.us[r]); fs.push(c.fs[r]); }
  }
  if (sids.length === 0) return null;
  const start = new Map<number, [number, number]>();
  for (let i = 0; i < sids.length; i++) {
    const range = start.get(sids[i]);
    if (range) range[1] = i + 1;
    else start.set(sids[i], [i, i + 1]);
  }
  return { t: Int32Array.from(ts), u: Float64Array.from(us), f: Uint8Array.from(fs), start };
}

/**
 * Stream the `clean` table in series order and yield batches of whole series as typed
 * arrays. Memory is bounded by one batch plus DuckDB's chunk (and an incremental ingest's
 * few rows checked now), not by the data set.
 * Series ids are 0..n−1 (the quality rules keep them dense), so within a batch they are
 * consecutive, starting at `firstSid`. Periods without a row are `gapValue`; periods in
 * `unobserved_spans` (outages, missing stores…), stock-outs and closed periods are NaN: a
 * closed period is neither zero demand nor a gap.
 */
export async function* readSeriesBatches(conn: DuckDBConnection, opts: ReadOptions): AsyncGenerator<ReadBatch> {
  const spans = await unobservedSpans(conn);
  const tail = await tailRows(conn);
  const series = await queryRows<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM series`);
  const total = series[0].n;
  // The rest of `clean` was written in (sid, t) order and DuckDB keeps insertion order, so no
  // re-sort; the loop below checks the order it relies on.
  let pending: { values: Float64Array; flags: Uint8Array }[] = [];
  let pendingFirst = 0;
  let index = 0;
  // The current series' rows from the stream, before they are merged with its tail rows.
  let curSid = -1;
  let rowT = new Int32Array(1024);
  let rowU = new Float64Array(1024);
  let rowF = new Uint8Array(1024);
  let rows = 0;

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
  /** Series `sid` from the buffered stream rows and its tail rows. */
  const build = (sid: number): void => {
    const [a, b] = tail?.start.get(sid) ?? [0, 0];
    if (rows === 0 && a === b) throw new Error(`series ${sid} has no row: the clean table's ids are not dense`);
    const t0 = Math.min(rows > 0 ? rowT[0] : Infinity, a < b ? (tail as TailRows).t[a] : Infinity);
    const values = new Float64Array(opts.lastT - t0 + 1).fill(opts.gapValue);
    const flags = new Uint8Array(values.length);
    let prevT = t0 - 1;
    const put = (t: number, u: number, f: number): void => {
      if (t <= prevT) throw new Error(`series ${sid}: period ${t} repeats or goes back (after ${prevT}); the duplicate check missed a row`);
      prevT = t;
      values[t - t0] = u;
      flags[t - t0] = f;
    };
    let i = 0;
    let j = a;
    while (i < rows || j < b) {
      if (j >= b || (i < rows && rowT[i] <= (tail as TailRows).t[j])) { put(rowT[i], rowU[i], rowF[i]); i++; }
      else { const x = tail as TailRows; put(x.t[j], x.u[j], x.f[j]); j++; }
    }
    for (const [s0, s1] of spans.get(sid) ?? []) values.fill(NaN, Math.max(0, s0 - t0), Math.max(0, s1 - t0 + 1));
    if (pending.length === 0) pendingFirst = sid;
    pending.push({ values, flags });
    rows = 0;
  };
  /** Build every series up to `sid` (exclusive) that is not built yet: the current one, and any that only the tail has. */
  async function* upTo(sid: number): AsyncGenerator<ReadBatch> {
    for (let s = curSid; s < sid; s++) {
      if (s < 0) continue;
      if (pending.length >= batchLength(total - pendingFirst, opts.batchSize, opts.workers)) yield flush();
      build(s);
    }
  }

  for await (const { n, sids, ts, us, fs } of rowChunks(conn, `SELECT ${ROW_COLUMNS} FROM clean WHERE NOT tail`)) {
    for (let r = 0; r < n; r++) {
      const sid = sids[r];
      if (sid !== curSid) {
        // Batches and publish place series by id, so a series out of place would shift every
        // later one onto another's store and SKU: fail loudly instead.
        if (sid < curSid) throw new Error(`series ${sid} after ${curSid}: the clean table is out of order`);
        yield* upTo(sid);
        curSid = sid;
      }
      if (rows === rowT.length) {
        rowT = grow(rowT, Int32Array);
        rowU = grow(rowU, Float64Array);
        rowF = grow(rowF, Uint8Array);
      }
      rowT[rows] = ts[r];
      rowU[rows] = us[r];
      rowF[rows] = fs[r];
      rows++;
    }
  }
  yield* upTo(total);
  if (pending.length > 0) yield flush();
}

function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, Ctor: TypedArrayOf<T>): T {
  const b = new Ctor(a.length * 2);
  b.set(a);
  return b;
}
