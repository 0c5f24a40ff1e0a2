import { calendarError, readCsvFile } from './csv-file.js';
import { nonEmpty, type Location } from './catalog.js';

/**
 * The items table (config `items`, else `calendars.items`): per SKU its category and
 * department (the hierarchy's levels), its lead time or supplier (lead-time demand) and pack
 * size (profiles that round to packs). Only `sku` is required.
 */
export interface ItemRow {
  readonly category?: string;
  readonly department?: string;
  readonly leadTimeDays?: number;
  readonly supplier?: string;
  readonly packSize?: number;
}

export function readItemTable(file: string): Map<string, ItemRow> {
  const out = new Map<string, ItemRow>();
  for (const r of readCsvFile(file, ['sku'], ['category', 'department', 'lead_time_days', 'supplier', 'pack_size'])) {
    const sku = nonEmpty(file, r.line, 'sku', r.fields.sku);
    if (out.has(sku)) throw calendarError(file, r.line, `sku "${sku}" is listed twice`);
    const num = (col: string, min: number): number | undefined => {
      const v = r.fields[col];
      if (v === undefined || v === '') return undefined;
      const x = Number(v);
      if (!Number.isFinite(x) || x < min) throw calendarError(file, r.line, `${col} "${v}" is not a number of at least ${min}`);
      return x;
    };
    const lead = num('lead_time_days', 1);
    if (lead !== undefined && !Number.isInteger(lead)) throw calendarError(file, r.line, `lead_time_days "${r.fields.lead_time_days}" is not a whole number of days`);
    const pack = num('pack_size', 0);
    if (pack === 0) throw calendarError(file, r.line, 'pack_size 0: a pack holds at least one unit (give a positive number)');
    out.set(sku, {
      ...(r.fields.category ? { category: r.fields.category } : {}),
      ...(r.fields.department ? { department: r.fields.department } : {}),
      ...(lead !== undefined ? { leadTimeDays: lead } : {}),
      ...(r.fields.supplier ? { supplier: r.fields.supplier } : {}),
      ...(pack !== undefined ? { packSize: pack } : {}),
    });
  }
  return out;
}

export type { Location };
