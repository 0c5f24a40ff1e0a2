import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CalendarsConfig } from '../config/schema.js';
import { availableCountries, CalendarCatalog, fileDigest, shippedCalendarDir, type CalendarEvent, type Location } from './catalog.js';
import { readCsvFile } from './csv-file.js';
import { readItems, readStores, readUserEvents } from './scoped.js';
import { isoAddDays } from '../ingest/dates.js';

/** What `shelfcast calendars list` answers: each country's files, their digests and date span. */
export interface CalendarList {
  readonly dir: string;
  readonly calendars: { country: string; file: string; entries: number; from: string | null; to: string | null; sha256: string }[];
  readonly files: { role: 'stores' | 'items' | 'events'; path: string; sha256: string | null }[];
  readonly default_location: { country: string; region: string | null };
}

export function calendarList(cfg: CalendarsConfig): CalendarList {
  const dir = resolve(cfg.dir ?? shippedCalendarDir());
  const calendars: CalendarList['calendars'] = [];
  for (const cc of availableCountries(dir)) {
    for (const sub of ['holidays', 'events']) {
      const file = join(dir, sub, `${cc}.csv`);
      const recs = readCsvFile(file, ['date', 'name'], ['regions', 'before', 'after']);
      const dates = recs.map((r) => r.fields.date).sort();
      calendars.push({ country: cc, file: `${sub}/${cc}.csv`, entries: recs.length, from: dates[0] ?? null, to: dates[dates.length - 1] ?? null, sha256: fileDigest(file) });
    }
  }
  const files: CalendarList['files'] = [];
  for (const [role, path] of [['stores', cfg.stores], ['items', cfg.items], ['events', cfg.events]] as const) {
    if (path) files.push({ role, path: resolve(path), sha256: existsSync(path) ? fileDigest(path) : null });
  }
  return { dir, calendars, files, default_location: { country: cfg.country, region: cfg.region ?? null } };
}

/** What `shelfcast calendars list` prints. */
export function listCalendars(cfg: CalendarsConfig): string {
  const l = calendarList(cfg);
  const lines = [`calendars in ${l.dir}`, `${'country'.padEnd(8)}${'file'.padEnd(22)}${'entries'.padStart(8)}  ${'from'.padEnd(11)}${'to'.padEnd(11)}sha256`];
  for (const c of l.calendars) lines.push(`${c.country.padEnd(8)}${c.file.padEnd(22)}${String(c.entries).padStart(8)}  ${(c.from ?? '').padEnd(11)}${(c.to ?? '').padEnd(11)}${c.sha256.slice(0, 16)}`);
  for (const f of l.files) lines.push(`${f.role}: ${f.path} (${f.sha256 ?? 'missing'})`);
  lines.push(`stores not in a stores table follow ${cfg.country}${cfg.region ? `-${cfg.region}` : ''}`);
  return lines.join('\n');
}

/** What `shelfcast calendars show` answers: the location of a store and every event it gets in a date range. */
export interface StoreCalendar {
  readonly store: string;
  readonly sku: string | null;
  readonly location: { country: string; region: string | null };
  /** False when the store is not in the stores table and follows the default location. */
  readonly listed: boolean;
  readonly from: string;
  readonly to: string;
  readonly events: { date: string; kind: string; name: string; window: { from: string; to: string } | null; scope: string | null }[];
}

export function storeCalendar(cfg: CalendarsConfig, store: string, from: string, to: string, sku?: string): StoreCalendar {
  const stores = cfg.stores ? readStores(resolve(cfg.stores)) : new Map<string, Location>();
  const listed = stores.get(store);
  const loc: Location = listed ?? (cfg.region ? { country: cfg.country, region: cfg.region } : { country: cfg.country });
  const window = cfg.holidayWindow ?? { before: 1, after: 1 };
  const catalog = new CalendarCatalog(resolve(cfg.dir ?? shippedCalendarDir()), window);
  const items = cfg.items ? readItems(resolve(cfg.items)) : null;
  const user = cfg.events ? readUserEvents(resolve(cfg.events), items) : [];
  const mine = user.filter((e) => (e.store === undefined || e.store === store) && (sku === undefined ? e.sku === undefined : e.sku === undefined || e.sku === sku));
  const events: (CalendarEvent & { scope?: string })[] = [...catalog.forLocation(loc), ...mine.map((e) => ({ ...e, scope: [e.store, e.sku, e.category].filter(Boolean).join('/') || 'all' }))]
    .filter((e) => e.date <= to && isoAddDays(e.date, e.after) >= from)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  return {
    store, sku: sku ?? null, location: { country: loc.country, region: loc.region ?? null }, listed: listed !== undefined, from, to,
    events: events.map((e) => ({ date: e.date, kind: e.kind, name: e.name, window: e.before || e.after ? { from: isoAddDays(e.date, -e.before), to: isoAddDays(e.date, e.after) } : null, scope: e.scope ?? null })),
  };
}

/** What `shelfcast calendars show` prints. */
export function showStoreCalendar(cfg: CalendarsConfig, store: string, from: string, to: string, sku?: string): string {
  const c = storeCalendar(cfg, store, from, to, sku);
  const where = `${c.location.country}${c.location.region ? `-${c.location.region}` : ''}`;
  const lines = [`store ${store}${sku ? ` sku ${sku}` : ''}: ${where}${c.listed ? '' : ' (default location: not in the stores table)'}; ${from} to ${to}`];
  for (const e of c.events) {
    const span = e.window ? ` (window ${e.window.from} to ${e.window.to})` : '';
    lines.push(`  ${e.date}  ${e.kind.padEnd(8)} ${e.name}${span}${e.scope ? `  [${e.scope}]` : ''}`);
  }
  if (c.events.length === 0) lines.push('  (no holidays or events in this range)');
  return lines.join('\n');
}
