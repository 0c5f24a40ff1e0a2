#!/usr/bin/env node
// M5-shaped synthetic sales: daily store × SKU series shaped like the Walmart M5 data set
// (10 stores in 3 states, 3,049 items in 7 departments, 1,941 days from 2011-01-29), written
// to Parquet in series order (store_id, sku, date). Everything is computed inside DuckDB from
// hash-based randomness, so the output depends only on the arguments (and the DuckDB version),
// streams without a sort, and 59M rows take well under a minute.
//
//   node bench/m5/generate.mjs                                  # full M5 shape → bench/data/m5.parquet
//   node bench/m5/generate.mjs --series 2000 --days 730 --out /tmp/small.parquet --seed 7
//   node bench/m5/generate.mjs --series 304900 --days 365 --out bench/data/m5x10.parquet
//   node bench/m5/generate.mjs --from bench/data/m5.parquet --series 2000 --out bench/data/m5-s2000.parquet
//
// Options:
//   --series N      store × SKU series (default 30490)
//   --days D        days of history per series (default 1941)
//   --stores S      stores (default 10, or N / 3049 rounded when N > 30490); items per store = ceil(N / S)
//   --start DATE    first date (default 2011-01-29, the M5 start; the last date is start + D - 1)
//   --seed K        seed (default 1)
//   --out FILE      output Parquet (default bench/data/m5.parquet)
//   --minimal       only store_id, sku, date, units (no price, promo, stockout)
//   --no-stats      skip the demand-class summary (a scan of the written file)
//   --from FILE     instead of generating: copy N series of FILE, picked by a seeded hash, so
//                   subsets of one file are nested (the 500 are among the 2,000) and share its mix
//   --threads T     DuckDB threads (default: all cores; generation itself runs on one)
//   --compression C snappy (default, DuckDB's default: 2× faster to write than zstd), zstd or uncompressed
//   --profile FILE  write DuckDB's JSON query profile of the generating query
//   --json          print the summary as one JSON line
//
// What is in it (per series unless said otherwise), so the engine sees M5's difficulties:
// - demand kinds: smooth fast movers (Gaussian noise around 3–60 units/day), erratic
//   (sales most days, widely varying sizes), intermittent (sales on 5–70 % of days, sizes 1–2)
//   and lumpy (rare, large sizes); the kind mix depends on the department, like M5 where
//   FOODS sell fastest and HOBBIES slowest. About two thirds of series come out intermittent
//   or lumpy under the Syntetos–Boylan rule shelfcast uses (the summary prints the mix).
// - a weekly profile (weekend lift, mid-week dip) of random strength, a yearly cycle whose
//   peak depends on the category, and a slow multiplicative trend;
// - holidays: Christmas closed (0 sales everywhere, as in M5), Christmas Eve and New Year's
//   Eve lift, New Year's Day and Thanksgiving dips, Super Bowl Sunday, July 4th and the
//   Easter weekend for FOODS; state SNAP days (M5's calendar) lift FOODS by 10 %;
// - life cycle: a quarter of items launch late (zero rows before launch, as M5's file has),
//   4 % are discontinued (zeros after);
// - price per item and store, two-week promotions on a third of items (demand ×1.5,
//   price −20 %), week-long stock-outs (stockout = 1, sales cut to a fifth) on ~0.6 % of weeks.
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const argv = process.argv.slice(2);
const opt = (k, d) => { const i = argv.indexOf(k); return i >= 0 ? argv[i + 1] : d; };
const flag = (k) => argv.includes(k);
const int = (k, d) => {
  const v = Number(opt(k, d));
  if (!Number.isInteger(v) || v < 1) throw new Error(`${k} must be a whole number ≥ 1, got ${opt(k)}`);
  return v;
};

const N = int('--series', 30490);
const D = int('--days', 1941);
const seed = int('--seed', 1);
const S = int('--stores', N > 30490 ? Math.max(10, Math.round(N / 3049)) : Math.min(10, N));
const start = opt('--start', '2011-01-29');
if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) throw new Error(`--start must be YYYY-MM-DD, got ${start}`);
const out = resolve(opt('--out', resolve(root, 'bench/data/m5.parquet')));
const from = opt('--from');
const minimal = flag('--minimal');
const threads = opt('--threads');
const compression = opt('--compression', 'snappy');
if (!['snappy', 'zstd', 'uncompressed'].includes(compression)) throw new Error(`--compression must be snappy, zstd or uncompressed, got ${compression}`);

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;
const sqlList = (xs) => `[${xs.map((x) => (typeof x === 'string' ? sqlString(x) : String(x))).join(',')}]`;

