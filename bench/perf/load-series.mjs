// Read M5-shaped series straight from a Parquet file into Float64Arrays, the way the engine
// hands them to a worker (stock-out days NaN = unobserved, series in store/sku order), without
// the quality rules: for benchmarks of the pure per-series code.
import { DuckDBInstance } from '@duckdb/node-api';

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

/**
 * Up to `limit` series of `file`, picked by a seeded hash of their key (nested across limits,
 * like generate.mjs --from), in series order. Returns [{ store, sku, y }].
 */
export async function loadSeries(file, { limit = Infinity, seed = 1, stockout = true } = {}) {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const cols = (await conn.runAndReadAll(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet(${sqlString(file)}))`)).getRowObjectsJS().map((r) => r.column_name);
  const so = stockout && cols.includes('stockout') ? 'CASE WHEN stockout = 1 THEN \'NaN\'::DOUBLE ELSE units::DOUBLE END' : 'units::DOUBLE';
  const keys = Number.isFinite(limit)
    ? `SEMI JOIN (SELECT store_id, sku FROM (SELECT DISTINCT store_id, sku FROM read_parquet(${sqlString(file)})) ORDER BY hash(${seed}, store_id, sku), store_id, sku LIMIT ${limit}) k USING (store_id, sku)`
    : '';
  const result = await conn.stream(`
    SELECT store_id, sku, ${so} AS u FROM read_parquet(${sqlString(file)}) s ${keys} ORDER BY store_id, sku, date`);
  const out = [];
  let key = null;
  let buf = [];
  const flush = () => { if (key) out.push({ store: key[0], sku: key[1], y: Float64Array.from(buf) }); buf = []; };
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const st = chunk.getColumnVector(0);
    const sk = chunk.getColumnVector(1);
    const u = chunk.getColumnVector(2);
    for (let r = 0; r < chunk.rowCount; r++) {
      const s = st.getItem(r);
      const k = sk.getItem(r);
      if (!key || key[0] !== s || key[1] !== k) { flush(); key = [s, k]; }
      buf.push(u.getItem(r));
    }
  }
  flush();
  conn.closeSync();
  return out;
}
