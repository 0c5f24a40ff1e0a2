import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputConfig, QualityConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { queryOne, queryRows, sqlString } from '../db/duckdb.js';
import { isoAddDays } from './dates.js';
import type { RegisteredSource } from './source.js';
import { inferFrequency, type Frequency } from './frequency.js';
import { checkRows, rowRules } from './row-rules.js';
import { cleanFromStore, finishHistory, openHistory, repeatableRows, saveHistory, type HistoryOptions, type HistoryReport } from './incremental.js';
import { findDataEnd } from './data-end.js';
import { findOutliers } from './outliers.js';
import { classifyMissing } from './outages.js';
import { publishedName } from '../publish/published-paths.js';

/**
 * Data-quality rules, applied in DuckDB before anything is fitted. Every source row ends in
 * exactly one place: the table `clean` (possibly corrected, e.g. a negative set to 0, then also
 * listed in `corrected`) or the table `rejected` with the rule that caught it. Nothing is
 * dropped or changed without a count. Missing periods are told apart: gaps (`quality.gaps`),
 * and outages, missing stores and stale series, which are unobserved (`unobserved_spans`).
 * `series_span (sid, first_t, last_t, n)` is each series' span in the final `clean`: the one
 * place later stages (launches, the network's uses, history.parquet) read first periods from.
 */

export type RuleName =
  | 'missing_key' | 'bad_date' | 'bad_units' | 'bad_flag' | 'future_date'
  | 'negative_units' | 'off_grid_date' | 'duplicate' | 'after_end' | 'outlier';

export interface RuleCount {
  readonly rows: number;
  /** What happened to those rows: rejected, set to 0, kept, summed… */
  readonly action: string;
}

export interface SeriesRef {
  readonly store_id: string;
  readonly sku: string;
}

export interface QualityReport {
  readonly source: string;
  readonly format: string;
  readonly rows_read: number;
  readonly rows_accepted: number;
  readonly rows_rejected: number;
  /** Rows kept with a changed value (negative set to 0, outlier capped). */
  readonly rows_corrected: number;
  readonly rules: Record<RuleName, RuleCount>;
  readonly dates: string;
  readonly data_end: { readonly date: string; readonly rule: string; readonly latest_row: string };
  readonly gaps: { readonly periods: number; readonly series: number; readonly action: string };
  readonly outages: { readonly runs: number; readonly periods: number; readonly series: number; readonly min_periods: number; readonly action: string };
  readonly missing_stores: { readonly stores: readonly string[]; readonly action: string };
  /** Series whose rows end well before the data end, and how their latest periods were treated. */
  readonly ending_early: { readonly series: number; readonly examples: readonly (SeriesRef & { readonly last_date: string; readonly treated: string })[] };
  /** Series all of whose rows were rejected: not forecast. */
  readonly series_dropped: { readonly series: number; readonly examples: readonly SeriesRef[] };
  readonly stockout_periods: number;
  readonly frequency: Frequency;
  readonly first_date: string;
  readonly last_date: string;
  readonly series: number;
  /** How the stored history was used (run and retrain only). */
  readonly history?: HistoryReport;
}

export interface Ingested {
  readonly report: QualityReport;
  readonly freq: Frequency;
  /** Day of the first period; period t is `firstDate + t * freq.days`. */
  readonly firstDate: string;
  /** Index of the data set's end (see data-end.ts): every series is forecast from here. */
  readonly lastT: number;
  readonly series: number;
}

const EXAMPLES = 10;

const gapAction = (q: QualityConfig): string => (q.gaps === 'zero' ? 'filled with 0' : 'treated as unobserved');

/** Default outage length: two weeks of days, a month of weeks. */
export function outageMinPeriods(q: QualityConfig, freq: Frequency): number {
  return q.outageMinPeriods ?? (freq.days === 1 ? 14 : 4);
}

