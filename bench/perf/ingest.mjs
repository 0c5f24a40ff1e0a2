#!/usr/bin/env node
// Ingest and series-read timings, in process, with DuckDB's thread count under control (the CLI
// does not expose it). Runs the engine's own code from dist/: openIngest (source + quality rules)
// (what `shelfcast validate` and the first stage of `run` do), timing every SQL statement
// through a wrapped connection; then streams the `clean` table to typed arrays with the
// engine's readSeriesBatches (the read half of the forecast stage, without workers).
//
//   node bench/perf/ingest.mjs --input bench/data/m5.parquet --threads 2 [--no-read] [--json out.json]
//     [--order any: `clean` unsorted, as validate builds it] [--memory-limit 8GB] [--profile-dir DIR: each statement's SQL and DuckDB JSON profile]
//     [--store OUT [--full]: ingest against OUT/ingest/, the stored history, as a nightly run does
//      (incremental.ts; --full: check the whole feed and store it anew, as a retrain does)]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const flag = (k) => argv.includes(k);
const dist = resolve(opt('--dist', resolve(root, 'dist')));
const imp = (p) => import(pathToFileURL(resolve(dist, p)).href);

const input = resolve(opt('--input', resolve(root, 'bench/data/m5.parquet')));
const threads = opt('--threads');
const memoryLimit = opt('--memory-limit');

const { openDuckDb } = await imp('src/db/duckdb.js');
const { openIngest } = await imp('src/ingest/index.js');
const { readSeriesBatches, readSeriesKeys } = await imp('src/ingest/series-reader.js');
const { loadConfig } = await imp('src/config/load.js');

// Frequency inference (a lag() window over every row) is skipped with --freq day, as a production job would pass it.
const cfg = loadConfig(opt('--config') ? resolve(opt('--config')) : undefined, { 'input.path': input, freq: opt('--freq', 'day') });
const options = {};
if (threads) options.threads = String(threads);
// The engine's own bound (config memoryLimit, default 3GB) unless --memory-limit overrides it.
options.memory_limit = memoryLimit ?? cfg.memoryLimit;
const raw = await openDuckDb(':memory:', options);

// Every statement the engine sends, timed, labelled by its first words.
const statements = [];
const label = (sql) => sql.replace(/\s+/g, ' ').trim().replace(/^(WITH .*?\) )?/, '').slice(0, 70);
const profileDir = opt('--profile-dir') ? resolve(opt('--profile-dir')) : null;
if (profileDir) { mkdirSync(profileDir, { recursive: true }); await raw.run(`PRAGMA enable_profiling = 'json'`); }
let statementNo = 0;
const rss = () => Math.round(process.memoryUsage().rss / 2 ** 20);
const timedCall = async (fn, sql, args) => {
  if (profileDir) {
    const base = `${profileDir}/${String(++statementNo).padStart(2, '0')}`;
    writeFileSync(`${base}.sql`, sql);
    await raw.run(`PRAGMA profiling_output = '${base}.json'`);
  }
  const t0 = performance.now();
  const p = fn.apply(raw, [sql, ...args]);
  // RSS after the statement and the process's peak so far: which statement sets the ingest's peak.
  return Promise.resolve(p).then((r) => { statements.push({ sql: label(sql), seconds: +((performance.now() - t0) / 1000).toFixed(3), rss_mb: rss(), peak_mb: Math.round(process.resourceUsage().maxRSS / 1024) }); return r; });
};
const conn = new Proxy(raw, {
  get(target, prop) {
    const v = target[prop];
    if (typeof v === 'function' && ['run', 'runAndReadAll', 'stream'].includes(prop)) return (sql, ...args) => timedCall(v, sql, args);
    return typeof v === 'function' ? v.bind(target) : v;
  },
});

const result = { kind: 'ingest', input, freq: cfg.freq, threads: threads ? Number(threads) : 'default', memory_limit: options.memory_limit };
const t0 = performance.now();
const storeOut = opt('--store') ? resolve(opt('--store')) : null;
const store = storeOut ? { out: storeOut, incremental: !flag('--full'), info: (m) => process.stderr.write(`${m}\n`) } : undefined;
if (storeOut) result.store = { out: storeOut, incremental: store.incremental };
const order = opt('--order', 'series');
if (order !== 'series' && order !== 'any') throw new Error(`--order ${order}: expected series or any`);
const { ingested } = await openIngest(conn, cfg, new Date().toISOString().slice(0, 10), { store, order });
if (storeOut) result.history = ingested.report.history;
result.ingest_seconds = +((performance.now() - t0) / 1000).toFixed(2);
result.rows = ingested.report.rows_read;
result.series = ingested.series;
result.days = ingested.lastT + 1;
result.rows_per_second = Math.round(result.rows / result.ingest_seconds);
result.rss_after_ingest_mb = rss();
result.statements = statements.splice(0);
const dbSize = (await (await raw.runAndReadAll(`SELECT memory_usage_bytes::DOUBLE AS b FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'`)).getRowObjectsJS())[0];
result.duckdb_table_memory_mb = dbSize ? Math.round(dbSize.b / 2 ** 20) : null;

if (!flag('--no-read')) {
  const keysT = performance.now();
  await readSeriesKeys(conn);
  result.read_keys_seconds = +((performance.now() - keysT) / 1000).toFixed(2);
  statements.splice(0);
  const t1 = performance.now();
  let n = 0;
  let values = 0;
  for await (const { batch } of readSeriesBatches(conn, { lastT: ingested.lastT, gapValue: 0, batchSize: cfg.batchSize, promo: true })) {
    n += batch.offsets.length - 1;
    values += batch.values.length;
  }
  result.read = { reader: 'engine (typed column buffers, with promo)', seconds: +((performance.now() - t1) / 1000).toFixed(2), series: n, values, query_seconds: statements[0]?.seconds };
  result.rss_after_read_mb = rss();
}

raw.closeSync();
result.peak_rss_mb_self = Math.round(process.resourceUsage().maxRSS / 1024);
const out = opt('--json');
if (out) writeFileSync(resolve(out), JSON.stringify(result, null, 2) + '\n');
if (!flag('--quiet')) {
  const p = (s) => process.stdout.write(s + '\n');
  p(`ingest ${result.rows} rows / ${result.series} series on ${result.threads} DuckDB thread(s): ${result.ingest_seconds} s (${(result.rows_per_second / 1e6).toFixed(2)} M rows/s), RSS ${result.rss_after_ingest_mb} MB, DuckDB tables ${result.duckdb_table_memory_mb} MB`);
  for (const s of result.statements.filter((x) => x.seconds >= 0.05)) p(`  ${s.seconds.toFixed(2).padStart(6)} s  RSS ${String(s.rss_mb).padStart(5)} MB, peak ${String(s.peak_mb).padStart(5)}  ${s.sql}`);
  if (result.read) p(`read (engine reader): ${result.read.seconds} s for ${result.read.values} values (query ${result.read.query_seconds} s), keys ${result.read_keys_seconds} s, RSS ${result.rss_after_read_mb} MB`);
  p(`peak RSS ${result.peak_rss_mb_self} MB`);
}
