import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { UserError } from '../errors.js';
import { queryOne, queryRows, sqlString } from '../db/duckdb.js';
import { sha256File } from './fingerprint.js';
import { PARTITION_DAYS, numberSeries, rejudged, type RowRules } from './row-rules.js';
import { printChecked, printSource, ROW_HASH, type FeedPrints, type PartPrint } from './partition-prints.js';
import { commitStore, discardUnnamed, newStoreFile, openStore, storeBinding, type StoreManifest } from './history-store.js';

/**
 * Ingest against the stored history (history-store.ts): the tables a full check of the feed
 * would make, built from the stored partitions the feed did not change and the rows of the
 * ones it did, checked now, without a 59M-row table `checked`: the stored rows that pass the
 * row rules go straight into `clean`, in the order they were stored (key order: a full check
 * stores them sorted, so `clean` needs no sort), their `t` the day until quality.ts knows the
 * grid; every other row (stored rows a rule rejects, partitions in delta files, the rows
 * checked now) goes to the small `checked_rest`; the view `checked` shows both as the table a
 * full check makes. What comes after the row rules (duplicates, outliers, the data end,
 * outages…) runs on the whole history as it does after a full check, so the result is the
 * same, row for row; the rows checked now follow the stored ones in `clean` (the tail, merged
 * by the series reader).
 *
 * Row numbers: a stored row keeps its source row number only while its partition sits at the
 * same positions of the feed; otherwise it gets a placeholder that names its series and day,
 * and the rows rejects.csv lists are found again in the source by that key (`relocate`). A
 * partition where a (store, SKU, date) repeats is never stored, so that key is unique.
 */

export interface HistoryOptions {
  readonly dir: string;
  /** Check only what changed (the nightly run); false: check everything, then store it (retrain, --full). */
  readonly incremental: boolean;
  /** `full`: each feed is the whole history; `delta`: only new and corrected rows, which replace stored rows of the same store, SKU and date. */
  readonly feed: 'full' | 'delta';
  readonly sourcePath: string;
  /** The settings the checked rows depend on (besides the row rules' SQL, added here). */
  readonly settings: Record<string, unknown>;
  info(message: string): void;
}

/** quality.json `history`: how this ingest used the stored history. */
export interface HistoryReport {
  readonly mode: 'full' | 'incremental';
  /** Why the whole feed was checked; empty for an incremental ingest. */
  readonly reason: string;
  readonly partitions: { readonly reused: number; readonly checked: number };
  readonly rows_checked: number;
  /** Stored partitions the feed changed (corrections, returns, late rows), and the rows that differ in them. */
  readonly restated: { readonly partitions: number; readonly rows: number };
}

/** A feed whose changed partitions hold more than this share of its rows is checked whole (and stored anew). */
const MAX_CHANGED_SHARE = 0.25;
/** Likewise a store whose delta files hold this share of its rows: a full ingest writes one base file again. */
const MAX_DELTA_SHARE = 0.25;

const DAY_BITS = 2 ** 25;
const DAY_BIAS = 2 ** 24;
/** Placeholder source row of a stored row whose position is not known: negative, unique per series and day. */
const placeholder = (sid: string, day: string): string => `-(1 + ${sid}::BIGINT * ${DAY_BITS} + (${day} + ${DAY_BIAS}))`;

const CHECKED_COLUMNS = 'src_row, sid, d, day, u, stockout, promo, price, closed, rule';
const TYPED_COLUMNS = 'part, store_id, sku, day, u, stockout, promo, price, closed, rule, src_row';

/** Partition numbers for IN (…); empty is a number no partition has, so NOT IN stays true (NOT IN (NULL) is never). */
const list = (xs: readonly (string | number)[]): string => (xs.length === 0 ? '-2147483648' : xs.join(', '));
/**
 * `expr` is one of the partitions `ps`, as ranges: DuckDB turns a long IN list into a join,
 * which need not keep the rows' order (the stored rows must stay in key order).
 */