export async function applyQualityRules(conn: DuckDBConnection, source: RegisteredSource, input: InputConfig, q: QualityConfig, freqSetting: 'auto' | 'day' | 'week', today: string, store?: HistoryOptions, order: CleanOrder = 'series'): Promise<Ingested> {
  const asOf = q.asOf ?? today;
  const rowSql = await rowRules(conn, source, input, q, asOf);
  const dateRule = rowSql.dateRule;
  const history = store ? await openHistory(conn, rowSql, store) : null;
  if (!history?.loaded) await checkRows(conn, rowSql);
  // From the store, `checked` is a view: the stored rows that pass the row rules are in `clean` already.
  const fromStore = cleanFromStore(history);

  const read = await queryOne<{ n: number; ok: number }>(conn, `SELECT count(*)::INTEGER AS n, count(*) FILTER (rule IS NULL)::INTEGER AS ok FROM checked`);
  if (read.n === 0) throw new UserError(`input ${source.path}: no data rows`);
  if (read.ok === 0) throw await unusableInput(conn, source, read.n);

  const freq = await inferFrequency(conn, freqSetting, source.path, read.n > 1_000_000);

  // The period grid. For weekly data it is the most common weekday: every target date keeps
  // the input's weekday, and a row on another weekday is off the grid.
  const anchor = await queryOne<{ dow: number }>(conn, `SELECT mode(dayofweek(d))::INTEGER AS dow FROM checked WHERE rule IS NULL`);
  const onGrid = freq.days === 7 ? `dayofweek(d) = ${anchor.dow}` : 'true';
  const span = await queryOne<{ first: string | null }>(conn, `SELECT strftime(min(d), '%Y-%m-%d') AS first FROM checked WHERE rule IS NULL AND ${onGrid}`);
  if (!span.first) throw new UserError(`input ${source.path}: no rows left after the data-quality rules (see rejects.csv)`);
  const first = span.first;
  const step = freq.days;
  const firstDay = (await queryOne<{ d: number }>(conn, `SELECT (DATE ${sqlString(first)} - DATE '1970-01-01')::INTEGER AS d`)).d;
  const accepted = `rule IS NULL AND ${onGrid}`;

  const dupRows = await findDuplicates(conn, accepted, firstDay, step, repeatableRows(history));

  // Every rejected row with its rule (and, for duplicates, the row it repeats); every changed one.
  const log = `src_row BIGINT, rule VARCHAR, duplicate_of BIGINT, detail DOUBLE, action VARCHAR`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE rejected (${log})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE corrected (${log})`);
  await conn.run(`INSERT INTO rejected
    SELECT src_row, rule, NULL, NULL, 'rejected' FROM checked WHERE rule IS NOT NULL
    UNION ALL SELECT src_row, 'off_grid_date:date', NULL, NULL, 'rejected' FROM checked WHERE rule IS NULL AND NOT (${onGrid})
    ${q.duplicates === 'reject' && dupRows > 0 ? `UNION ALL SELECT c.src_row, 'duplicate:date', x.first_row, NULL, 'rejected' FROM checked c JOIN dups x USING (sid, day) WHERE ${accepted.replaceAll('rule', 'c.rule')} AND c.src_row <> x.first_row` : ''}`);
  if (q.negativeUnits === 'zero') await conn.run(`INSERT INTO corrected SELECT src_row, 'negative_units:units', NULL, u, 'set to 0' FROM checked WHERE ${accepted} AND u < 0`);
  const negative = (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM checked WHERE ${accepted} AND u < 0`)).n;
  const future = q.futureDates === 'keep' ? (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM checked WHERE rule IS NULL AND d > DATE ${sqlString(asOf)}`)).n : 0;
  if (history) await saveHistory(conn, history, accepted);
  await buildClean(conn, { fromStore, accepted, onGrid, firstDay, step, dupRows, duplicates: q.duplicates, negativeUnits: q.negativeUnits, order });

  // Outliers first, so that one absurd value cannot decide where the data ends.
  const outliers = await findOutliers(conn, q.outliers);
  if (outliers > 0 && q.outliers.action === 'reject') await conn.run(`INSERT INTO rejected SELECT src_row, 'outlier:units', NULL, bound, 'rejected' FROM outlier_rows`);
  if (outliers > 0 && q.outliers.action === 'cap') await conn.run(`INSERT INTO corrected SELECT src_row, 'outlier:units', NULL, bound, 'capped at ' || round(bound, 4) FROM outlier_rows`);

  // Rows after the data end are held back (data-end.ts), then series left with no row at all
  // are dropped, so series ids stay dense: batches and publish place series by id.
  const end = await findDataEnd(conn);
  if (end.latestT > end.t) {
    await conn.run(`INSERT INTO rejected SELECT src_row, 'after_end:date', NULL, NULL, 'rejected' FROM clean WHERE t > ${end.t}`);
    await conn.run(`DELETE FROM corrected WHERE src_row IN (SELECT src_row FROM clean WHERE t > ${end.t})`);
    await conn.run(`DELETE FROM clean WHERE t > ${end.t}`);
    await conn.run(`DELETE FROM outlier_rows WHERE t > ${end.t}`);
  }
  const dropped = await keepSeriesDense(conn);
  await conn.run(`CREATE OR REPLACE TEMP VIEW clean_keyed AS SELECT s.store_id, s.sku, c.* FROM clean c JOIN series s USING (sid)`);

  const endDate = isoAddDays(first, end.t * step);
  const min = outageMinPeriods(q, freq);
  // `clean` is final from here on: one table of each series' span for everything that needs it.
  await conn.run(`CREATE OR REPLACE TEMP TABLE series_span AS SELECT sid, min(t) AS first_t, max(t) AS last_t, count(*)::INTEGER AS n FROM clean GROUP BY sid`);
  const missing = await classifyMissing(conn, { endT: end.t, minPeriods: min, cycle: freq.days === 7 ? 52 : 365, weekStep: freq.days === 1 ? 7 : 1, outlierSpans: outliers > 0 && q.outliers.action === 'reject' });
  await conn.run(`CREATE OR REPLACE TEMP TABLE grid AS SELECT DATE ${sqlString(first)} AS first_date, (SELECT dayname(DATE '2024-01-07' + ${anchor.dow})) AS grid_day,
    DATE ${sqlString(endDate)} AS end_date, ${q.outliers.factor}::DOUBLE AS outlier_factor`);

  const counts = new Map((await queryRows<{ rule: string; n: number }>(conn, `SELECT split_part(rule, ':', 1) AS rule, count(*)::INTEGER AS n FROM rejected GROUP BY 1`)).map((r) => [r.rule, r.n]));
  const corrected = (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM corrected`)).n;
  const stats = await queryOne<{ series: number; stockouts: number }>(conn, `SELECT (SELECT count(*) FROM series)::INTEGER AS series, count(*) FILTER (unobserved)::INTEGER AS stockouts FROM clean`);
  const rejected = (name: RuleName): RuleCount => ({ rows: counts.get(name) ?? 0, action: 'rejected' });
  const rules: Record<RuleName, RuleCount> = {
    missing_key: rejected('missing_key'),
    bad_date: rejected('bad_date'),
    bad_units: rejected('bad_units'),
    bad_flag: rejected('bad_flag'),
    future_date: q.futureDates === 'reject' ? rejected('future_date') : { rows: future, action: 'kept' },
    negative_units: q.negativeUnits === 'reject' ? rejected('negative_units') : { rows: negative, action: q.negativeUnits === 'zero' ? 'set to 0' : 'kept' },
    off_grid_date: rejected('off_grid_date'),
    duplicate: q.duplicates === 'reject' ? rejected('duplicate') : { rows: dupRows, action: 'summed into the first row' },
    after_end: { rows: counts.get('after_end') ?? 0, action: 'held back (after the data end)' },
    outlier: { rows: outliers, action: { reject: 'rejected (period unobserved)', cap: `capped at ${q.outliers.factor}× the series' usual highs`, keep: 'kept' }[q.outliers.action] },
  };
  const rowsRejected = [...counts.values()].reduce((a, b) => a + b, 0);
  const keys = await seriesRefs(conn, missing.endingEarly.slice(0, EXAMPLES).map((e) => e.sid));
  if (history) await finishHistory(conn, history, rowSql, read.n);
  const report: QualityReport = {
    source: publishedName(source.path),
    format: source.format,
    rows_read: read.n,
    rows_accepted: read.n - rowsRejected,
    rows_rejected: rowsRejected,
    rows_corrected: corrected,
    rules,
    dates: dateRule,
    data_end: { date: endDate, rule: 'the last date reached by the series holding half the sales, or by half the series', latest_row: isoAddDays(first, end.latestT * step) },
    gaps: { ...missing.gaps, action: gapAction(q) },
    outages: { ...missing.outages, min_periods: min, action: 'treated as unobserved' },
    missing_stores: { stores: missing.missingStores, action: q.missingStores === 'stop' ? 'stop' : 'latest periods treated as unobserved' },
    ending_early: {
      series: missing.endingEarly.length,
      examples: missing.endingEarly.slice(0, EXAMPLES).map((e, i) => ({ ...keys[i], last_date: isoAddDays(first, e.lastT * step), treated: e.storeMissing ? 'store missing: latest periods unobserved' : `later periods are gaps (${gapAction(q)})` })),
    },
    series_dropped: dropped,
    stockout_periods: stats.stockouts,
    frequency: freq,
    first_date: first,
    last_date: endDate,
    series: stats.series,
    ...(history ? { history: history.report } : {}),
  };
  return { report, freq, firstDate: first, lastT: end.t, series: stats.series };
}

