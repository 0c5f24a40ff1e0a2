import { readFileSync } from 'node:fs';
import { UserError, errorMessage } from '../errors.js';
import { isIsoDate } from '../iso-date.js';

/**
 * Reads the small CSV files calendars are kept in: a header line, comma-separated fields
 * (double quotes allowed), `#` comment lines. Every problem names the file and the line.
 */
export interface CsvRecord {
  readonly line: number;
  readonly fields: Readonly<Record<string, string>>;
}

export function calendarError(file: string, line: number, reason: string): UserError {
  return new UserError(`calendar ${file}:${line}: ${reason}`);
}

function splitLine(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cur += '"'; i++; } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { out.push(cur.trim()); cur = ''; } else cur += ch;
  }
  out.push(cur.trim());
  return out;
}

export function readCsvFile(file: string, required: readonly string[], optional: readonly string[] = []): CsvRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`calendar ${file}: cannot read: ${errorMessage(e)}`);
  }
  const lines = text.split(/\r?\n/);
  let header: string[] | null = null;
  const records: CsvRecord[] = [];
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim() === '' || raw.startsWith('#')) return;
    const cells = splitLine(raw);
    if (!header) {
      header = cells;
      const missing = required.filter((c) => !cells.includes(c));
      if (missing.length) throw calendarError(file, line, `missing column ${missing.map((c) => `"${c}"`).join(', ')}; expected ${[...required, ...optional].join(',')}`);
      const unknown = cells.filter((c) => !required.includes(c) && !optional.includes(c));
      if (unknown.length) throw calendarError(file, line, `unknown column ${unknown.map((c) => `"${c}"`).join(', ')}; expected ${[...required, ...optional].join(',')}`);
      return;
    }
    const h: string[] = header;
    if (cells.length !== h.length) throw calendarError(file, line, `${cells.length} fields, the header has ${h.length}`);
    records.push({ line, fields: Object.fromEntries(h.map((c, k) => [c, cells[k]])) });
  });
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