function inParts(expr: string, ps: readonly (string | number)[]): string {
  const xs = [...new Set(ps.map(Number))].sort((a, b) => a - b);
  if (xs.length === 0) return 'false';
  const ranges: [number, number][] = [[xs[0], xs[0]]];
  for (const x of xs.slice(1)) {
    const last = ranges[ranges.length - 1];
    if (x === last[1] + 1) last[1] = x;
    else ranges.push([x, x]);
  }
  return `(${ranges.map(([a, b]) => (a === b ? `${expr} = ${a}` : `${expr} BETWEEN ${a} AND ${b}`)).join(' OR ')})`;
}
const samePrint = (a: PartPrint, b: PartPrint): boolean => a.rows === b.rows && a.h === b.h;
const partExpr = `floor(day / ${PARTITION_DAYS})::INTEGER`;

interface Session {
  readonly options: HistoryOptions;
  readonly binding: string;
  readonly previous: StoreManifest | null;
  readonly sha256: string;
  /** Set when `checked` was built from the store. */
  loaded: Loaded | null;
  report: HistoryReport;
}

interface Loaded {
  readonly manifest: StoreManifest;
  readonly kept: readonly string[];
  /** Prints of the current feed (full feeds), for the next run. */
  readonly feedPrints: FeedPrints;
  readonly placeholders: boolean;
  /** Restated partitions and rows, counted before the store is replaced (it reads the stored rows). */
  restated?: { readonly partitions: number; readonly rows: number };
}

export type HistorySession = Session;

/**
 * Start an ingest with the store: build `series`, `clean` and the view `checked` from it (load) when the options allow
 * and it fits; else say why not. A delta feed cannot be checked whole (the store holds its
 * history), so an unusable store stops it, unless there is none yet or --full says that this
 * file is the whole history.
 */
export async function openHistory(conn: DuckDBConnection, rules: RowRules, options: HistoryOptions): Promise<Session> {
  // The row rules' SQL names the columns, parsers and rules; the as-of date is judged again on load.
  const binding = storeBinding({ ...options.settings, rows: rules.typed().replace(rules.lateRule, ''), duckdb: (await queryOne<{ v: string }>(conn, 'SELECT version() AS v')).v });
  const opened = await openStore(options.dir, binding);
  const previous = 'manifest' in opened ? opened.manifest : null;
  const session: Session = { options, binding, previous, sha256: await sha256File(options.sourcePath), loaded: null, report: fullReport('') };
  let reason = 'reason' in opened ? opened.reason : '';
  if (!options.incremental) reason = options.feed === 'delta' ? '--full: this file is the whole history' : 'a retrain or --full checks the whole feed';
  else if (previous) {
    try {
      const r = await load(conn, rules, session, previous);
      if (typeof r === 'string') reason = r;
      else session.loaded = r;
    } catch (e) {
      reason = `the stored history could not be read (${String(e).split('\n')[0].slice(0, 160)})`;
      // What load() made before it failed: the full check makes `checked` a table and `clean` anew.
      await conn.run('DROP VIEW IF EXISTS checked');
    }
  }
  if (!session.loaded) {
    if (options.feed === 'delta' && options.incremental && existsSync(join(options.dir, 'manifest.json'))) {
      throw new UserError(`input.feed is "delta" but ${reason}; run once with --full on a file holding the whole history`);
    }
    session.report = fullReport(reason);
    if (options.incremental) options.info(`ingest: checking the whole ${options.feed === 'delta' ? 'file as the history' : 'feed'}: ${reason}`);
  }
  return session;
}

function fullReport(reason: string): HistoryReport {
  return { mode: 'full', reason, partitions: { reused: 0, checked: 0 }, rows_checked: 0, restated: { partitions: 0, rows: 0 } };
}

/**
 * A delta feed's stored rows are not in tonight's file, so their row numbers name no line of
 * it: they become negative numbers, in the order of the file they were checked in (which
 * decides which of two repeated rows is the first) and unique across files.
 */