/**
 * `series`: `clean` sorted by (sid, t), as the series reader streams it. `any`: in whatever order
 * the rows come, `checked` turned into `clean` in place where it can be (for `validate`, whose
 * checks are all aggregates: the sorted copy is the costliest step of a full ingest, and nothing
 * reads the rows in order after it).
 */
export type CleanOrder = 'series' | 'any';

interface CleanPlan {
  readonly order: CleanOrder;
  readonly fromStore: boolean;
  /** SQL condition of the rows of `checked` that reach `clean`, over its columns (d, rule…). */
  readonly accepted: string;
  /** The part of it that is the weekly grid ('true' for daily data). */
  readonly onGrid: string;
  readonly firstDay: number;
  readonly step: number;
  readonly dupRows: number;
  readonly duplicates: QualityConfig['duplicates'];
  readonly negativeUnits: QualityConfig['negativeUnits'];
}

/**
 * The clean table, in series order (or, for `validate`, in any: CleanOrder), keyed by (sid, t)
 * with no strings: what the forecast reader streams. Then `checked` is dropped (in any order it
 * becomes `clean` itself). When `checked` is in key order it is filtered, with no sort (the
 * costliest step of an ingest); on large inputs it seldom is, even for a sorted feed, as
 * DuckDB's join with the series ids returns blocks of rows in another order (BENCHMARKS, issue
 * 14). From the store, the stored rows are in `clean` already, in key order (incremental.ts
 * load): their days become periods in place, and the rows checked now (`tail`) follow, for the
 * series reader to merge; the 59M-row copy a table `checked` would need is not made.
 */
