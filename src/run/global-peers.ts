import type { DuckDBConnection } from '@duckdb/node-api';
import type { SeriesKeys } from '../ingest/series-reader.js';
import { exactSum } from '../db/duckdb.js';

/**
 * What similar series did, period by period: for each SKU sold in at least two stores, for
 * each category, and over all series, the mean of their values in units of each series' own
 * mean. A series with a few weeks of history (or none) gets its shape from them; every series
 * gets a less noisy seasonal index than its own last year. One table per run, shared by the
 * forecast workers without copies (a SharedArrayBuffer).
 */
export interface PeerProfiles {
  /** Profiles one after the other, `length` periods each (grid periods 0 … data end). */
  readonly data: Float32Array;
  readonly length: number;
  /** Per series id (new items included): its profile (-1: none). */
  readonly index: Int32Array;
}

/** Fewer series than this and a SKU (or category) has no profile of its own: it would be the series itself. */
const MIN_PEERS = 2;

/** `from`: the first period needed (a nightly run forecasts from the data end and needs only the last year or so). */
export async function peerProfiles(conn: DuckDBConnection, keys: SeriesKeys, category: (sku: string) => string, lastT: number, from = 0): Promise<PeerProfiles> {
  // Group names as integers, numbered in name order (the order of the profiles in `data`): a
  // string key built and grouped on per row cost seconds over a year of every series.
  const skuName = (sku: string): string => `sku:${sku}`;
  const catName = (sku: string): string | null => (category(sku) === '' ? null : `category:${category(sku)}`);
  const allNames = [...new Set(['all', ...keys.sku.map(skuName), ...keys.sku.map(catName).filter((n): n is string => n !== null)])].sort();
  const nameId = new Map(allNames.map((n, i) => [n, i]));
  await conn.run(`CREATE OR REPLACE TEMP TABLE peer_series (sid INTEGER, g1 INTEGER, g2 INTEGER)`);
  const app = await conn.createAppender('peer_series');
  keys.sku.forEach((sku, sid) => {
    const c = catName(sku);
    app.appendInteger(sid);
    app.appendInteger(nameId.get(skuName(sku)) as number);
    if (c === null) app.appendNull(); else app.appendInteger(nameId.get(c) as number);
    app.endRow();
  });
  app.closeSync();
  const all = nameId.get('all') as number;
  // Each SKU's sums per period first (one pass over the rows since `from`), then its category's
  // and everyone's added up from them: a category is a set of whole SKUs. The ratios are summed
  // as exact decimals, so the profiles do not depend on the order DuckDB's threads add them in.
  await conn.run(`CREATE OR REPLACE TEMP TABLE peer_stats AS
    SELECT p.sid, p.g1, p.g2, s.mu FROM peer_series p JOIN (
      SELECT sid, avg(u) AS mu, count(*) FILTER (t >= ${from}) AS recent FROM clean WHERE NOT unobserved AND NOT closed GROUP BY sid) s USING (sid)
    WHERE s.mu > 0 AND s.recent > 0`);
  const sql = `WITH
    part AS (SELECT s.g1, c.t, ${exactSum('c.u / s.mu')} AS r, count(*) AS n
      FROM clean c JOIN peer_stats s USING (sid) WHERE c.t >= ${from} AND NOT c.unobserved AND NOT c.closed GROUP BY s.g1, c.t),
    sku AS (SELECT g1, any_value(g2) AS g2, count(*) AS k FROM peer_stats GROUP BY g1),
    p AS (SELECT part.*, sku.g2, sku.k FROM part JOIN sku USING (g1)),
    cat AS (SELECT g2 FROM peer_stats WHERE g2 IS NOT NULL GROUP BY g2 HAVING count(*) >= ${MIN_PEERS})
    SELECT g, t::INTEGER AS t, (r::DOUBLE / n)::FLOAT AS p FROM (
      SELECT g1 AS g, t, r, n FROM p WHERE k >= ${MIN_PEERS}
      UNION ALL SELECT g2, t, sum(r), sum(n) FROM p WHERE g2 IN (SELECT g2 FROM cat) GROUP BY g2, t
      UNION ALL SELECT ${all}, t, sum(r), sum(n) FROM p GROUP BY t)
    ORDER BY g, t`;
  const length = lastT + 1;
  const names: string[] = [];
  const byName = new Map<string, number>();
  const chunks: { g: Int32Array; t: Int32Array; p: Float32Array }[] = [];
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const n = chunk.rowCount;
    const [gv, tv, pv] = [0, 1, 2].map((c) => chunk.getColumnVector(c));
    const part = { g: new Int32Array(n), t: new Int32Array(n), p: new Float32Array(n) };
    for (let r = 0; r < n; r++) {
      const name = allNames[Number(gv.getItem(r))];
      let g = byName.get(name);
      if (g === undefined) { g = names.length; names.push(name); byName.set(name, g); }
      part.g[r] = g;
      part.t[r] = Number(tv.getItem(r));
      part.p[r] = Number(pv.getItem(r));
    }
    chunks.push(part);
  }
  await conn.run('DROP TABLE peer_stats');
  await conn.run('DROP TABLE peer_series');
  const data = new Float32Array(new SharedArrayBuffer(names.length * length * 4)).fill(NaN);
  for (const part of chunks) for (let r = 0; r < part.g.length; r++) if (part.t[r] >= 0 && part.t[r] < length) data[part.g[r] * length + part.t[r]] = part.p[r];
  const index = Int32Array.from(keys.sku, (sku) => byName.get(`sku:${sku}`) ?? byName.get(`category:${category(sku)}`) ?? byName.get('all') ?? -1);
  return { data, length, index };
}
