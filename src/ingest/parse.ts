import type { DuckDBConnection } from '@duckdb/node-api';
import type { InputConfig } from '../config/schema.js';
import { UserError, errorMessage } from '../errors.js';
import { queryOne, sqlIdent, sqlString } from '../db/duckdb.js';
import type { RegisteredSource } from './source.js';

/**
 * How a source's cells become a calendar date and a number: the SQL expressions the row rules
 * use, chosen once per source from its column types and settings.
 */
export interface CellParsers {
  /** DATE expression of the date column (NULL where it is not a date). */
  readonly date: string;
  /** DOUBLE expression of the units column (NULL where it is not a number). */
  readonly units: string;
  /** How dates were read, for quality.json. */
  readonly dateRule: string;
}

/**
 * A date is the calendar date where the sale happened. Text and zone-less timestamps carry it
 * as written (`2024-05-01T00:00:00+02:00` is 1 May). A TIMESTAMPTZ is an instant: it becomes
 * the date it has in `input.timezone`; without one, a column whose values all fall at one or
 * two times of day (a daily export at local midnight, with or without daylight saving) is
 * read as local midnights, which is rounding to the nearest UTC midnight for any zone within
 * ±12 h; any other column is read in UTC.
 */
export async function dateParser(conn: DuckDBConnection, source: RegisteredSource, input: Pick<InputConfig, 'timezone' | 'csv'>): Promise<{ expr: string; rule: string }> {
  const timezone = input.timezone;
  const col = sqlIdent(source.columns.date);
  const type = source.types[source.columns.date] ?? 'VARCHAR';
  const format = input.csv.dateFormat;
  if (format !== undefined && source.format === 'csv') {
    // A format DuckDB cannot parse fails the query, not the row: check it once, by name.
    try {
      await conn.run(`SELECT try_strptime('', ${sqlString(format)})`);
    } catch (e) {
      throw new UserError(`config: input.csv.dateFormat = ${JSON.stringify(format)}: ${errorMessage(e).split('\n')[0].replace(/^Invalid Input Error: /, '')}`);
    }
    return { expr: `CAST(try_strptime(trim(${col}), ${sqlString(format)}) AS DATE)`, rule: `calendar dates as written, read as ${format} (input.csv.dateFormat)` };
  }
  if (type !== 'TIMESTAMP WITH TIME ZONE') {
    return { expr: `COALESCE(TRY_CAST(${col} AS DATE), TRY_CAST(TRY_CAST(${col} AS TIMESTAMP) AS DATE))`, rule: 'calendar dates as written' };
  }
  if (timezone) return { expr: `CAST(timezone(${sqlString(timezone)}, ${col}) AS DATE)`, rule: `instants read as dates in ${timezone} (input.timezone)` };
  const r = await queryOne<{ times: number; first: string | null }>(conn, `
    SELECT count(DISTINCT strftime(${col}, '%H:%M:%S'))::INTEGER AS times, min(strftime(${col}, '%H:%M')) AS first FROM src WHERE ${col} IS NOT NULL`);
  if (r.times <= 2 && r.first !== null) {
    return { expr: `CAST(${col} + INTERVAL 12 HOUR AS DATE)`, rule: `instants all at ${r.first} UTC${r.times === 2 ? ' (±1 h)' : ''}, read as local midnights (set input.timezone to be explicit)` };
  }
  return { expr: `CAST(${col} AS DATE)`, rule: 'instants read as dates in UTC (set input.timezone to the stores\' zone)' };
}

/**
 * The units expression. CSV text is read with the configured decimal mark and thousands
 * separator. Without them, a file whose only decimals are exactly three digits long and that
 * writes no number of 1,000 or more ungrouped ("1.500", "12.000", never "1500" or "2.25") is
 * a European export with "." grouping thousands: reading it as 1.5 would shrink every sale
 * a thousandfold, so the run stops and asks.
 */
export async function unitsParser(conn: DuckDBConnection, source: RegisteredSource, csv: InputConfig['csv']): Promise<string> {
  const col = sqlIdent(source.columns.units);
  if (source.format !== 'csv') return `TRY_CAST(${col} AS DOUBLE)`;
  const decimal = csv.decimal ?? '.';
  const thousands = csv.thousands ?? '';
  if (csv.decimal === undefined && csv.thousands === undefined) await assertNotGroupedThousands(conn, source);
  let text = `trim(${col})`;
  if (thousands !== '') text = `replace(${text}, ${sqlString(thousands)}, '')`;
  if (decimal !== '.') text = `replace(${text}, ${sqlString(decimal)}, '.')`;
  return `TRY_CAST(${text} AS DOUBLE)`;
}

async function assertNotGroupedThousands(conn: DuckDBConnection, source: RegisteredSource): Promise<void> {
  const col = `trim(${sqlIdent(source.columns.units)})`;
  const r = await queryOne<{ grouped: number; decimals: number; big: number; example: string | null; row: number | null }>(conn, `
    SELECT count(*) FILTER (g)::INTEGER AS grouped,
      count(*) FILTER (NOT g AND regexp_full_match(v, '-?[0-9]*\\.[0-9]+'))::INTEGER AS decimals,
      count(*) FILTER (regexp_full_match(v, '-?[0-9]{4,}(\\.[0-9]*)?'))::INTEGER AS big,
      min(v) FILTER (g) AS example, min(src_row) FILTER (g)::INTEGER AS row
    FROM (SELECT src_row, ${col} AS v, regexp_full_match(${col}, '-?[0-9]{1,3}(\\.[0-9]{3})+') AS g FROM src WHERE ${col} LIKE '%.%' OR regexp_full_match(${col}, '-?[0-9]{4,}'))`);
  if (r.grouped > 0 && r.decimals === 0 && r.big === 0) {
    const where = source.rowLabel === 'line' ? `line ${(r.row ?? 0) + 1}` : `row ${r.row}`;
    throw new UserError(
      `input ${source.path}: units such as "${r.example}" (${where}) look like "." thousands separators, and no unit has another number of decimals; ` +
      `set input.csv.thousands to "." (with decimal ",") if they are, or input.csv.decimal to "." if "${r.example}" means ${Number(r.example)}`,
    );
  }
}
