import type { DuckDBConnection } from '@duckdb/node-api';
import type { QualityConfig } from '../config/schema.js';
import { UserError } from '../errors.js';
import { queryOne, queryRows, sqlIdent, sqlString } from '../db/duckdb.js';
import type { Source } from './source.js';
import { inferFrequency, type Frequency } from './frequency.js';
import { sqlCsvText } from '../publish/csv-sql.js';
import { publishedName } from '../publish/published-paths.js';

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

  // 1. Series ids first: the distinct (store, SKU) pairs, numbered in order. Every later table
  //    carries the integer id instead of two strings per row.
  // CSV fields are trimmed (exports pad them); typed sources are taken as they are.
  const key = (col: string): string => (source.format === 'csv' ? `NULLIF(trim(${sqlIdent(col)}), '')` : `NULLIF(CAST(${sqlIdent(col)} AS VARCHAR), '')`);
  const storeExpr = key(c.store_id);
  const skuExpr = key(c.sku);
  await conn.run(`CREATE OR REPLACE TEMP TABLE series AS
    SELECT (row_number() OVER (ORDER BY store_id, sku) - 1)::INTEGER AS sid, store_id, sku
    FROM (SELECT DISTINCT ${storeExpr} AS store_id, ${skuExpr} AS sku FROM src) WHERE store_id IS NOT NULL AND sku IS NOT NULL`);

  // 2. Row-local rules in one parallel pass, keyed by series id. Raw text is not kept:
  //    rejected rows are joined back to `src` for reporting.
  await conn.run(`
    CREATE OR REPLACE TEMP TABLE checked AS
    WITH typed AS (
      SELECT src_row, ${storeExpr} AS store_id, ${skuExpr} AS sku,
        COALESCE(TRY_CAST(${sqlIdent(c.date)} AS DATE), TRY_CAST(TRY_CAST(${sqlIdent(c.date)} AS TIMESTAMP) AS DATE)) AS d,
        TRY_CAST(${sqlIdent(c.units)} AS DOUBLE) AS u,
        COALESCE(${flag(stockout)}, false) AS stockout,
        ${flag(promo)} AS promo,
        ${price ? `TRY_CAST(${price} AS DOUBLE)` : 'NULL::DOUBLE'} AS price,
        ${stockout ?? 'NULL'} AS stockout_raw, ${promo ?? 'NULL'} AS promo_raw
      FROM src)
    SELECT src_row, s.sid, d, (d - DATE '1970-01-01')::INTEGER AS day, u, stockout, promo, price,
      CASE
        WHEN typed.store_id IS NULL THEN 'missing_key:store_id'
        WHEN typed.sku IS NULL THEN 'missing_key:sku'
        WHEN d IS NULL THEN 'bad_date:date'
        WHEN u IS NULL OR isnan(u) OR isinf(u) THEN 'bad_units:units'
        ${flagBad(stockout ? 'stockout_raw' : null, 'stockout')}
        ${flagBad(promo ? 'promo_raw' : null, 'promo')}
        ${q.futureDates === 'reject' ? `WHEN d > DATE ${sqlString(asOf)} THEN 'future_date:date'` : ''}
        ${q.negativeUnits === 'reject' ? `WHEN u < 0 THEN 'negative_units:units'` : ''}
      END AS rule
    FROM typed LEFT JOIN series s USING (store_id, sku)`);

  const read = await queryOne<{ n: number; ok: number }>(conn, `SELECT count(*)::INTEGER AS n, count(*) FILTER (rule IS NULL)::INTEGER AS ok FROM checked`);
  if (read.n === 0) throw new UserError(`input ${source.path}: no data rows`);
  if (read.ok === 0) throw new UserError(`input ${source.path}: none of the ${read.n} rows is usable (see rejects.csv for why: first rule hit ${await firstRule(conn)})`);

  const freq = await inferFrequency(conn, freqSetting, source.path, read.n > 1_000_000);

  // 3. The period grid. For weekly data it is the most common weekday: every target date
  //    keeps the input's weekday, and a row on another weekday is off the grid.
  const anchor = await queryOne<{ dow: number }>(conn, `SELECT mode(dayofweek(d))::INTEGER AS dow FROM checked WHERE rule IS NULL`);
  const onGrid = freq.days === 7 ? `dayofweek(d) = ${anchor.dow}` : 'true';
  const span = await queryOne<{ first: string | null; last: string | null }>(conn, `
    SELECT strftime(min(d), '%Y-%m-%d') AS first, strftime(max(d), '%Y-%m-%d') AS last FROM checked WHERE rule IS NULL AND ${onGrid}`);
  if (!span.first || !span.last) throw new UserError(`input ${source.path}: no rows left after the data-quality rules (see rejects.csv)`);
  const first = span.first;
  const step = freq.days;
  const firstDay = (await queryOne<{ d: number }>(conn, `SELECT (DATE ${sqlString(first)} - DATE '1970-01-01')::INTEGER AS d`)).d;
  const accepted = `rule IS NULL AND ${onGrid}`;

  // 4. Duplicates: a (series, period) with more than one row. A full GROUP BY over every row
  //    is the slowest step of an ingest, so it runs only on candidate series: those whose row
  //    count, or the first three power sums of their periods, differ from those of a complete
  //    run of periods between their first and last. A series that matches all four has
  //    exactly one row per period unless its duplicates and gaps solve a Prouhet–Tarry–Escott
  //    system; the series reader still checks every period is strictly increasing, so such
  //    a case would stop the run rather than pass silently.
  // Power sums of period indices k, shifted to each series' first period m:
  //   Σ(k−m) = S1 − n·m,  Σ(k−m)² = S2 − 2m·S1 + n·m²,  Σ(k−m)³ = S3 − 3m·S2 + 3m²·S1 − n·m³.
  await conn.run(`CREATE OR REPLACE TEMP TABLE dup_candidates AS
    WITH k AS (SELECT sid, ((day - ${firstDay}) // ${step})::DOUBLE AS k FROM checked WHERE ${accepted}),
    a AS (SELECT sid, count(*)::DOUBLE AS n, min(k) AS m, max(k) - min(k) + 1 AS len, sum(k) AS s1, sum(k * k) AS s2, sum(k * k * k) AS s3 FROM k GROUP BY sid)
    SELECT sid FROM a
    WHERE n <> len
       OR s1 - n * m <> len * (len - 1) / 2
       OR s2 - 2 * m * s1 + n * m * m <> (len - 1) * len * (2 * len - 1) / 6
       OR s3 - 3 * m * s2 + 3 * m * m * s1 - n * m * m * m <> (len * (len - 1) / 2) * (len * (len - 1) / 2)`);
  await conn.run(`CREATE OR REPLACE TEMP TABLE dups AS
    SELECT sid, day, min(src_row) AS first_row, count(*)::INTEGER AS n
    FROM checked WHERE ${accepted} AND sid IN (SELECT sid FROM dup_candidates) GROUP BY sid, day HAVING count(*) > 1`);
  const dupRows = (await queryOne<{ n: number }>(conn, `SELECT COALESCE(sum(n - 1), 0)::INTEGER AS n FROM dups`)).n;

  // 5. The clean table, in series order, keyed by (sid, t) with no strings: what the forecast
  //    reader streams.
  const t = `((day - ${firstDay}) // ${step})::INTEGER AS t`;
  const units = q.negativeUnits === 'zero' ? 'greatest(u, 0)' : 'u';
  if (dupRows === 0 || q.duplicates === 'reject') {
    const keep = dupRows === 0 ? '' : `AND NOT EXISTS (SELECT 1 FROM dups x WHERE x.sid = checked.sid AND x.day = checked.day AND x.first_row <> checked.src_row)`;
    await conn.run(`CREATE OR REPLACE TEMP TABLE clean AS
      SELECT sid, ${t}, ${units} AS u, stockout AS unobserved, promo, price, src_row FROM checked WHERE ${accepted} ${keep} ORDER BY sid, t`);
  } else {
    await conn.run(`CREATE OR REPLACE TEMP TABLE clean AS
      SELECT sid, ${t}, sum(${units}) AS u, bool_or(stockout) AS unobserved, bool_or(promo) AS promo, max(price) AS price, min(src_row) AS src_row
      FROM checked WHERE ${accepted} GROUP BY sid, day ORDER BY sid, t`);
  }
  await conn.run(`CREATE OR REPLACE TEMP VIEW clean_keyed AS SELECT s.store_id, s.sku, c.* FROM clean c JOIN series s USING (sid)`);

  // 6. Every rejected row with its rule (and, for duplicates, the row it repeats).
  await conn.run(`CREATE OR REPLACE TEMP TABLE rejected AS
    SELECT src_row, rule, NULL::BIGINT AS duplicate_of FROM checked WHERE rule IS NOT NULL
    UNION ALL SELECT src_row, 'off_grid_date:date', NULL FROM checked WHERE rule IS NULL AND NOT (${onGrid})
    ${q.duplicates === 'reject' && dupRows > 0 ? `UNION ALL SELECT c.src_row, 'duplicate:date', x.first_row FROM checked c JOIN dups x USING (sid, day) WHERE ${accepted.replaceAll('rule', 'c.rule')} AND c.src_row <> x.first_row` : ''}`);
  const counts = new Map((await queryRows<{ rule: string; n: number }>(conn, `
    SELECT split_part(rule, ':', 1) AS rule, count(*)::INTEGER AS n FROM rejected GROUP BY 1`)).map((r) => [r.rule, r.n]));
  const negative = (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM checked WHERE ${accepted} AND u < 0`)).n;
  const future = q.futureDates === 'keep' ? (await queryOne<{ n: number }>(conn, `SELECT count(*)::INTEGER AS n FROM checked WHERE rule IS NULL AND d > DATE ${sqlString(asOf)}`)).n : 0;
  await conn.run(`CREATE OR REPLACE TEMP TABLE grid AS SELECT '${first}'::DATE AS first_date, (SELECT dayname(DATE '2024-01-07' + ${anchor.dow})) AS grid_day`);
  await conn.run('DROP TABLE checked');

  const stats = await queryOne<{ series: number; last_t: number; stockouts: number }>(conn, `
    SELECT (SELECT count(*) FROM series)::INTEGER AS series, max(t)::INTEGER AS last_t, count(*) FILTER (unobserved)::INTEGER AS stockouts FROM clean`);
  const gaps = await queryOne<{ periods: number; series: number }>(conn, `
    SELECT COALESCE(sum(missing), 0)::BIGINT::DOUBLE AS periods, count(*) FILTER (missing > 0)::INTEGER AS series
    FROM (SELECT ${stats.last_t} - min(t) + 1 - count(*) AS missing FROM clean GROUP BY sid)`);
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
  };
  const rowsRejected = [...counts.values()].reduce((a, b) => a + b, 0);
  const lastDate = await queryOne<{ d: string }>(conn, `SELECT strftime(DATE ${sqlString(first)} + ${stats.last_t * freq.days}::INTEGER, '%Y-%m-%d') AS d`);
  const report: QualityReport = {
    source: publishedName(source.path),
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
          (SELECT grid_day FROM grid) AS grid_day,
          CAST(s.${sqlIdent(c.store_id)} AS VARCHAR) AS store_id, CAST(s.${sqlIdent(c.sku)} AS VARCHAR) AS sku,
          CAST(s.${sqlIdent(c.date)} AS VARCHAR) AS date, CAST(s.${sqlIdent(c.units)} AS VARCHAR) AS units
        FROM rejected g JOIN src s USING (src_row)
      )
      SELECT ${sqlString(publishedName(source.path))} AS file, "${label}", rule_name AS rule, col AS "column", ${sqlCsvText(reason)} AS reason,
        ${['store_id', 'sku', 'date', 'units'].map((col) => `${sqlCsvText(col)} AS ${col}`).join(', ')}
      FROM v ORDER BY "${label}"
    ) TO ${sqlString(file)} (HEADER, DELIMITER ',')`);
}
