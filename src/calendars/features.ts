import type { CalendarEvent } from './catalog.js';

/**
 * Turns dated events into per-period features on a run's period grid. A feature is an event
 * at an offset: the day itself, each of the three days either side, or the rest of its window
 * (daily data); the week it falls in and the weeks its window reaches (weekly data). Each
 * feature gets its own effect, so "the day before Thanksgiving" and "Thanksgiving" can differ.
 */
export interface PeriodGrid {
  /** Date of period 0. */
  readonly firstDate: string;
  readonly stepDays: 1 | 7;
  /** Periods covered: history and horizon. */
  readonly periods: number;
  /** Periods of history (the rest is the horizon). */
  readonly history: number;
  /** Weekly dates label the last day of their week ('end') or the first ('start'). */
  readonly weekLabel: 'end' | 'start';
}

export class FeatureRegistry {
  readonly names: string[] = [];
  private readonly ids = new Map<string, number>();

  id(key: string): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.names.length;
      this.names.push(key);
      this.ids.set(key, id);
    }
    return id;
  }

  get size(): number {
    return this.names.length;
  }
}

const DAY = 86400000;

function dayIndex(grid: PeriodGrid, iso: string): number {
  return Math.round((Date.parse(`${iso}T00:00:00Z`) - Date.parse(`${grid.firstDate}T00:00:00Z`)) / DAY);
}

/** Period holding the day `d` days after period 0's date. */
function periodOfDay(grid: PeriodGrid, d: number): number {
  if (grid.stepDays === 1) return d;
  return grid.weekLabel === 'end' ? Math.ceil(d / 7) : Math.floor(d / 7);
}

/** Every promotion shares one effect, whatever it is called: the promo lift. */
export const PROMO_FEATURE = 'promo';

/**
 * An event of at least this many days (school holidays, a summer sale, Ramadan) has one effect
 * over its whole span: the days of a six-week holiday are alike, and one effect per day of its
 * first week and another for the rest split the evidence for no gain.
 */
const LONG_EVENT_DAYS = 7;

function featureKey(grid: PeriodGrid, e: CalendarEvent, offset: number): string {
  const name = e.name;
  if (e.kind === 'promo') return PROMO_FEATURE;
  if (grid.stepDays === 7) return `${name}@w${offset}`;
  const span = e.span ?? 0;
  if (span + 1 >= LONG_EVENT_DAYS && offset >= 0 && offset <= span) return `${name}@during`;
  if (Math.abs(offset) <= 3) return `${name}@${offset}`;
  return `${name}@${offset < 0 ? 'before' : 'after'}`;
}

/** (period, feature key) pairs an event touches inside the grid. */
export function eventPeriods(e: CalendarEvent, grid: PeriodGrid): { t: number; key: string }[] {
  const day = dayIndex(grid, e.date);
  const home = periodOfDay(grid, day);
  const seen = new Set<number>();
  const out: { t: number; key: string }[] = [];
  for (let d = day - e.before; d <= day + e.after; d++) {
    const t = periodOfDay(grid, d);
    if (t < 0 || t >= grid.periods || seen.has(t)) continue;
    seen.add(t);
    out.push({ t, key: featureKey(grid, e, grid.stepDays === 7 ? t - home : d - day) });
  }
  return out;
}

/** Sparse feature table: parallel arrays sorted by period then feature, without duplicates. */
export interface FeatureTable {
  readonly t: Int32Array;
  readonly f: Int32Array;
}

export function featureTable(events: readonly CalendarEvent[], grid: PeriodGrid, registry: FeatureRegistry): FeatureTable {
  const pairs = new Map<string, [number, number]>();
  for (const e of events) {
    for (const { t, key } of eventPeriods(e, grid)) {
      const f = registry.id(key);
      pairs.set(`${t}:${f}`, [t, f]);
    }
  }
  const sorted = [...pairs.values()].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { t: Int32Array.from(sorted, (p) => p[0]), f: Int32Array.from(sorted, (p) => p[1]) };
}

/**
 * Merge feature tables (e.g. a store's calendar and a SKU's promotions), each sorted by (t, f)
 * as featureTable makes them, into one sorted table without repeated pairs. Runs once per
 * series on the main thread, so it merges in place rather than through a map of keys.
 */
export function mergeTables(...tables: FeatureTable[]): FeatureTable {
  let merged: FeatureTable = { t: new Int32Array(0), f: new Int32Array(0) };
  for (const tab of tables) merged = mergeTwo(merged, tab);
  return merged;
}

function mergeTwo(a: FeatureTable, b: FeatureTable): FeatureTable {
  const t = new Int32Array(a.t.length + b.t.length);
  const f = new Int32Array(t.length);
  let i = 0;
  let j = 0;
  let n = 0;
  while (i < a.t.length || j < b.t.length) {
    const takeA = j >= b.t.length || (i < a.t.length && (a.t[i] < b.t[j] || (a.t[i] === b.t[j] && a.f[i] <= b.f[j])));
    const tt = takeA ? a.t[i] : b.t[j];
    const ff = takeA ? a.f[i++] : b.f[j++];
    if (n > 0 && t[n - 1] === tt && f[n - 1] === ff) continue;
    t[n] = tt;
    f[n++] = ff;
  }
  return { t: t.subarray(0, n), f: f.subarray(0, n) };
}

/**
 * Drop features that recur exactly `period` periods apart (and so sit at the same place of
 * every seasonal cycle): a seasonal model already learns them, and estimating them twice only
 * adds noise. What is kept is what moves against the cycle: Easter, Thanksgiving week,
 * Christmas' weekday, promotions.
 */
export function withoutSeasonalRepeats(table: FeatureTable, period: number): FeatureTable {
  const byFeature = new Map<number, number[]>();
  for (let i = 0; i < table.t.length; i++) {
    const list = byFeature.get(table.f[i]);
    if (list) list.push(table.t[i]);
    else byFeature.set(table.f[i], [table.t[i]]);
  }
  const drop = new Set<number>();
  for (const [f, ts] of byFeature) {
    if (ts.length < 2) continue;
    let aligned = true;
    for (let i = 1; i < ts.length && aligned; i++) if ((ts[i] - ts[i - 1]) % period !== 0) aligned = false;
    if (aligned) drop.add(f);
  }
  if (drop.size === 0) return table;
  const keep = Array.from(table.t.keys()).filter((i) => !drop.has(table.f[i]));
  return { t: Int32Array.from(keep, (i) => table.t[i]), f: Int32Array.from(keep, (i) => table.f[i]) };
}