/** M5's 10 stores are CA_1..4, TX_1..3, WI_1..3; more stores keep the 4:3:3 split. */
function storeNames(count) {
  const states = [['CA', 0.4], ['TX', 0.3], ['WI', 0.3]];
  const per = states.map(([, w]) => Math.floor(count * w));
  for (let k = 0; per.reduce((a, b) => a + b, 0) < count; k++) per[k % 3]++;
  const names = [];
  states.forEach(([st], k) => { for (let j = 1; j <= per[k]; j++) names.push({ name: `${st}_${j}`, state: k }); });
  // Series order is (store_id, sku) as strings, the order shelfcast's ingest sorts by.
  return names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Items split over M5's departments in M5's proportions; category 0 FOODS, 1 HOBBIES, 2 HOUSEHOLD. */
function itemNames(count) {
  const depts = [['FOODS_1', 216, 0], ['FOODS_2', 398, 0], ['FOODS_3', 823, 0], ['HOBBIES_1', 416, 1], ['HOBBIES_2', 149, 1], ['HOUSEHOLD_1', 532, 2], ['HOUSEHOLD_2', 515, 2]];
  const total = depts.reduce((a, d) => a + d[1], 0);
  const per = depts.map((d) => Math.floor((count * d[1]) / total));
  for (let k = 0; per.reduce((a, b) => a + b, 0) < count; k++) per[(2 + k) % depts.length]++;
  const width = Math.max(3, String(Math.max(...per)).length);
  const items = [];
  depts.forEach(([dept, , cat], k) => { for (let j = 1; j <= per[k]; j++) items.push({ name: `${dept}_${String(j).padStart(width, '0')}`, cat, dept: k }); });
  return items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

// Western Easter Sundays (for the FOODS Easter weekend); the data may span any of these years.
const EASTER = ['2008-03-23', '2009-04-12', '2010-04-04', '2011-04-24', '2012-04-08', '2013-03-31', '2014-04-20', '2015-04-05', '2016-03-27', '2017-04-16', '2018-04-01', '2019-04-21', '2020-04-12', '2021-04-04', '2022-04-17', '2023-04-09', '2024-03-31', '2025-04-20', '2026-04-05', '2027-03-28', '2028-04-16', '2029-04-01', '2030-04-21'];

function generateSql() {
  const stores = storeNames(S);
  const I = Math.ceil(N / S);
  const items = itemNames(I);
  // Uniform (0,1) from the seeded hash of a few integers, independent streams by the last key.
  // DuckDB's multi-argument hash() only combines its arguments' hashes, and streams that differ
  // in the last key come out strongly correlated (r ≈ 0.97 for keys 60 and 61); hashing the
  // combined value again decorrelates them (|r| < 0.002 over 500k draws).
  const U = (...keys) => `((hash(hash(${seed}, ${keys.join(', ')})) >> 11)::DOUBLE + 0.5) / 9007199254740992.0`;
  const lerp = (u, a, b) => `(${a} + (${b} - ${a}) * ${u})`;
  const logUniform = (u, a, b) => `exp(${lerp(u, `ln(${a})`, `ln(${b})`)})`;
  // SNAP days per state (CA, TX, WI), as in M5's calendar.
  const snap = [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], [1, 3, 5, 6, 7, 9, 11, 12, 13, 15], [2, 3, 5, 6, 8, 9, 11, 12, 14, 15]];
  const easter = EASTER.map((d) => `DATE ${sqlString(d)}`).join(', ');

  // Per series, once: identity and parameters, all from hashes of sid / item / store.
  const fastShare = '(CASE cat WHEN 0 THEN 0.32 WHEN 1 THEN 0.12 ELSE 0.18 END)';
  const seriesSql = `
    SELECT sid, st, it, cat, state,
      CASE WHEN u_kind < ${fastShare} THEN 0
           WHEN u_kind < ${fastShare} + 0.15 THEN 1
           WHEN u_kind < ${fastShare} + 0.15 + 0.45 THEN 2 ELSE 3 END AS kind,
      ${logUniform('u_rate', 3, 60)} AS level,
      ${lerp('u_size', 1, 3)} AS disp,
      ${lerp('u_dow', 0.2, 1.2)} AS a_week,
      ${lerp('u_year', 0, 0.35)} AS a_year,
      ${lerp('u_trend', -0.6, 0.6)} AS c_trend,
      CASE WHEN u_launch < 0.25 THEN floor(u_launch_at * 0.6 * ${D}) ELSE 0 END AS launch,
      CASE WHEN u_end < 0.04 THEN floor((0.7 + 0.3 * u_end_at) * ${D}) ELSE ${D} END AS ending,
      u_promo_item < 0.35 AS promo_item,
      ${logUniform('u_price', 0.5, 30)} * (0.975 + 0.05 * u_price_store) AS base_price,
      u_rate, u_size
    FROM (
      SELECT sid, st, it,
        ${sqlList(items.map((x) => x.cat))}[it + 1] AS cat,
        ${sqlList(stores.map((x) => x.state))}[st + 1] AS state,
        ${U('sid', 1)} AS u_kind, ${U('sid', 2)} AS u_rate, ${U('sid', 3)} AS u_size,
        ${U('sid', 4)} AS u_dow, ${U('sid', 5)} AS u_year, ${U('sid', 6)} AS u_trend,
        ${U('it', 20, 0)} AS u_launch, ${U('it', 21, 0)} AS u_launch_at,
        ${U('it', 22, 0)} AS u_end, ${U('it', 23, 0)} AS u_end_at,
        ${U('it', 40, 0)} AS u_promo_item, ${U('it', 50, 0)} AS u_price, ${U('st', 51, 0)} AS u_price_store
      FROM (SELECT r AS sid, r // ${I} AS st, r % ${I} AS it FROM range(${N}) g(r)))
    ORDER BY sid`;
  // Per (series, day): a series' days are consecutive (unnest), so the output is in series order without a sort.
  const days = `
    SELECT s.*, t, DATE ${sqlString(start)} + t AS d, dayofweek(DATE ${sqlString(start)} + t) AS dow,
      month(DATE ${sqlString(start)} + t) AS mon, day(DATE ${sqlString(start)} + t) AS dom,
      ${U('it', 't // 14', 41)} AS u_promo, ${U('sid', 't // 7', 31)} AS u_stockout,
      ((h_ab >> 32)::DOUBLE + 0.5) / 4294967296.0 AS u_a, ((h_ab & 4294967295)::DOUBLE + 0.5) / 4294967296.0 AS u_b
    FROM (SELECT *, hash(hash(${seed}, sid, t, 60)) AS h_ab FROM (SELECT *, unnest(range(${D}))::INTEGER AS t FROM series)) s`;
  const hol = `(CASE
      WHEN mon = 12 AND dom = 24 THEN 1.3
      WHEN mon = 12 AND dom = 31 THEN 1.2
      WHEN mon = 1 AND dom = 1 THEN 0.8
      WHEN mon = 11 AND dow = 4 AND dom BETWEEN 22 AND 28 THEN 0.5
      WHEN mon = 11 AND dow = 3 AND dom BETWEEN 21 AND 27 AND cat = 0 THEN 1.25
      WHEN mon = 2 AND dow = 0 AND dom <= 7 AND cat = 0 THEN 1.15
      WHEN mon = 7 AND dom IN (3, 4) AND cat = 0 THEN 1.2
      WHEN cat = 0 AND d IN (${easter}) THEN 0.85
      WHEN cat = 0 AND d + 1 IN (${easter}) THEN 1.15
      ELSE 1 END)`;
  const snapDay = `(CASE state ${snap.map((ds, k) => `WHEN ${k} THEN dom IN (${ds.join(',')})`).join(' ')} END)`;
  // Weekly profile Sun..Sat, scaled per series; yearly cycle peaking in summer (FOODS), at Christmas (HOBBIES) or in spring (HOUSEHOLD).
  const weekly = `(1 + a_week * ${sqlList([0.35, -0.05, -0.15, -0.15, -0.1, 0.05, 0.3])}[dow + 1])`;
  const peak = '(CASE cat WHEN 0 THEN 196 WHEN 1 THEN 355 ELSE 110 END)';
  const yearly = `(1 + a_year * cos(2 * pi() * (dayofyear(d) - ${peak}) / 365.25))`;
  const trend = `exp(c_trend * t / ${D})`;
  const promoOn = minimal ? 'false' : '(promo_item AND u_promo < 0.08)';
  const withFactor = `
    SELECT *,
      ${weekly} * ${yearly} * ${trend} * ${hol} * (CASE WHEN cat = 0 AND ${snapDay} THEN 1.1 ELSE 1 END)
        * (CASE WHEN ${promoOn} THEN 1.5 ELSE 1 END) AS f,
      ${promoOn} AS promo_on,
      t < launch OR t > ending OR (mon = 12 AND dom = 25) AS closed
    FROM (${days})`;
  // A draw. Fast movers: Gaussian around the level (variance = level × 1..3).
  // Others: a sale with probability p0 · f (capped), of size 1 + geometric with mean s - 1.
  const p0 = `(CASE kind WHEN 1 THEN ${lerp('u_rate', 0.8, 0.97)} WHEN 2 THEN ${logUniform('u_rate', 0.05, 0.7)} ELSE ${logUniform('u_rate', 0.03, 0.6)} END)`;
  const size = `(CASE kind WHEN 1 THEN ${lerp('u_size', 2.5, 8)} WHEN 2 THEN ${lerp('u_size', 1, 1.8)} ELSE ${lerp('u_size', 2.2, 10)} END)`;
  const withDraw = `
    SELECT *, CASE WHEN closed THEN 0
      WHEN kind = 0 THEN greatest(0, round(level * f + sqrt(level * f * disp) * sqrt(-2 * ln(u_a)) * cos(2 * pi() * u_b)))
      WHEN u_a < least(0.99, p0 * f) THEN 1 + (CASE WHEN size <= 1.0001 THEN 0 ELSE floor(ln(u_b) / ln(1 - 1 / size)) END)
      ELSE 0 END AS demand
    FROM (SELECT *, ${p0} AS p0, ${size} AS size FROM (${withFactor}))`;
  const stockoutOn = minimal ? 'false' : '(NOT closed AND u_stockout < 0.006)';
  const price = `round(base_price * (CASE WHEN promo_on THEN 0.8 ELSE 1 END), 2)`;
  const extra = minimal ? '' : `, ${price} AS price, promo_on::INTEGER AS promo, stockout_on::INTEGER AS stockout`;
  const sql = `
    SELECT ${sqlList(stores.map((x) => x.name))}[st + 1] AS store_id,
      ${sqlList(items.map((x) => x.name))}[it + 1] AS sku,
      d AS date,
      (CASE WHEN stockout_on THEN floor(demand / 5) ELSE demand END)::INTEGER AS units${extra}
    FROM (SELECT *, ${stockoutOn} AS stockout_on FROM (${withDraw}))`;
  return { sql, seriesSql, stores, items, I };
}

function subsetSql(source) {
  // N series of the source, picked by a seeded hash of their key: nested across N, same mix.
  return `
    WITH keys AS (
      SELECT store_id, sku FROM (SELECT DISTINCT store_id, sku FROM read_parquet(${sqlString(source)}))
      ORDER BY hash(${seed}, store_id, sku), store_id, sku LIMIT ${N})
    SELECT s.* FROM read_parquet(${sqlString(source)}) s SEMI JOIN keys USING (store_id, sku)
    ORDER BY s.store_id, s.sku, s.date`;
}

const t0 = performance.now();
mkdirSync(dirname(out), { recursive: true });
const db = await DuckDBInstance.create(':memory:', threads ? { threads: String(threads) } : {});
const conn = await db.connect();
const q = async (sql) => (await conn.runAndReadAll(sql)).getRowObjectsJS();
let meta;
if (from) {
  await conn.run(`COPY (${subsetSql(resolve(from))}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION ${compression})`);
  meta = { from: resolve(from) };
} else {
  const { sql, seriesSql, stores } = generateSql();
  // The per-series table is the source of the big query. DuckDB parallelises a scan by row
  // group and keeps their order, so written as Parquet with small row groups it lets every
  // core generate rows while the output stays in series order, byte for byte the same.
  const seriesFile = `${out}.series.tmp.parquet`;
  await conn.run(`COPY (${seriesSql}) TO ${sqlString(seriesFile)} (FORMAT parquet, ROW_GROUP_SIZE ${Math.max(64, Math.ceil(N / 64))})`);
  await conn.run(`CREATE TEMP VIEW series AS SELECT * FROM read_parquet(${sqlString(seriesFile)})`);
  if (opt('--profile')) await conn.run(`PRAGMA enable_profiling = 'json'; PRAGMA profiling_output = ${sqlString(resolve(opt('--profile')))}`);
  await conn.run(`COPY (${sql}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION ${compression})`);
  // Where each store is, for shelfcast's calendars.stores option (state = region).
  writeFileSync(out.replace(/\.parquet$/, '') + '.stores.csv', 'store_id,country,region\n' + stores.map((s) => `${s.name},US,${['CA', 'TX', 'WI'][s.state]}`).join('\n') + '\n');
  if (opt('--profile')) await conn.run('PRAGMA disable_profiling');
  rmSync(seriesFile, { force: true });
  meta = { stores: S, days: D, start };
}
const writeSeconds = (performance.now() - t0) / 1000;

const summary = { out, seed, seconds: 0, write_seconds: +writeSeconds.toFixed(2), bytes: statSync(out).size, ...meta };
const [{ rows, series, first, last, zeros }] = await q(`
  SELECT count(*)::BIGINT::DOUBLE AS rows, count(DISTINCT (store_id, sku))::INTEGER AS series,
    strftime(min(date), '%Y-%m-%d') AS first, strftime(max(date), '%Y-%m-%d') AS last,
    avg((units = 0)::INTEGER) AS zeros
  FROM read_parquet(${sqlString(out)})`);
Object.assign(summary, { rows, series, first_date: first, last_date: last, zero_share: +zeros.toFixed(3) });
if (!flag('--no-stats')) {
  // Demand classes by the Syntetos–Boylan rule shelfcast applies (ADI 1.32, CV² 0.49), over whole histories.
  const cls = await q(`
    WITH s AS (
      SELECT count(*) AS n, count(*) FILTER (units > 0) AS nz, avg(units) FILTER (units > 0) AS m,
        var_samp(units) FILTER (units > 0) AS v, avg(units) AS mean_units
      FROM read_parquet(${sqlString(out)}) GROUP BY store_id, sku)
    SELECT CASE WHEN nz = 0 THEN 'zero' WHEN n / nz >= 1.32 THEN (CASE WHEN coalesce(v, 0) / (m * m) >= 0.49 THEN 'lumpy' ELSE 'intermittent' END)
                ELSE (CASE WHEN coalesce(v, 0) / (m * m) >= 0.49 THEN 'erratic' ELSE 'smooth' END) END AS cls,
      count(*)::INTEGER AS series, round(avg(mean_units), 2) AS mean_units_per_day, round(avg(1 - nz / n), 3) AS zero_share
    FROM s GROUP BY 1 ORDER BY 1`);
  summary.classes = Object.fromEntries(cls.map((c) => [c.cls, { series: c.series, share: +(c.series / series).toFixed(3), mean_units_per_day: c.mean_units_per_day, zero_share: c.zero_share }]));
}
summary.seconds = +((performance.now() - t0) / 1000).toFixed(2);
conn.closeSync();
if (flag('--json')) process.stdout.write(JSON.stringify(summary) + '\n');
else {
  process.stdout.write(`${out}: ${summary.series} series, ${summary.rows} rows, ${summary.first_date} → ${summary.last_date}, ${(summary.bytes / 1e6).toFixed(1)} MB, written in ${summary.write_seconds} s (${summary.seconds} s with stats)\n`);
  process.stdout.write(`  zero days ${(100 * summary.zero_share).toFixed(1)} %`);
  if (summary.classes) process.stdout.write('; classes: ' + Object.entries(summary.classes).map(([k, v]) => `${k} ${(100 * v.share).toFixed(1)} % (${v.mean_units_per_day}/day, ${(100 * v.zero_share).toFixed(0)} % zeros)`).join(', '));
  process.stdout.write('\n');
}