async function buildClean(conn: DuckDBConnection, p: CleanPlan): Promise<void> {
  const period = (day: string): string => `((${day} - ${p.firstDay}) // ${p.step})`;
  const t = `${period('day')}::INTEGER AS t`;
  const units = p.negativeUnits === 'zero' ? 'greatest(u, 0)' : 'u';
  const columns = (tail: boolean): string => `sid, ${t}, ${units} AS u, stockout AS unobserved, closed, promo, price, src_row, ${tail} AS tail`;
  // greatest(u, 0) exactly where it changes a value (a -0 stays -0, as greatest leaves it).
  const zeroNegatives = async (table: string): Promise<void> => {
    if (p.negativeUnits === 'zero') await conn.run(`UPDATE ${table} SET u = greatest(u, 0) WHERE u < 0`);
  };
  // A row of `checked` that repeats an earlier row's (series, day): rejected as a duplicate.
  const repeated = 'EXISTS (SELECT 1 FROM dups x WHERE x.sid = checked.sid AND x.day = checked.day AND x.first_row <> checked.src_row)';
  if (p.fromStore && p.dupRows === 0 && (await inKeyOrder(conn, 'clean', 'sid::BIGINT * 4294967296 + t', 'true'))) {
    await conn.run('DROP VIEW checked');
    // `t` holds the day (load): the stored rows off the weekly grid leave, the rest get their period.
    if (p.onGrid !== 'true') await conn.run(`DELETE FROM clean WHERE NOT (${p.onGrid.replaceAll(/\bd\b/g, "(DATE '1970-01-01' + t)")})`);
    await conn.run(`ALTER TABLE clean ALTER t TYPE INTEGER USING ${period('t')}`);
    await zeroNegatives('clean');
    await conn.run(`INSERT INTO clean SELECT ${columns(true)} FROM checked_rest WHERE ${p.accepted}`);
    await conn.run('DROP TABLE checked_rest');
    return;
  }
  if (!p.fromStore && p.order === 'any' && (p.dupRows === 0 || p.duplicates === 'reject')) {
    // In any order, `checked` becomes `clean` in place: a copy of 59M rows spills gigabytes
    // beside the table it copies (BENCHMARKS, issue 14), and the rows that leave are few.
    await conn.run(`DELETE FROM checked WHERE NOT (${p.accepted})${p.dupRows === 0 ? '' : ` OR ${repeated}`}`);
    await conn.run(`ALTER TABLE checked ALTER day TYPE INTEGER USING ${period('day')}`);
    await conn.run('ALTER TABLE checked RENAME day TO t');
    await conn.run('ALTER TABLE checked RENAME stockout TO unobserved');
    await zeroNegatives('checked');
    for (const c of ['d', 'rule']) await conn.run(`ALTER TABLE checked DROP COLUMN ${c}`);
    await conn.run('ALTER TABLE checked ADD COLUMN tail BOOLEAN DEFAULT false');
    await conn.run('ALTER TABLE checked RENAME TO clean');
    return;
  }
  const target = p.fromStore ? 'clean_sorted' : 'clean';
  const sorted = p.order === 'series' ? 'ORDER BY sid, t' : '';
  if (!p.fromStore && p.dupRows === 0 && (await inKeyOrder(conn, 'checked', 'sid::BIGINT * 4294967296 + day', 'rule IS NULL'))) {
    await conn.run(`CREATE OR REPLACE TEMP TABLE clean AS
      SELECT ${columns(false)} FROM checked WHERE ${p.accepted}`);
  } else if (p.dupRows === 0 || p.duplicates === 'reject') {
    const keep = p.dupRows === 0 ? '' : `AND NOT ${repeated}`;
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${target} AS
      SELECT ${columns(false)} FROM checked WHERE ${p.accepted} ${keep} ${sorted}`);
  } else {
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${target} AS
      SELECT sid, ${t}, sum(${units}) AS u, bool_or(stockout) AS unobserved, bool_and(closed) AS closed, bool_or(promo) AS promo, max(price) AS price, min(src_row) AS src_row, false AS tail
      FROM checked WHERE ${p.accepted} GROUP BY sid, day ${sorted}`);
  }
  if (p.fromStore) {
    await conn.run('DROP VIEW checked');
    await conn.run('DROP TABLE checked_rest');
    await conn.run('DROP TABLE clean');
    await conn.run('ALTER TABLE clean_sorted RENAME TO clean');
  } else {
    await conn.run('DROP TABLE checked');
  }
}