const MARK_BASE = `(-4611686018427387904)::BIGINT`;
const marked = (seq: number, col: string): string => `CASE WHEN ${col} < 0 THEN ${col} ELSE ${MARK_BASE} + ${seq}::BIGINT * 68719476736 + ${col} END`;

/** Stored rows of some partitions as typed rows with keys (TYPED_COLUMNS); row numbers marked (above) when `mark`. */
function storedRows(m: StoreManifest, dir: string, parts: readonly string[], mark = false): string {
  const byFile = new Map<string, string[]>();
  for (const p of parts) byFile.set(m.parts[p].file, [...(byFile.get(m.parts[p].file) ?? []), p]);
  const row = (file: string, col: string): string => (mark ? marked(m.seq[file] ?? 0, col) : col);
  const selects = [...byFile].map(([file, ps]) => file.startsWith('base-')
    ? `SELECT ${partExpr} AS part, s.store_id, s.sku, b.day, b.u, b.stockout, b.promo, b.price, b.closed, b.rule, ${row(file, 'b.src_row')} AS src_row FROM read_parquet(${sqlString(`${dir}/${file}`)}) b JOIN read_parquet(${sqlString(`${dir}/${m.series}`)}) s USING (sid) WHERE ${partExpr.replace('day', 'b.day')} IN (${list(ps)})`
    : `SELECT ${TYPED_COLUMNS.replace('src_row', `${row(file, 'src_row')} AS src_row`)} FROM read_parquet(${sqlString(`${dir}/${file}`)}) WHERE part IN (${list(ps)})`);
  return selects.length > 0 ? selects.join(' UNION ALL ') : `SELECT ${TYPED_COLUMNS} FROM fresh WHERE false`;
}

