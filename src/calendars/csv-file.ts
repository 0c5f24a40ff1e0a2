import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { UserError, errorMessage } from '../errors.js';
import { isIsoDate } from '../iso-date.js';

/**
 * Reads the small CSV files calendars are kept in (csv-parse): a header line, comma-separated
 * fields (double quotes allowed, padding trimmed), `#` comment lines. Every problem names the
 * file and the line.
 */
export interface CsvRecord {
  readonly line: number;
  readonly fields: Readonly<Record<string, string>>;
}

export function calendarError(file: string, line: number, reason: string): UserError {
  return new UserError(`calendar ${file}:${line}: ${reason}`);
}

export function readCsvFile(file: string, required: readonly string[], optional: readonly string[] = []): CsvRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`calendar ${file}: cannot read: ${errorMessage(e)}`);
  }
  let rows: { record: string[]; info: { lines: number } }[];
  try {
    rows = parse(text, { comment: '#', comment_no_infix: true, trim: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as typeof rows;
  } catch (e) {
    throw calendarError(file, (e as { lines?: number }).lines ?? 1, errorMessage(e).replace(/^Invalid (Record|Opening Quote|Closing Quote)[^:]*: /, ''));
  }
  let header: string[] | null = null;
  const records: CsvRecord[] = [];
  for (const { record: cells, info } of rows) {
    const line = info.lines;
    if (cells.length === 1 && cells[0] === '') continue;
    if (!header) {
      header = cells;
      const missing = required.filter((c) => !cells.includes(c));
      if (missing.length) throw calendarError(file, line, `missing column ${missing.map((c) => `"${c}"`).join(', ')}; expected ${[...required, ...optional].join(',')}`);
      const unknown = cells.filter((c) => !required.includes(c) && !optional.includes(c));
      if (unknown.length) throw calendarError(file, line, `unknown column ${unknown.map((c) => `"${c}"`).join(', ')}; expected ${[...required, ...optional].join(',')}`);
      continue;
    }
    if (cells.length !== header.length) throw calendarError(file, line, `${cells.length} fields, the header has ${header.length}`);
    const h = header;
    records.push({ line, fields: Object.fromEntries(h.map((c, k) => [c, cells[k]])) });
  }
  if (!header) throw calendarError(file, 1, 'empty file (expected a header line)');
  return records;
}

/** A valid ISO date (YYYY-MM-DD that exists), or a calendar error naming the file and line. */
export function isoDateField(file: string, rec: CsvRecord, column: string): string {
  const v = rec.fields[column] ?? '';
  if (!isIsoDate(v)) throw calendarError(file, rec.line, `${column} "${v}" is not a date (expected YYYY-MM-DD)`);
  return v;
}

/** A whole number in [min, max], or a calendar error. Empty → `fallback`. */
export function intField(file: string, rec: CsvRecord, column: string, min: number, max: number, fallback: number): number {
  const v = rec.fields[column] ?? '';
  if (v === '') return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw calendarError(file, rec.line, `${column} "${v}" must be a whole number from ${min} to ${max}`);
  return n;
}