/**
 * Whether the rows of `table` that meet `where` are in strictly increasing key order as
 * stored. lag() over the unordered window reads the rows in the table's order; were it ever
 * wrong, the series reader, which checks the order it relies on, would stop the run rather
 * than forecast from shuffled rows.
 */
async function inKeyOrder(conn: DuckDBConnection, table: string, key: string, where: string): Promise<boolean> {
  const r = await queryOne<{ bad: number }>(conn, `
    SELECT count(*) FILTER (k <= prev)::INTEGER AS bad FROM (
      SELECT k, lag(k) OVER () AS prev FROM (SELECT ${key} AS k FROM ${table} WHERE ${where}))`);
  return r.bad === 0;
}

/**
 * Duplicates: a (series, period) with more than one row among `rows` (all of `checked`, or
 * where incremental.ts repeatableRows says they can be), into table `dups`. A full GROUP BY
 * over every row is the slowest step of an ingest, so it runs only on candidate series: those
 * whose row count, or the first three power sums of their periods, differ from those of a
 * complete run of periods between their first and last. A series that matches all four has
 * exactly one row per period unless its duplicates and gaps solve a Prouhet–Tarry–Escott
 * system; the series reader still checks every period is strictly increasing, so such a case
 * would stop the run rather than pass silently.
 * Power sums of period indices k, shifted to each series' first period m:
 *   Σ(k−m) = S1 − n·m,  Σ(k−m)² = S2 − 2m·S1 + n·m²,  Σ(k−m)³ = S3 − 3m·S2 + 3m²·S1 − n·m³.
 */
