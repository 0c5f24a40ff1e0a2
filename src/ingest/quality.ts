import type { DuckDBConnection } from '@duckdb/node-api';
import type { QualityConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { queryOne, queryRows, sqlIdent, sqlString } from '../db/duckdb.js';
import type { Source } from './source.js';
import { inferFrequency, type Frequency } from './frequency.js';

/**
 * Data-quality rules, applied in DuckDB before anything is fitted. Every source row ends in
 * exactly one place: the table `clean` (possibly corrected, e.g. a negative set to 0) or the
 * table `rejected` with the rule that caught it. Nothing is dropped without a count.
 */

export type RuleName =
  | 'missing_key' | 'bad_date' | 'bad_units' | 'bad_flag' | 'future_date'
  | 'negative_units' | 'off_grid_date' | 'duplicate';

export interface RuleCount {
  readonly rows: number;
  /** What happened to those rows: rejected, set to 0, kept, summed… */
  readonly action: string;
}

export interface QualityReport {
  readonly source: string;
  readonly format: string;
  readonly rows_read: number;
  readonly rows_accepted: number;
  readonly rows_rejected: number;
  readonly rules: Record<RuleName, RuleCount>;
  readonly gaps: { readonly periods: number; readonly series: number; readonly action: string };
  readonly stockout_periods: number;
  readonly frequency: Frequency;
  readonly first_date: string;
  readonly last_date: string;
  readonly series: number;
}

export interface Ingested {
  readonly report: QualityReport;
  readonly freq: Frequency;
  /** Day of the first period; period t is `firstDate + t * freq.days`. */
  readonly firstDate: string;
  /** Index of the last period of the data set: every series is forecast from here. */
  readonly lastT: number;
  readonly series: number;
}

function optionalCol(cols: Source['columns'], role: 'promo' | 'stockout' | 'price'): string | null {
  const c = cols[role];
  return c ? sqlIdent(c) : null;
}

export async function applyQualityRules(conn: DuckDBConnection, source: Source, q: QualityConfig, freqSetting: 'auto' | 'day' | 'week', today: string): Promise<Ingested> {
  const c = source.columns;
  const asOf = q.asOf ?? today;
  const stockout = optionalCol(c, 'stockout');
  const promo = optionalCol(c, 'promo');
  const price = optionalCol(c, 'price');
  const flag = (col: string | null): string => (col ? `TRY_CAST(${col} AS BOOLEAN)` : 'NULL::BOOLEAN');
  const flagBad = (col: string | null, name: string): string =>
    col ? `WHEN ${col} IS NOT NULL AND trim(CAST(${col} AS VARCHAR)) <> '' AND TRY_CAST(${col} AS BOOLEAN) IS NULL THEN 'bad_flag:${name}'` : '';

  // Row-local rules. Raw text is not kept: rejected rows are joined back to `src` for reporting.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE checked AS
    WITH typed AS (
      SELECT src_row,
        NULLIF(trim(CAST(${sqlIdent(c.store_id)} AS VARCHAR)), '') AS store_id,
        NULLIF(trim(CAST(${sqlIdent(c.sku)} AS VARCHAR)), '') AS sku,
        COALESCE(TRY_CAST(${sqlIdent(c.date)} AS DATE), TRY_CAST(TRY_CAST(${sqlIdent(c.date)} AS TIMESTAMP) AS DATE)) AS d,
        TRY_CAST(${sqlIdent(c.units)} AS DOUBLE) AS u,
        COALESCE(${flag(stockout)}, false) AS stockout,
        ${flag(promo)} AS promo,
        ${price ? `TRY_CAST(${price} AS DOUBLE)` : 'NULL::DOUBLE'} AS price,
        ${stockout ?? 'NULL'} AS stockout_raw, ${promo ?? 'NULL'} AS promo_raw
      FROM src)
    SELECT src_row, store_id, sku, d, u, stockout, promo, price,
      CASE
        WHEN store_id IS NULL THEN 'missing_key:store_id'
        WHEN sku IS NULL THEN 'missing_key:sku'
        WHEN d IS NULL THEN 'bad_date:date'
        WHEN u IS NULL OR isnan(u) OR isinf(u) THEN 'bad_units:units'
        ${flagBad(stockout ? 'stockout_raw' : null, 'stockout')}
        ${flagBad(promo ? 'promo_raw' : null, 'promo')}
        ${q.futureDates === 'reject' ? `WHEN d > DATE ${sqlString(asOf)} THEN 'future_date:date'` : ''}
        ${q.negativeUnits === 'reject' ? `WHEN u < 0 THEN 'negative_units:units'` : ''}
      END AS rule
    FROM typed`);

  const read = await queryOne<{ n: number; ok: number }>(conn, `SELECT count(*)::INTEGER AS n, count(*) FILTER (rule IS NULL)::INTEGER AS ok FROM checked`);
  if (read.n === 0) throw new UserError(`input ${source.path}: no data rows`);
  if (read.ok === 0) throw new UserError(`input ${source.path}: none of the ${read.n} rows is usable (see rejects.csv for why: first rule hit ${await firstRule(conn)})`);

  const freq = await inferFrequency(conn, freqSetting, source.path);

  // Grid and duplicate rules need the whole accepted set. For weekly data, the grid is the
  // most common weekday: every target date keeps the input's weekday.
  const anchor = await queryOne<{ dow: number; first: string }>(conn, `
    SELECT mode(dayofweek(d))::INTEGER AS dow, strftime(min(d), '%Y-%m-%d') AS first FROM checked WHERE rule IS NULL`);
  const onGrid = freq.days === 7 ? `dayofweek(d) = ${anchor.dow}` : 'true';
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE graded AS
    SELECT * EXCLUDE (rule, first_row),
      CASE
        WHEN rule IS NOT NULL THEN rule
        WHEN NOT (${onGrid}) THEN 'off_grid_date:date'
        WHEN first_row <> src_row THEN ${q.duplicates === 'reject' ? `'duplicate:date'` : 'NULL'}
      END AS rule,
      CASE WHEN rule IS NULL AND (${onGrid}) AND first_row <> src_row THEN first_row END AS duplicate_of
    FROM (
      SELECT *, min(src_row) OVER (PARTITION BY store_id, sku, d, (rule IS NULL AND ${onGrid})) AS first_row FROM checked
    )`);
  await conn.run('DROP TABLE checked');

  const firstGrid = await queryOne<{ first: string | null; last: string | null }>(conn, `
    SELECT strftime(min(d), '%Y-%m-%d') AS first, strftime(max(d), '%Y-%m-%d') AS last FROM graded WHERE rule IS NULL`);
  if (!firstGrid.first || !firstGrid.last) throw new UserError(`input ${source.path}: no rows left after the data-quality rules (see rejects.csv)`);
  const first = firstGrid.first;
  const period = freq.days === 7 ? `date_diff('day', DATE ${sqlString(first)}, d) // 7` : `date_diff('day', DATE ${sqlString(first)}, d)`;
  const units = q.negativeUnits === 'zero' ? 'greatest(u, 0)' : 'u';

  // One row per (series, period), in series order, with a dense series id: the layout the
  // forecast reader streams without re-sorting.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE clean AS
    SELECT (dense_rank() OVER (ORDER BY store_id, sku) - 1)::INTEGER AS sid, store_id, sku,
      (${period})::INTEGER AS t, sum(${units}) AS u, bool_or(stockout) AS unobserved, bool_or(promo) AS promo, max(price) AS price,
      min(src_row) AS src_row
    FROM graded WHERE rule IS NULL
    GROUP BY store_id, sku, d
    ORDER BY sid, t`);

  const stats = await queryOne<{ series: number; last_t: number; rows: number; stockouts: number }>(conn, `
    SELECT count(DISTINCT sid)::INTEGER AS series, max(t)::INTEGER AS last_t, count(*)::INTEGER AS rows,
      count(*) FILTER (unobserved)::INTEGER AS stockouts FROM clean`);
  const gaps = await queryOne<{ periods: number; series: number }>(conn, `
    SELECT COALESCE(sum(missing), 0)::BIGINT::DOUBLE AS periods, count(*) FILTER (missing > 0)::INTEGER AS series
    FROM (SELECT ${stats.last_t} - min(t) + 1 - count(*) AS missing FROM clean GROUP BY sid)`);

  const counts = new Map((await queryRows<{ rule: string; n: number }>(conn, `
    SELECT split_part(rule, ':', 1) AS rule, count(*)::INTEGER AS n FROM graded WHERE rule IS NOT NULL GROUP BY 1`)).map((r) => [r.rule, r.n]));
  const soft = await queryOne<{ neg: number; future: number; dup: number }>(conn, `
    SELECT count(*) FILTER (rule IS NULL AND u < 0)::INTEGER AS neg,
           count(*) FILTER (rule IS NULL AND d > DATE ${sqlString(asOf)})::INTEGER AS future,
           count(*) FILTER (duplicate_of IS NOT NULL AND rule IS NULL)::INTEGER AS dup
    FROM graded`);
  const rejected = (name: RuleName): RuleCount => ({ rows: counts.get(name) ?? 0, action: 'rejected' });
  const rules: Record<RuleName, RuleCount> = {
    missing_key: rejected('missing_key'),
    bad_date: rejected('bad_date'),
    bad_units: rejected('bad_units'),
    bad_flag: rejected('bad_flag'),
    future_date: q.futureDates === 'reject' ? rejected('future_date') : { rows: soft.future, action: 'kept' },
    negative_units: q.negativeUnits === 'reject' ? rejected('negative_units') : { rows: soft.neg, action: q.negativeUnits === 'zero' ? 'set to 0' : 'kept' },
    off_grid_date: rejected('off_grid_date'),
    duplicate: q.duplicates === 'reject' ? rejected('duplicate') : { rows: soft.dup, action: 'summed into the first row' },
  };
  const rowsRejected = [...counts.values()].reduce((a, b) => a + b, 0);
  const lastDate = await queryOne<{ d: string }>(conn, `SELECT strftime(DATE ${sqlString(first)} + ${stats.last_t * freq.days}::INTEGER, '%Y-%m-%d') AS d`);
  const report: QualityReport = {
    source: source.path,
    format: source.format,
    rows_read: read.n,
    rows_accepted: read.n - rowsRejected,
    rows_rejected: rowsRejected,
    rules,
    gaps: { periods: Number(gaps.periods), series: gaps.series, action: q.gaps === 'zero' ? 'filled with 0' : 'treated as unobserved' },
    stockout_periods: stats.stockouts,
    frequency: freq,
    first_date: first,
    last_date: lastDate.d,
    series: stats.series,
  };
  return { report, freq, firstDate: first, lastT: stats.last_t, series: stats.series };
}

/** Why a run must stop before publishing, or null when the rejected share is acceptable. */
export function rejectShareProblem(r: QualityReport, maxShare: number): string | null {
  const share = r.rows_rejected / r.rows_read;
  if (share <= maxShare) return null;
  return `${r.rows_rejected} of ${r.rows_read} rows (${(100 * share).toFixed(1)}%) were rejected, above quality.maxRejectedShare = ${maxShare}`;
}

async function firstRule(conn: DuckDBConnection): Promise<string> {
  const r = await queryOne<{ rule: string }>(conn, `SELECT mode(rule) AS rule FROM checked`);
  return r.rule;
}

/** The human reason for each rule, with the offending value where there is one. */
const REASONS: Record<string, string> = {
  missing_key: `'missing ' || col`,
  bad_date: `'date ' || coalesce('"' || value || '"', 'is empty') || ' is not a date (expected YYYY-MM-DD)'`,
  bad_units: `'units ' || coalesce('"' || value || '"', 'is empty') || ' is not a finite number'`,
  bad_flag: `col || ' ' || coalesce('"' || value || '"', '') || ' is not 0/1'`,
  future_date: `'date ' || value || ' is after the as-of date'`,
  negative_units: `'negative units ' || value`,
  off_grid_date: `'date ' || value || ' is off the weekly grid (' || dayname(TRY_CAST(value AS DATE)) || ', other rows are ' || grid_day || 's)'`,
  duplicate: `'duplicate of ' || row_label || ' ' || duplicate_of`,
};

/** Write every rejected row, in source order, with its row number, column and reason. */
export async function writeRejects(conn: DuckDBConnection, source: Source, file: string): Promise<void> {
  const c = source.columns;
  const label = source.rowLabel;
  // CSV rows are reported as file lines: the header is line 1.
  const rowExpr = label === 'line' ? 'g.src_row + 1' : 'g.src_row';
  const dupExpr = label === 'line' ? 'g.duplicate_of + 1' : 'g.duplicate_of';
  const valueOf = `CASE split_part(g.rule, ':', 2) ${Object.entries(c).filter(([, v]) => v).map(([role, name]) => `WHEN '${role}' THEN CAST(s.${sqlIdent(name as string)} AS VARCHAR)`).join(' ')} END`;
  const reason = `CASE rule_name ${Object.entries(REASONS).map(([k, v]) => `WHEN '${k}' THEN ${v}`).join(' ')} END`;
  await conn.run(`
    COPY (
      WITH v AS (
        SELECT ${rowExpr} AS "${label}", split_part(g.rule, ':', 1) AS rule_name, split_part(g.rule, ':', 2) AS col,
          ${dupExpr} AS duplicate_of, '${label}' AS row_label, ${valueOf} AS value,
          (SELECT dayname(mode(d)) FROM graded WHERE rule IS NULL) AS grid_day,
          CAST(s.${sqlIdent(c.store_id)} AS VARCHAR) AS store_id, CAST(s.${sqlIdent(c.sku)} AS VARCHAR) AS sku,
          CAST(s.${sqlIdent(c.date)} AS VARCHAR) AS date, CAST(s.${sqlIdent(c.units)} AS VARCHAR) AS units
        FROM graded g JOIN src s USING (src_row) WHERE g.rule IS NOT NULL
      )
      SELECT ${sqlString(source.path)} AS file, "${label}", rule_name AS rule, col AS "column", ${reason} AS reason,
        store_id, sku, date, units
      FROM v ORDER BY "${label}"
    ) TO ${sqlString(file)} (HEADER, DELIMITER ',')`);
}
