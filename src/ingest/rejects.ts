import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdent, sqlString } from '../db/duckdb.js';
import type { RegisteredSource } from './source.js';
import { sqlCsvText } from '../publish/csv-sql.js';
import { publishedName } from '../publish/published-paths.js';

/**
 * rejects.csv: every source row the quality rules rejected or changed, in source order, with
 * its row number, the rule, what was done (rejected, set to 0, capped…), a human reason and
 * the row's key values. Reads the tables `rejected` and `corrected`
 * (src_row, rule 'name:column', duplicate_of, detail, action) and `grid`.
 */

/** The human reason for each rule, with the offending value where there is one. */
const REASONS: Record<string, string> = {
  missing_key: `'missing ' || col`,
  bad_date: `'date ' || coalesce('"' || value || '"', 'is empty') || ' is not a date (expected ' || expected_date || ')'`,
  bad_units: `'units ' || coalesce('"' || value || '"', 'is empty') || ' is not a finite number of at most 1e15'`,
  bad_flag: `col || ' ' || coalesce('"' || value || '"', '') || ' is not 0/1'`,
  future_date: `'date ' || value || ' is after the as-of date'`,
  negative_units: `'negative units ' || value`,
  off_grid_date: `'date ' || value || ' is off the weekly grid (' || dayname(TRY_CAST(value AS DATE)) || ', other rows are ' || grid_day || 's)'`,
  duplicate: `'duplicate of ' || row_label || ' ' || duplicate_of`,
  after_end: `'date ' || value || ' is after the data''s end ' || end_date || ' (the last date most series or most sales reach); held back until the others catch up'`,
  outlier: `'units ' || value || ' are more than ' || factor || ' times the series'' usual highs (' || round(detail / factor, 4) || ')'`,
};

export async function writeRejects(conn: DuckDBConnection, source: RegisteredSource, file: string): Promise<void> {
  const c = source.columns;
  const label = source.rowLabel;
  // CSV rows are reported as file lines: the header is line 1.
  const line = (x: string): string => (label === 'line' ? `${x} + 1` : x);
  const valueOf = `CASE split_part(g.rule, ':', 2) ${Object.entries(c).filter(([, v]) => v).map(([role, name]) => `WHEN '${role}' THEN CAST(s.${sqlIdent(name as string)} AS VARCHAR)`).join(' ')} END`;
  const reason = `CASE rule_name ${Object.entries(REASONS).map(([k, v]) => `WHEN '${k}' THEN ${v}`).join(' ')} END`;
  await conn.run(`
    COPY (
      WITH g AS (SELECT * FROM rejected UNION ALL SELECT * FROM corrected),
      v AS (
        SELECT ${line('g.src_row')} AS "${label}", split_part(g.rule, ':', 1) AS rule_name, split_part(g.rule, ':', 2) AS col,
          ${line('g.duplicate_of')} AS duplicate_of, '${label}' AS row_label, ${valueOf} AS value, g.detail, g.action,
          grid.grid_day, grid.end_date, grid.outlier_factor AS factor, ${sqlString(source.dateFormat ?? 'YYYY-MM-DD')} AS expected_date,
          CAST(s.${sqlIdent(c.store_id)} AS VARCHAR) AS store_id, CAST(s.${sqlIdent(c.sku)} AS VARCHAR) AS sku,
          CAST(s.${sqlIdent(c.date)} AS VARCHAR) AS date, CAST(s.${sqlIdent(c.units)} AS VARCHAR) AS units
        FROM g JOIN src s USING (src_row), grid
      )
      SELECT ${sqlString(publishedName(source.path))} AS file, "${label}", rule_name AS rule, col AS "column", action, ${sqlCsvText(reason)} AS reason,
        ${['store_id', 'sku', 'date', 'units'].map((col) => `${sqlCsvText(col)} AS ${col}`).join(', ')}
      FROM v ORDER BY "${label}"
    ) TO ${sqlString(file)} (HEADER, DELIMITER ',')`);
}