async function findDuplicates(conn: DuckDBConnection, accepted: string, firstDay: number, step: number, rows: 'checked' | 'checked_rest'): Promise<number> {
  await conn.run(`CREATE OR REPLACE TEMP TABLE dup_candidates AS
    WITH k AS (SELECT sid, ((day - ${firstDay}) // ${step})::DOUBLE AS k FROM ${rows} WHERE ${accepted}),
    a AS (SELECT sid, count(*)::DOUBLE AS n, min(k) AS m, max(k) - min(k) + 1 AS len, sum(k) AS s1, sum(k * k) AS s2, sum(k * k * k) AS s3 FROM k GROUP BY sid)
    SELECT sid FROM a
    WHERE n <> len
       OR s1 - n * m <> len * (len - 1) / 2
       OR s2 - 2 * m * s1 + n * m * m <> (len - 1) * len * (2 * len - 1) / 6
       OR s3 - 3 * m * s2 + 3 * m * m * s1 - n * m * m * m <> (len * (len - 1) / 2) * (len * (len - 1) / 2)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE dups AS
    SELECT sid, day, min(src_row) AS first_row, count(*)::INTEGER AS n
    FROM ${rows} WHERE ${accepted} AND sid IN (SELECT sid FROM dup_candidates) GROUP BY sid, day HAVING count(*) > 1`);
  return (await queryOne<{ n: number }>(conn, `SELECT COALESCE(sum(n - 1), 0)::INTEGER AS n FROM dups`)).n;
}

/**
 * Drop series that have no row left (all rejected, or all after the data end) and renumber
 * the rest 0..n−1 in key order (in `clean`, `series` and `outlier_rows`). Rare, so the rewrite of `clean` only happens when needed.
 */
async function keepSeriesDense(conn: DuckDBConnection): Promise<QualityReport['series_dropped']> {
  const c = await queryOne<{ kept: number; all: number }>(conn, `SELECT (SELECT count(DISTINCT sid) FROM clean)::INTEGER AS kept, (SELECT count(*) FROM series)::INTEGER AS all`);
  if (c.kept === c.all) return { series: 0, examples: [] };
  const examples = await queryRows<SeriesRef>(conn, `SELECT store_id, sku FROM series WHERE sid NOT IN (SELECT DISTINCT sid FROM clean) ORDER BY sid LIMIT ${EXAMPLES}`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE sid_map AS SELECT sid AS old_sid, (row_number() OVER (ORDER BY sid) - 1)::INTEGER AS sid FROM (SELECT DISTINCT sid FROM clean)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE clean AS SELECT m.sid, c.* EXCLUDE (sid) FROM clean c JOIN sid_map m ON c.sid = m.old_sid ORDER BY m.sid, c.t`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE series AS SELECT m.sid, s.store_id, s.sku FROM series s JOIN sid_map m ON s.sid = m.old_sid ORDER BY m.sid`);
  await conn.run(`UPDATE outlier_rows SET sid = m.sid FROM sid_map m WHERE outlier_rows.sid = m.old_sid`);
  return { series: c.all - c.kept, examples };
}

async function seriesRefs(conn: DuckDBConnection, sids: readonly number[]): Promise<SeriesRef[]> {
  if (sids.length === 0) return [];
  const rows = await queryRows<SeriesRef & { sid: number }>(conn, `SELECT sid, store_id, sku FROM series WHERE sid IN (${sids.join(', ')})`);
  const by = new Map(rows.map((r) => [r.sid, { store_id: r.store_id, sku: r.sku }]));
  return sids.map((s) => by.get(s) as SeriesRef);
}

