import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CalendarsConfig } from '../config/schema.js';
import { availableCountries, CalendarCatalog, fileDigest, shippedCalendarDir, type CalendarEvent, type Location } from './catalog.js';
import { readCsvFile } from './csv-file.js';
import { readItems, readStores, readUserEvents } from './scoped.js';
import { isoAddDays } from '../ingest/dates.js';

/** What `shelfcast calendars list` prints: each country's files, their digests and date span. */
export function listCalendars(cfg: CalendarsConfig): string {
  const dir = resolve(cfg.dir ?? shippedCalendarDir());
  const lines = [`calendars in ${dir}`, `${'country'.padEnd(8)}${'file'.padEnd(22)}${'entries'.padStart(8)}  ${'from'.padEnd(11)}${'to'.padEnd(11)}sha256`];
  for (const cc of availableCountries(dir)) {
    for (const sub of ['holidays', 'events']) {
      const file = join(dir, sub, `${cc}.csv`);
      const recs = readCsvFile(file, ['date', 'name'], ['regions', 'before', 'after']);
      const dates = recs.map((r) => r.fields.date).sort();
      lines.push(`${cc.padEnd(8)}${`${sub}/${cc}.csv`.padEnd(22)}${String(recs.length).padStart(8)}  ${(dates[0] ?? '').padEnd(11)}${(dates[dates.length - 1] ?? '').padEnd(11)}${fileDigest(file).slice(0, 16)}`);
    }
  }
  for (const [label, path] of [['stores', cfg.stores], ['items', cfg.items], ['events', cfg.events]] as const) {
    if (path) lines.push(`${label}: ${resolve(path)} (${existsSync(path) ? fileDigest(path) : 'missing'})`);
  }
  lines.push(`stores not in a stores table follow ${cfg.country}${cfg.region ? `-${cfg.region}` : ''}`);
  return lines.join('\n');
}

/** What `shelfcast calendars show` prints: the location of a store and every event it gets in a date range. */
export function showStoreCalendar(cfg: CalendarsConfig, store: string, from: string, to: string, sku?: string): string {
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
  const where = `${loc.country}${loc.region ? `-${loc.region}` : ''}`;
  const lines = [`store ${store}${sku ? ` sku ${sku}` : ''}: ${where}${listed ? '' : ' (default location: not in the stores table)'}; ${from} to ${to}`];
  for (const e of events) {
    const span = e.before || e.after ? ` (window ${isoAddDays(e.date, -e.before)} to ${isoAddDays(e.date, e.after)})` : '';
    lines.push(`  ${e.date}  ${e.kind.padEnd(8)} ${e.name}${span}${e.scope ? `  [${e.scope}]` : ''}`);
  }
  if (events.length === 0) lines.push('  (no holidays or events in this range)');
  return lines.join('\n');
}
