#!/usr/bin/env node
// A prototype of a faster ingest plan, to size recommendation I1 in bench/RESULTS-perf.md. It
// builds the same `clean` table as src/ingest/quality.ts (default quality settings: negative
// units → 0, duplicates rejected, gaps zero; row-local rules) for a Parquet input, but:
//   - src_row from read_parquet's file_row_number (parallel) instead of row_number() OVER ()
//     (a streaming window, which makes the whole checking pipeline single-threaded);
//   - series ids from a small keys table (DISTINCT store_id, sku: 30k groups) joined back,
//     instead of dense_rank() OVER (ORDER BY store_id, sku) over every row (single-threaded sort);
//   - one aggregation on integer keys (sid, t) that yields the clean row *and* the duplicate
//     count, instead of a window over (store_id, sku, d) turned into a 59M-group string hash
//     aggregate + a hash join of every row back (graded), and a second string GROUP BY (clean);
//   - no materialised `checked`/`graded` copies of every row: rejected rows go to a small table.
// With --compare it also runs the engine's ingest in the same database and checks that both
// clean tables hold the same rows (sid, t, u, unobserved, promo, price, src_row).
//
//   node bench/perf/ingest-alt.mjs --input bench/data/m5-s2000.parquet --threads 2 [--compare] [--memory-limit 10GB] [--json out.json]
import { writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const flag = (k) => argv.includes(k);
const dist = resolve(opt('--dist', resolve(root, 'dist')));
const input = resolve(opt('--input', resolve(root, 'bench/data/m5.parquet')));
const options = {};
if (opt('--threads')) options.threads = String(opt('--threads'));
if (opt('--memory-limit')) options.memory_limit = opt('--memory-limit');
const asOf = new Date().toISOString().slice(0, 10);

const db = await DuckDBInstance.create(':memory:', options);
const conn = await db.connect();
const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
const steps = [];
const step = async (name, sql) => {
  const t = performance.now();
  await conn.run(sql);
  steps.push({ step: name, seconds: +((performance.now() - t) / 1000).toFixed(2) });
};
const path = `'${input.replaceAll("'", "''")}'`;

const t0 = performance.now();
// Row-local rules, as in quality.ts (typed Parquet columns; flags 0/1).
await step('view', `
  CREATE OR REPLACE TEMP VIEW typed AS
  SELECT file_row_number + 1 AS src_row,
    NULLIF(trim(CAST(store_id AS VARCHAR)), '') AS store_id, NULLIF(trim(CAST(sku AS VARCHAR)), '') AS sku,
    TRY_CAST(date AS DATE) AS d, TRY_CAST(units AS DOUBLE) AS u,
    COALESCE(TRY_CAST(stockout AS BOOLEAN), false) AS stockout, TRY_CAST(promo AS BOOLEAN) AS promo, TRY_CAST(price AS DOUBLE) AS price,
    CASE
      WHEN NULLIF(trim(CAST(store_id AS VARCHAR)), '') IS NULL THEN 'missing_key:store_id'
      WHEN NULLIF(trim(CAST(sku AS VARCHAR)), '') IS NULL THEN 'missing_key:sku'
      WHEN TRY_CAST(date AS DATE) IS NULL THEN 'bad_date:date'
      WHEN TRY_CAST(units AS DOUBLE) IS NULL OR isnan(TRY_CAST(units AS DOUBLE)) OR isinf(TRY_CAST(units AS DOUBLE)) THEN 'bad_units:units'
      WHEN stockout IS NOT NULL AND TRY_CAST(stockout AS BOOLEAN) IS NULL THEN 'bad_flag:stockout'
      WHEN promo IS NOT NULL AND TRY_CAST(promo AS BOOLEAN) IS NULL THEN 'bad_flag:promo'
      WHEN TRY_CAST(date AS DATE) > DATE '${asOf}' THEN 'future_date:date'
    END AS rule
  FROM read_parquet(${path}, file_row_number = true)`);
await step('rejected (row rules)', `CREATE OR REPLACE TEMP TABLE rejected AS SELECT src_row, rule, NULL::BIGINT AS duplicate_of FROM typed WHERE rule IS NOT NULL`);
await step('keys', `
  CREATE OR REPLACE TEMP TABLE keys AS
  SELECT store_id, sku, (row_number() OVER (ORDER BY store_id, sku) - 1)::INTEGER AS sid
  FROM (SELECT DISTINCT store_id, sku FROM typed WHERE rule IS NULL)`);
const [{ first }] = await q(`SELECT strftime(min(d), '%Y-%m-%d') AS first FROM typed WHERE rule IS NULL`);
steps.push({ step: 'first date', seconds: +((performance.now() - t0) / 1000 - steps.reduce((a, s) => a + s.seconds, 0)).toFixed(2) });
// One aggregation: the first row's values (duplicates: reject) and the count of rows per (sid, t).
await step('clean (aggregate on sid, t + sort)', `
  CREATE OR REPLACE TEMP TABLE clean_alt AS
  SELECT k.sid, date_diff('day', DATE '${first}', r.d)::INTEGER AS t,
    greatest(arg_min(r.u, r.src_row), 0) AS u, arg_min(r.stockout, r.src_row) AS unobserved,
    arg_min(r.promo, r.src_row) AS promo, arg_min(r.price, r.src_row) AS price,
    min(r.src_row) AS src_row, count(*)::INTEGER AS n
  FROM typed r JOIN keys k USING (store_id, sku)
  WHERE r.rule IS NULL
  GROUP BY ALL
  ORDER BY sid, t`);
const [{ dups }] = await q(`SELECT count(*)::INTEGER AS dups FROM clean_alt WHERE n > 1`);
if (dups > 0) await step('duplicates → rejected', `
  INSERT INTO rejected
  SELECT r.src_row, 'duplicate:date', c.src_row FROM clean_alt c
  JOIN keys k USING (sid) JOIN typed r ON r.store_id = k.store_id AND r.sku = k.sku AND date_diff('day', DATE '${first}', r.d) = c.t
  WHERE c.n > 1 AND r.src_row <> c.src_row AND r.rule IS NULL`);
const [stats] = await q(`SELECT count(DISTINCT sid)::INTEGER AS series, max(t)::INTEGER AS last_t, count(*)::BIGINT::DOUBLE AS rows FROM clean_alt`);
const seconds = +((performance.now() - t0) / 1000).toFixed(2);
const [mem] = await q(`SELECT sum(memory_usage_bytes)::DOUBLE AS b FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'`);
const result = { kind: 'ingest-alt', input, threads: options.threads ?? 'default', memory_limit: options.memory_limit ?? 'default', seconds, steps, ...stats, rejected: Number((await q('SELECT count(*)::INTEGER AS n FROM rejected'))[0].n), duckdb_table_mb: Math.round((mem?.b ?? 0) / 2 ** 20), rss_mb: Math.round(process.memoryUsage().rss / 2 ** 20) };

// Faster reads of clean_alt: typed arrays, no ORDER BY (the table is in sid, t order).
{
  const t = performance.now();
  const res = await conn.stream(`SELECT sid, t, CASE WHEN unobserved THEN 'NaN'::DOUBLE ELSE u END AS u FROM clean_alt`);
  let n = 0;
  for (;;) {
    const chunk = await res.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const u = chunk.getColumnVector(2).items;
    for (let r = 0; r < chunk.rowCount; r++) if (u[r] > 1e300) n--;
    n += chunk.rowCount;
  }
  result.read_typed_unsorted_seconds = +((performance.now() - t) / 1000).toFixed(2);
}

if (flag('--compare')) {
  const { registerSource } = await import(pathToFileURL(resolve(dist, 'src/ingest/source.js')).href);
  const { applyQualityRules } = await import(pathToFileURL(resolve(dist, 'src/ingest/quality.js')).href);
  const { loadConfig } = await import(pathToFileURL(resolve(dist, 'src/config/load.js')).href);
  const cfg = loadConfig(undefined, { 'input.path': input, freq: 'day' });
  const t = performance.now();
  const source = await registerSource(conn, { ...cfg.input, path: input });
  await applyQualityRules(conn, source, cfg.quality, 'day', asOf);
  result.engine_seconds = +((performance.now() - t) / 1000).toFixed(2);
  const [diff] = await q(`
    SELECT count(*)::INTEGER AS differing FROM clean e FULL JOIN clean_alt a USING (sid, t)
    WHERE e.sid IS NULL OR a.sid IS NULL OR e.u IS DISTINCT FROM a.u OR e.unobserved IS DISTINCT FROM a.unobserved
      OR e.promo IS DISTINCT FROM a.promo OR e.price IS DISTINCT FROM a.price OR e.src_row IS DISTINCT FROM a.src_row`);
  const [rej] = await q(`SELECT count(*)::INTEGER AS n FROM graded WHERE rule IS NOT NULL`);
  result.compare = { differing_rows: diff.differing, engine_rejected: rej.n, alt_rejected: result.rejected };
}
conn.closeSync();
result.peak_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
if (opt('--json')) writeFileSync(resolve(opt('--json')), JSON.stringify(result, null, 2) + '\n');
process.stdout.write(`alt ingest ${result.rows} rows / ${result.series} series on ${result.threads} thread(s): ${seconds} s (${steps.map((s) => `${s.step} ${s.seconds}`).join(', ')}); read ${result.read_typed_unsorted_seconds} s; tables ${result.duckdb_table_mb} MB; peak RSS ${result.peak_rss_mb} MB` +
  (result.compare ? `\n  engine ingest ${result.engine_seconds} s; rows differing between engine and alt clean: ${result.compare.differing_rows}; rejected ${result.compare.engine_rejected} vs ${result.compare.alt_rejected}` : '') + '\n');
