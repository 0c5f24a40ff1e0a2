import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UserError } from '../errors.js';
import { packageRoot } from '../version.js';
import { publishedName } from '../publish/published-paths.js';
import { calendarError, intField, isoDateField, readCsvFile } from './csv-file.js';

/**
 * The calendars a run can use: public holidays and retail events per country (shipped as data
 * in calendars/, or a folder of the same shape given in the config), and the user's own
 * events and promotions. Every file is validated line by line and fingerprinted for the
 * manifest.
 */
/** `closed`: the store is closed over the event's dates (a refurbishment, a strike): forecasts are 0, history is not demand. */
export type EventKind = 'holiday' | 'event' | 'promo' | 'closed';

export interface CalendarEvent {
  readonly date: string;
  readonly name: string;
  readonly kind: EventKind;
  /** Days of the window before and after the date. */
  readonly before: number;
  readonly after: number;
  /** Days the event itself lasts after its first day (a user event's end − start; 0 for one day). */
  readonly span?: number;
}

export interface Location {
  readonly country: string;
  readonly region?: string;
}

export interface CalendarVersion {
  /** As published: relative to the calendars folder for a country's files, the file name for the user's own. */
  readonly file: string;
  readonly sha256: string;
  readonly entries: number;
}

export function shippedCalendarDir(): string {
  return join(packageRoot(), 'calendars');
}

export function fileDigest(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Countries with both a holiday and an event file in `dir`. */
export function availableCountries(dir: string): string[] {
  const names = (sub: string): string[] => (existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).filter((f) => f.endsWith('.csv')).map((f) => basename(f, '.csv')) : []);
  const events = new Set(names('events'));
  return names('holidays').filter((c) => events.has(c)).sort();
}

interface CountryCalendar {
  readonly holidays: { date: string; name: string; regions: readonly string[] }[];
  readonly events: CalendarEvent[];
}

export class CalendarCatalog {
  private readonly countries = new Map<string, CountryCalendar>();
  private readonly used = new Map<string, CalendarVersion>();

  constructor(private readonly dir: string, private readonly holidayWindow: { before: number; after: number }) {
    if (!existsSync(dir)) throw new UserError(`calendars folder ${dir} does not exist`);
  }

  /** Every holiday and retail event of a store's country that applies in its region. */
  forLocation(loc: Location): CalendarEvent[] {
    const cal = this.country(loc.country);
    const { before, after } = this.holidayWindow;
    const holidays = cal.holidays
      .filter((h) => h.regions.length === 0 || (loc.region !== undefined && h.regions.includes(loc.region)))
      .map((h): CalendarEvent => ({ date: h.date, name: h.name, kind: 'holiday', before, after }));
    return [...holidays, ...cal.events];
  }

  /** Files read so far, with digests: what the manifest records. */
  versions(): CalendarVersion[] {
    return [...this.used.values()].sort((a, b) => (a.file < b.file ? -1 : 1));
  }

  /** `file` is read and digested; `name` is what the manifest calls it (no server folders). */
  record(file: string, entries: number, name = publishedName(file)): void {
    this.used.set(file, { file: name, sha256: fileDigest(file), entries });
  }

  private country(code: string): CountryCalendar {
    const cached = this.countries.get(code);
    if (cached) return cached;
    const hFile = join(this.dir, 'holidays', `${code}.csv`);
    const eFile = join(this.dir, 'events', `${code}.csv`);
    if (!existsSync(hFile) || !existsSync(eFile)) {
      throw new UserError(`no calendar for country "${code}" in ${this.dir}; available: ${availableCountries(this.dir).join(', ')}`);
    }
    const holidays = readCsvFile(hFile, ['date', 'name'], ['regions']).map((r) => ({
      date: isoDateField(hFile, r, 'date'),
      name: nonEmpty(hFile, r.line, 'name', r.fields.name),
      regions: (r.fields.regions ?? '').split(';').filter(Boolean),
    }));
    const events = readCsvFile(eFile, ['date', 'name'], ['before', 'after']).map((r): CalendarEvent => ({
      date: isoDateField(eFile, r, 'date'),
      name: nonEmpty(eFile, r.line, 'name', r.fields.name),
      kind: 'event',
      before: intField(eFile, r, 'before', 0, 60, 0),
      after: intField(eFile, r, 'after', 0, 60, 0),
    }));
    this.record(hFile, holidays.length, `holidays/${code}.csv`);
    this.record(eFile, events.length, `events/${code}.csv`);
    const cal = { holidays, events };
    this.countries.set(code, cal);
    return cal;
  }
}

export function nonEmpty(file: string, line: number, column: string, v: string | undefined): string {
  if (!v) throw calendarError(file, line, `${column} is empty`);
  return v;
}