async function load(conn: DuckDBConnection, rules: RowRules, s: Session, m: StoreManifest): Promise<Loaded | string> {
  const { dir } = s.options;
  const stored = Object.keys(m.parts);
  const storedRowsTotal = stored.reduce((a, p) => a + m.parts[p].rows, 0);
  const inDeltas = stored.filter((p) => !m.parts[p].file.startsWith('base-')).reduce((a, p) => a + m.parts[p].rows, 0);
  if (s.options.feed === 'full' && inDeltas > MAX_DELTA_SHARE * storedRowsTotal) return 'the stored history is mostly re-checked partitions; writing it anew';

  let feedPrints: FeedPrints = {};
  let kept: string[];
  let placeholdersFor: string[];
  if (s.options.feed === 'full') {
    feedPrints = s.sha256 === m.feed.sha256 ? m.feed.parts : await printSource(conn, rules);
    const parts = Object.keys(feedPrints).filter((p) => p !== '-1');
    const changed = parts.filter((p) => !(m.parts[p] && samePrint(m.parts[p], feedPrints[p])));
    const total = Object.values(feedPrints).reduce((a, p) => a + p.rows, 0);
    const fresh = changed.reduce((a, p) => a + feedPrints[p].rows, 0) + (feedPrints['-1']?.rows ?? 0);
    if (fresh > MAX_CHANGED_SHARE * total) return `the feed changed ${changed.length} of ${parts.length} partitions (${fresh} of ${total} rows)`;
    kept = parts.filter((p) => !changed.includes(p));
    placeholdersFor = kept.filter((p) => m.parts[p].hp !== feedPrints[p].hp);
    const recheck = [...changed, ...(feedPrints['-1'] ? ['-1'] : [])];
    await conn.run(`CREATE OR REPLACE TEMP TABLE fresh AS SELECT ${TYPED_COLUMNS} FROM (${rules.typed(recheck.length > 0 ? `part IN (${list(recheck)})` : 'false')})`);
  } else {
    // A delta feed: its rows replace stored rows of the same store, SKU and date; its partitions are merged and stored anew.
    await conn.run(`CREATE OR REPLACE TEMP TABLE fresh AS SELECT ${TYPED_COLUMNS} FROM (${rules.typed()})`);
    const touched = (await queryRows<{ part: number }>(conn, `SELECT DISTINCT part FROM fresh WHERE part >= 0`)).map((r) => String(r.part)).filter((p) => m.parts[p]);
    if (touched.length > 0) {
      await conn.run(`INSERT INTO fresh SELECT o.part, o.store_id, o.sku, o.day, o.u, o.stockout, o.promo, o.price, o.closed, o.rule, o.src_row FROM (${storedRows(m, dir, touched, true)}) o
        WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.store_id = o.store_id AND f.sku = o.sku AND f.day = o.day)`);
    }
    kept = stored.filter((p) => !touched.includes(p));
    placeholdersFor = [];
  }

  // Series: every key of the rows the feed has now, numbered as a full check numbers them.
  const keptBase = kept.filter((p) => m.parts[p].file.startsWith('base-'));
  const keptDeltas = kept.filter((p) => !keptBase.includes(p));
  const base = Object.values(m.parts).find((p) => p.file.startsWith('base-'))?.file ?? null;
  const baseFile = base ? sqlString(`${dir}/${base}`) : null;
  await conn.run(`CREATE OR REPLACE TEMP TABLE base_series AS SELECT sid, store_id, sku FROM read_parquet(${sqlString(`${dir}/${m.series}`)})`);
  const baseSids = baseFile && keptBase.length > 0 ? `SELECT DISTINCT sid FROM read_parquet(${baseFile}) WHERE ${partExpr} IN (${list(keptBase)})` : 'SELECT NULL::INTEGER AS sid WHERE false';
  await numberSeries(conn, `(SELECT store_id, sku FROM base_series WHERE sid IN (${baseSids})
    UNION SELECT store_id, sku FROM (${storedRows(m, dir, keptDeltas)}) UNION SELECT store_id, sku FROM fresh)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE series_loaded AS SELECT * FROM series`);

  // The base file's rows, in stored order; their ids renumbered where series came or went
  // (a list lookup, not a join: a join need not keep the order).
  const map = await queryRows<{ old: number; sid: number }>(conn, `SELECT b.sid AS old, s.sid FROM base_series b LEFT JOIN series s USING (store_id, sku) ORDER BY b.sid`);
  const identity = map.every((r, i) => r.old === i && r.sid === i);
  const sidExpr = identity ? 'sid' : `([${map.map((r) => r.sid ?? 'NULL').join(',')}])[sid + 1]`;
  const delta = s.options.feed === 'delta';
  const baseRow = delta && base ? marked(m.seq[base] ?? 0, 'src_row') : 'src_row';
  const placeholderParts = inParts(partExpr, placeholdersFor);
  const noBase = `(SELECT NULL::INTEGER AS sid, NULL::INTEGER AS day, NULL::DOUBLE AS u, NULL::BOOLEAN AS stockout, NULL::BOOLEAN AS promo, NULL::DOUBLE AS price, NULL::BOOLEAN AS closed, NULL::VARCHAR AS rule, NULL::BIGINT AS src_row WHERE false)`;
  const baseRows = (where = 'true'): string => `SELECT src_row, sid, day, u, stockout, promo, price, closed, ${rejudged(rules)} AS rule FROM (
      SELECT CASE WHEN ${placeholderParts} THEN ${placeholder(sidExpr, 'day')} ELSE ${baseRow} END AS src_row, ${sidExpr} AS sid, DATE '1970-01-01' + day AS d, day, u, stockout, promo, price, closed, rule
      FROM ${baseFile && keptBase.length > 0 ? `read_parquet(${baseFile}) WHERE ${inParts(partExpr, keptBase)} AND (${where})` : noBase})`;
  // The base file's rows that pass the row rules (nearly all) go straight into `clean`, in stored
  // order, with `t` holding the day until the grid is known (quality.ts finishClean); the rest
  // of the rows go to `checked_rest`, and the view `checked` shows both as one table. Only rows
  // with a stored rule, or that a late rule may name, can be rejected: the scan reads no other.
  await conn.run(`CREATE OR REPLACE TEMP TABLE clean AS SELECT sid, day AS t, u, stockout AS unobserved, closed, promo, price, src_row, false AS tail FROM (${baseRows()}) WHERE rule IS NULL`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE checked_rest AS SELECT src_row, sid, DATE '1970-01-01' + day AS d, day, u, stockout, promo, price, closed, rule FROM (${baseRows(`rule IS NOT NULL OR ${rules.lateCandidate}`)}) WHERE rule IS NOT NULL`);
  // The tail: partitions stored in delta files, and the rows checked now (those with a source row number).
  await conn.run(`INSERT INTO checked_rest SELECT src_row, sid, d, day, u, stockout, promo, price, closed, CASE WHEN stored THEN ${rejudged(rules)} ELSE rule END FROM (
      SELECT CASE WHEN t.stored AND ${inParts(partExpr.replace('day', 't.day'), placeholdersFor)} THEN ${placeholder('s.sid', 't.day')} ELSE t.src_row END AS src_row, s.sid,
        DATE '1970-01-01' + t.day AS d, t.day, t.u, t.stockout, t.promo, t.price, t.closed, t.rule, t.stored OR t.src_row < 0 AS stored
      FROM (SELECT *, true AS stored FROM (${storedRows(m, dir, keptDeltas, delta)}) UNION ALL SELECT *, false AS stored FROM fresh) t LEFT JOIN series s USING (store_id, sku))`);
  await conn.run(`CREATE OR REPLACE TEMP VIEW checked AS
    SELECT src_row, sid, DATE '1970-01-01' + t AS d, t AS day, u, unobserved AS stockout, promo, price, closed, NULL::VARCHAR AS rule FROM clean
    UNION ALL SELECT src_row, sid, d, day, u, stockout, promo, price, closed, rule FROM checked_rest`);
  return { manifest: m, kept, feedPrints, placeholders: placeholdersFor.length > 0 };
}

/**
 * Whether `checked` is the view over the stored rows already in `clean` (their `t` still the
 * day) and `checked_rest` (every other row), as load() leaves it; false: `checked` is a table
 * of every row (checkRows).
 */
export function cleanFromStore(s: Session | null): boolean {
  return s?.loaded != null;
}

/**
 * The rows among which a (series, day) can repeat: from the store of a full feed, only those
 * of `checked_rest`. A stored partition holds no key twice (saveHistory stores none that does,
 * rejected rows counted), and a key's rows all fall in one partition, so no row in `clean`
 * shares its key with another; a delta feed's partitions are stored whatever they hold.
 */
export function repeatableRows(s: Session | null): 'checked' | 'checked_rest' {
  return s?.loaded && s.options.feed === 'full' ? 'checked_rest' : 'checked';
}

/**
 * Store what this ingest checked, before `checked` is dropped: after a full check, the whole
 * history as a new base file; after an incremental one, the re-checked partitions as a delta
 * file. `accepted` is the SQL condition of rows that reach `clean`. A store that cannot be
 * written is a warning, not a failed run: the old one stays as it was.
 */
export async function saveHistory(conn: DuckDBConnection, s: Session, accepted: string): Promise<void> {
  const { dir } = s.options;
  // The count reads the stored rows of the partitions the feed changed: before the files that hold them are replaced.
  if (s.loaded) s.loaded.restated = await countRestated(conn, s.options.dir, s.loaded);
  const written: string[] = [];
  try {
    // Partitions where a (series, day) repeats are checked again on every run (see the notes above).
    const repeated = (await queryRows<{ p: number }>(conn, `
      SELECT DISTINCT p FROM (
        SELECT ${partExpr}::INTEGER AS p FROM dups
        UNION ALL SELECT ${partExpr.replace('day', 'c.day')} FROM checked c JOIN (SELECT DISTINCT sid, day FROM checked WHERE sid IS NOT NULL AND d IS NOT NULL AND NOT (${accepted})) r USING (sid, day)
          GROUP BY c.sid, c.day HAVING count(*) > 1)`)).map((r) => String(r.p));
    // A delta feed's partitions cannot be read again from tonight's file, so all are stored.
    if (s.options.feed === 'delta') repeated.length = 0;
    const skip = `(${list(repeated)})`;
    const loaded = s.loaded;
    let manifest: Omit<StoreManifest, 'files'>;
    if (!loaded) {
      const baseName = newStoreFile(dir, 'base');
      const seriesName = newStoreFile(dir, 'series');
      written.push(baseName, seriesName);
      // In key order, whatever the feed's order: a nightly run's stored rows then need no sort into `clean`.
      await conn.run(`COPY (SELECT sid, day, u, stockout, promo, price, closed, rule, src_row FROM checked WHERE sid IS NOT NULL AND d IS NOT NULL AND ${partExpr} NOT IN ${skip} ORDER BY sid, day)
        TO ${sqlString(`${dir}/${baseName}`)} (FORMAT parquet, COMPRESSION zstd)`);
      await conn.run(`COPY (SELECT sid, store_id, sku FROM series ORDER BY sid) TO ${sqlString(`${dir}/${seriesName}`)} (FORMAT parquet)`);
      const prints = await printChecked(conn);
      const last = await queryOne<{ d: number | null }>(conn, `SELECT max(day) AS d FROM checked WHERE sid IS NOT NULL`);
      manifest = {
        format: 1, binding: s.binding, series: seriesName, last_day: last.d ?? 0, seq: { [baseName]: 0 },
        parts: Object.fromEntries(Object.entries(prints).filter(([p]) => p !== '-1' && !repeated.includes(p)).map(([p, v]) => [p, { ...v, file: baseName }])),
        feed: { sha256: s.sha256, parts: s.options.feed === 'full' ? prints : {} },
      };
    } else {
      const m = loaded.manifest;
      const fresh = await freshPrints(conn);
      const storable = Object.keys(fresh).filter((p) => p !== '-1' && !repeated.includes(p));
      const parts: StoreManifest['parts'] = Object.fromEntries(loaded.kept.map((p) => [p, m.parts[p]]));
      const seq = { ...m.seq };
      if (storable.length > 0) {
        const deltaName = newStoreFile(dir, 'delta');
        written.push(deltaName);
        seq[deltaName] = Math.max(0, ...Object.values(m.seq)) + 1;
        await conn.run(`COPY (SELECT ${TYPED_COLUMNS} FROM fresh WHERE part IN (${list(storable)}) ORDER BY part) TO ${sqlString(`${dir}/${deltaName}`)} (FORMAT parquet, COMPRESSION zstd)`);
        for (const p of storable) parts[p] = { ...fresh[p], file: deltaName };
      }
      const last = await queryOne<{ d: number | null }>(conn, `SELECT max(day) AS d FROM fresh WHERE part >= 0`);
      manifest = { format: 1, binding: s.binding, series: m.series, last_day: Math.max(m.last_day, last.d ?? m.last_day), seq, parts, feed: { sha256: s.sha256, parts: s.options.feed === 'full' ? loaded.feedPrints : {} } };
    }
    await commitStore(dir, manifest, written, s.previous);
  } catch (e) {
    s.options.info(`warning: the stored history was not updated (${String(e).split('\n')[0].slice(0, 200)}); the next run checks what changed against the previous one`);
    discardUnnamed(dir, s.previous ? Object.keys(s.previous.files) : []);
  }
}

/** Prints of the typed rows of table `fresh`. */
async function freshPrints(conn: DuckDBConnection): Promise<FeedPrints> {
  const r = await queryRows<{ part: number; rows: number; h: string; hp: string }>(conn, `
    SELECT part, count(*)::DOUBLE AS rows, sum(h)::VARCHAR AS h, sum(hash(h, src_row))::VARCHAR AS hp
    FROM (SELECT part, src_row, ${ROW_HASH} AS h FROM (SELECT *, hash(store_id, sku) AS sh FROM fresh WHERE part >= 0)) GROUP BY part`);
  return Object.fromEntries(r.map((p) => [String(p.part), { rows: p.rows, h: p.h, hp: p.hp }]));
}

/**
 * After the quality rules: the counts of how the store was used, and the source rows of
 * placeholder row numbers in `rejected` and `corrected`, found again by their key. A row the
 * source no longer has (a delta feed's earlier rows) keeps its placeholder, and rejects.csv,
 * which lists rows of the source, leaves it out.
 */
export async function finishHistory(conn: DuckDBConnection, s: Session, rules: RowRules, rowsRead: number): Promise<void> {
  const loaded = s.loaded;
  if (!loaded) {
    s.report = { ...s.report, rows_checked: rowsRead };
    return;
  }
  const freshRows = (await queryOne<{ n: number }>(conn, `SELECT count(*)::DOUBLE AS n FROM fresh WHERE src_row > 0`)).n;
  const restated = loaded.restated ?? (await countRestated(conn, s.options.dir, loaded));
  const checkedParts = (await queryOne<{ n: number }>(conn, `SELECT count(DISTINCT part)::INTEGER AS n FROM fresh WHERE part >= 0`)).n;
  s.report = { mode: 'incremental', reason: '', partitions: { reused: loaded.kept.length, checked: checkedParts }, rows_checked: freshRows, restated };
  s.options.info(`ingest: ${loaded.kept.length} stored partitions reused, ${checkedParts} checked (${freshRows} rows)${restated.partitions > 0 ? `, ${restated.partitions} restated (${restated.rows} rows differ)` : ''}`);
  if (loaded.placeholders) await relocate(conn, rules);
}

/** Restated: stored rows the feed changed or no longer has, and rows it added for days the store already had. */
async function countRestated(conn: DuckDBConnection, dir: string, loaded: Loaded): Promise<{ partitions: number; rows: number }> {
  const m = loaded.manifest;
  const changedParts = Object.keys(m.parts).filter((p) => !loaded.kept.includes(p));
  if (changedParts.length === 0) return { partitions: 0, rows: 0 };
  const restated = await queryRows<{ part: number; n: number }>(conn, `
    WITH o AS (SELECT part, store_id, sku, day, ${ROW_HASH} AS h FROM (SELECT *, hash(store_id, sku) AS sh FROM (${storedRows(m, dir, changedParts)}))),
    n AS (SELECT part, store_id, sku, day, ${ROW_HASH} AS h FROM (SELECT *, hash(store_id, sku) AS sh FROM fresh WHERE part IN (${list(changedParts)})))
    SELECT COALESCE(o.part, n.part) AS part, count(*)::DOUBLE AS n FROM o FULL JOIN n ON o.store_id = n.store_id AND o.sku = n.sku AND o.day = n.day
    WHERE (o.h IS NOT NULL AND o.h IS DISTINCT FROM n.h) OR (o.h IS NULL AND n.day <= ${m.last_day}) GROUP BY ALL`);
  return { partitions: restated.length, rows: restated.reduce((a, r) => a + r.n, 0) };
}

async function relocate(conn: DuckDBConnection, rules: RowRules): Promise<void> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE relocate AS
    SELECT r.syn, s.store_id, s.sku, (((-r.syn - 1) % ${DAY_BITS}) - ${DAY_BIAS})::INTEGER AS day
    FROM (SELECT DISTINCT src_row AS syn FROM (SELECT src_row FROM rejected UNION ALL SELECT src_row FROM corrected) WHERE src_row < 0) r
    JOIN series_loaded s ON s.sid = ((-r.syn - 1) // ${DAY_BITS})`);
  if ((await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM relocate`)).n === 0) return;
  await conn.run(`CREATE OR REPLACE TEMP TABLE relocated AS
    SELECT k.syn, min(x.src_row) AS src_row FROM (SELECT src_row, store_id, sku, day FROM (${rules.typed()})) x JOIN relocate k USING (store_id, sku, day) GROUP BY k.syn`);
  for (const table of ['rejected', 'corrected']) await conn.run(`UPDATE ${table} SET src_row = r.src_row FROM relocated r WHERE ${table}.src_row = r.syn`);
}