/** Why a run must stop before publishing, or null when the data may be published. */
export function rejectShareProblem(r: QualityReport, maxShare: number): string | null {
  const changed = r.rows_rejected + r.rows_corrected;
  const share = changed / r.rows_read;
  if (share <= maxShare) return null;
  const what = r.rows_corrected > 0 ? `${r.rows_rejected} rejected and ${r.rows_corrected} corrected` : `${r.rows_rejected}`;
  return `${what} of ${r.rows_read} rows (${(100 * share).toFixed(1)}%) ${r.rows_corrected > 0 ? 'were rejected or corrected' : 'were rejected'}, above quality.maxRejectedShare = ${maxShare}`;
}

/** What a planner or operator should hear about the data, one line each (also in quality.json). */
export function qualityWarnings(r: QualityReport): string[] {
  const w: string[] = [];
  const names = (xs: readonly SeriesRef[], n: number): string => xs.map((x) => `${x.store_id}/${x.sku}`).join(', ') + (n > xs.length ? `, … ${n - xs.length} more` : '');
  if (r.rules.after_end.rows > 0) w.push(`${r.rules.after_end.rows} rows dated after the data end ${r.data_end.date} (latest row ${r.data_end.latest_row}) held back`);
  if (r.series_dropped.series > 0) w.push(`${r.series_dropped.series} series have no usable row and are not forecast: ${names(r.series_dropped.examples, r.series_dropped.series)}`);
  if (r.missing_stores.stores.length > 0) w.push(`${r.missing_stores.stores.length} stores have no rows at the data end: ${r.missing_stores.stores.slice(0, EXAMPLES).join(', ')}${r.missing_stores.stores.length > EXAMPLES ? ', …' : ''}`);
  if (r.ending_early.series > 0) w.push(`${r.ending_early.series} series end before the data end: ${names(r.ending_early.examples, r.ending_early.series)} (quality.json)`);
  if (r.outages.runs > 0) w.push(`${r.outages.runs} outages (${r.outages.periods} periods in ${r.outages.series} series) treated as unobserved`);
  if (r.rules.outlier.rows > 0) w.push(`${r.rules.outlier.rows} outlier values ${r.rules.outlier.action} (rejects.csv)`);
  return w;
}

/**
 * No row passed the row rules: the error says the most common rule, with a hint where one
 * fits. The tables writeRejects reads are made first, so the caller can still write rejects.csv.
 */
export class UnusableInput extends UserError {
  constructor(message: string, readonly source: RegisteredSource) {
    super(message);
  }
}

async function unusableInput(conn: DuckDBConnection, source: RegisteredSource, rows: number): Promise<UnusableInput> {
  const log = `src_row BIGINT, rule VARCHAR, duplicate_of BIGINT, detail DOUBLE, action VARCHAR`;
  await conn.run(`CREATE OR REPLACE TEMP TABLE rejected AS SELECT src_row, rule, NULL::BIGINT AS duplicate_of, NULL::DOUBLE AS detail, 'rejected' AS action FROM checked`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE corrected (${log})`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE grid AS SELECT NULL::VARCHAR AS grid_day, NULL::DATE AS end_date, NULL::DOUBLE AS outlier_factor`);
  const r = await queryOne<{ rule: string }>(conn, `SELECT mode(rule) AS rule FROM checked`);
  const hints: Record<string, string> = {
    'bad_date:date': source.dateFormat ? ` (not ${source.dateFormat}: check input.csv.dateFormat)` : ' (set input.csv.dateFormat, e.g. "%d.%m.%Y" or "%m/%d/%Y", for dates not written YYYY-MM-DD)',
    'bad_units:units': source.format === 'csv' ? ' (for decimal commas set input.csv.decimal to ","; for a ";" file, input.csv.delimiter)' : '',
  };
  return new UnusableInput(`input ${source.path}: none of the ${rows} rows is usable: most break rule ${r.rule}${hints[r.rule] ?? ''}`, source);
}
