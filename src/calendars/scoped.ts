import { calendarError, intField, isoDateField, readCsvFile } from './csv-file.js';
import { nonEmpty, type CalendarEvent, type EventKind, type Location } from './catalog.js';

/**
 * The user's calendars: where each store is, their own events and promotions (scoped to a
 * store, a SKU, a category, or everything), and which category each SKU belongs to.
 */

/** store_id,country[,region] → where each store is; stores not listed get the default. */
export function readStores(file: string): Map<string, Location> {
  const out = new Map<string, Location>();
  for (const r of readCsvFile(file, ['store_id', 'country'], ['region'])) {
    const store = nonEmpty(file, r.line, 'store_id', r.fields.store_id);
    const country = nonEmpty(file, r.line, 'country', r.fields.country).toUpperCase();
    if (!/^[A-Z]{2}$/.test(country)) throw calendarError(file, r.line, `country "${r.fields.country}" is not a two-letter ISO code`);
    if (out.has(store)) throw calendarError(file, r.line, `store_id "${store}" is listed twice`);
    const region = r.fields.region ? r.fields.region.toUpperCase() : undefined;
    out.set(store, region ? { country, region } : { country });
  }
  return out;
}

/** sku,category → category of each SKU. */
export function readItems(file: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const r of readCsvFile(file, ['sku', 'category'], ['department'])) out.set(nonEmpty(file, r.line, 'sku', r.fields.sku), nonEmpty(file, r.line, 'category', r.fields.category));
  return out;
}

export interface ScopedEvent extends CalendarEvent {
  readonly store?: string;
  readonly sku?: string;
  readonly category?: string;
}

/**
 * User events and promotions: name,start,end[,kind,store_id,sku,category]. A row spans its
 * whole date range (both ends included); an empty scope column matches everything.
 */
export function readUserEvents(file: string, items: Map<string, string> | null): ScopedEvent[] {
  const out: ScopedEvent[] = [];
  for (const r of readCsvFile(file, ['name', 'start', 'end'], ['kind', 'store_id', 'sku', 'category', 'before', 'after'])) {
    const name = nonEmpty(file, r.line, 'name', r.fields.name);
    const start = isoDateField(file, r, 'start');
    const end = isoDateField(file, r, 'end');
    if (end < start) throw calendarError(file, r.line, `end ${end} is before start ${start}`);
    const days = Math.round((Date.parse(end) - Date.parse(start)) / 86400000);
    if (days > 366) throw calendarError(file, r.line, `spans ${days + 1} days; an event or promotion lasts at most a year`);
    const kind = (r.fields.kind || 'event') as EventKind;
    if (kind !== 'event' && kind !== 'promo' && kind !== 'closed') throw calendarError(file, r.line, `kind "${r.fields.kind}" must be event, promo or closed`);
    if (r.fields.category && !items) throw calendarError(file, r.line, 'category scope needs an items table (calendars.items: sku,category)');
    // The window covers the whole range: the date is the start, `after` stretches to the end.
    out.push({
      date: start,
      name,
      kind,
      before: intField(file, r, 'before', 0, 60, 0),
      after: days + intField(file, r, 'after', 0, 60, 0),
      span: days,
      ...(r.fields.store_id ? { store: r.fields.store_id } : {}),
      ...(r.fields.sku ? { sku: r.fields.sku } : {}),
      ...(r.fields.category ? { category: r.fields.category } : {}),
    });
  }
  return out;
}

export function appliesTo(e: ScopedEvent, store: string, sku: string, items: Map<string, string> | null): boolean {
  if (e.store !== undefined && e.store !== store) return false;
  if (e.sku !== undefined && e.sku !== sku) return false;
  if (e.category !== undefined && items?.get(sku) !== e.category) return false;
  return true;
}
