import { resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { CalendarsConfig } from '../config/schema.js';
import type { BatchEvents, CalendarTask } from '../forecast/wire.js';
import { PROMO_FLAG, type ReadBatch, type SeriesKeys } from '../ingest/series-reader.js';
import type { FutureInputs } from '../ingest/future.js';
import { exactSum, queryRows, sqlString } from '../db/duckdb.js';
import { isoAddDays } from '../ingest/dates.js';
import { CsvWriter } from '../publish/csv-writer.js';
import { csvField } from '../publish/format.js';
import { CalendarCatalog, shippedCalendarDir, type CalendarEvent, type CalendarVersion, type Location } from './catalog.js';
import { appliesTo, readItems, readStores, readUserEvents, type ScopedEvent } from './scoped.js';
import { eventPeriods, FeatureRegistry, featureTable, mergeTables, PROMO_FEATURE, withoutSeasonalRepeats, type FeatureTable, type PeriodGrid } from './features.js';

/** Rows of history per slice when pooled effects are estimated (bounds DuckDB's memory). */
const PRIOR_SLICE_ROWS = 8_000_000;

/** A pooled calendar effect (log ratio) of one feature in one pool group (SKU, store…). */
export interface PriorRow {
  readonly pool: string;
  readonly feature: string;
  readonly effect: number;
}

/** The columns of events.csv (publish/artifacts.ts). */
const EVENTS_COLUMNS = ['store_id', 'date', 'name', 'kind'];

/**
 * Everything a run knows about calendars: which events each store and SKU gets, as features
 * on the run's period grid; the pooled effect of each feature (the prior a series is shrunk
 * towards); and what to publish about them. Built once per run on the main thread.
 */
export class CalendarPlan {
  private readonly registry = new FeatureRegistry();
  private readonly locations = new Map<string, { loc: Location; events: CalendarEvent[]; raw: FeatureTable; table: FeatureTable }>();
  private priors = new Map<string, Float64Array>();
  private readonly promoId: number;
  /**
   * Whether the run knows the promotions ahead. A promotion lift learned from history and
   * taken out of it is only worth it if it can be put back where promotions will be: without
   * a plan the forecast would assume none, and fall short on every promotion day.
   */
  private plannedPromos: boolean;
  /** Promotion periods of the horizon per series id, from `input.future`. */
  private futurePromos: ReadonlyMap<number, Int32Array> = new Map();

  /** The user's closures (`kind: closed`): not effects but periods forecast as 0. */
  private readonly closureEvents: ScopedEvent[];
  private readonly userEvents: ScopedEvent[];

  private constructor(
    private readonly cfg: CalendarsConfig,
    private readonly grid: PeriodGrid,
    private readonly catalog: CalendarCatalog,
    private readonly stores: Map<string, Location>,
    private readonly items: Map<string, string> | null,
    events: ScopedEvent[],
    private readonly seasonalPeriod: number | null,
  ) {
    this.userEvents = events.filter((e) => e.kind !== 'closed');
    this.closureEvents = events.filter((e) => e.kind === 'closed');
    const userEvents = this.userEvents;
    // Register every feature up front, in a fixed order, so ids do not depend on batch order.
    const keys = [...new Set([...stores.values(), this.defaultLocation()].map(locationKey))].sort();
    for (const k of keys) this.location(k);
    featureTable(userEvents, grid, this.registry);
    this.promoId = this.registry.id(PROMO_FEATURE);
    this.plannedPromos = userEvents.some((e) => e.kind === 'promo' && eventPeriods(e, grid).some(({ t }) => t >= grid.history));
  }

  /**
   * `seasonalPeriod`: the longest cycle the models will learn, if the data spans two of them.
   * Only weekly data leaves the features that repeat with it to the seasonal model: a yearly
   * cycle of daily data is smooth and cannot carry a one-day closure or spike (1 May, Christmas).
   */
  static build(cfg: CalendarsConfig, grid: PeriodGrid, keys: SeriesKeys, seasonalPeriod: number | null): CalendarPlan {
    // Around a holiday the days either side matter in daily data; in weekly data a ±1-day window
    // only spills the holiday into the neighbouring week, where it adds noise (BENCHMARKS.md).
    const window = cfg.holidayWindow ?? (grid.stepDays === 1 ? { before: 1, after: 1 } : { before: 0, after: 0 });
    const catalog = new CalendarCatalog(resolve(cfg.dir ?? shippedCalendarDir()), window);
    const stores = cfg.stores ? readStores(resolve(cfg.stores)) : new Map<string, Location>();
    if (cfg.stores) catalog.record(resolve(cfg.stores), stores.size);
    const items = cfg.items ? readItems(resolve(cfg.items)) : null;
    if (cfg.items && items) catalog.record(resolve(cfg.items), items.size);
    const user = cfg.events ? readUserEvents(resolve(cfg.events), items) : [];
    if (cfg.events) catalog.record(resolve(cfg.events), user.length);
    // Only the locations of stores in the data are needed.
    const present = new Set(keys.store);
    const used = new Map([...stores].filter(([s]) => present.has(s)));
    return new CalendarPlan(cfg, grid, catalog, used, items, user, seasonalPeriod);
  }

  /** Take the promotions the future file plans for the horizon (and so learn the promotion lift). */
  useFuture(future: FutureInputs): void {
    this.futurePromos = future.promo;
    this.plannedPromos ||= future.hasPromo;
  }

  /** What workers need besides each batch's features. */
  task(): CalendarTask {
    return { features: this.registry.size, priorWeight: this.cfg.priorWeight, baselineStep: this.grid.stepDays === 1 ? 7 : 1 };
  }

  versions(): CalendarVersion[] {
    return this.catalog.versions();
  }

  featureNames(): readonly string[] {
    return this.registry.names;
  }

  /**
   * Which calendar the run's stores follow, most stores first: each location with its store
   * count, and whether it is the default (`calendars.country`) given to stores not listed in
   * `calendars.stores`, so a German retailer who forgot `country` reads "US (default)".
   */
  storeCalendars(stores: readonly string[]): { location: string; default: boolean; stores: number }[] {
    const counts = new Map<string, { location: string; default: boolean; stores: number }>();
    for (const store of new Set(stores)) {
      const listed = this.stores.get(store);
      const loc = listed ?? this.defaultLocation();
      const key = `${locationKey(loc).replace('|', '-')}${listed ? '' : ' (default)'}`;
      const c = counts.get(key) ?? { location: locationKey(loc).replace('|', '-'), default: !listed, stores: 0 };
      c.stores++;
      counts.set(key, c);
    }
    return [...counts.values()].sort((a, b) => b.stores - a.stores || (a.location < b.location ? -1 : 1));
  }

  locationOf(store: string): Location {
    return this.stores.get(store) ?? this.defaultLocation();
  }

  /** Events of a store (its country and region, and the user's events scoped to it or to all). */
  eventsOf(store: string, sku?: string): CalendarEvent[] {
    const user = this.userEvents.filter((e) => (sku === undefined ? e.sku === undefined && e.category === undefined && (e.store === undefined || e.store === store) : appliesTo(e, store, sku, this.items)));
    return [...(this.location(locationKey(this.locationOf(store))).events), ...user];
  }

  /** Every holiday and event feature of a store's calendar, history and horizon (closures are learned from them). */
  storeFeatures(store: string): FeatureTable {
    return this.location(locationKey(this.locationOf(store))).raw;
  }

  /** Periods (on the run grid) the user's `kind: closed` events close a store (those scoped to the whole store). */
  closedPeriods(store: string): number[] {
    const out: number[] = [];
    for (const e of this.closureEvents) {
      if ((e.store !== undefined && e.store !== store) || e.sku !== undefined || e.category !== undefined) continue;
      for (const { t } of eventPeriods(e, this.grid)) out.push(t);
    }
    return out;
  }

  /** Periods (on the run grid) in which any of a store's holidays or events falls, aligned or not. */
  eventPeriods(store: string): Set<number> {
    return new Set(featureTable(this.eventsOf(store), this.grid, this.registry).t);
  }

  /**
   * Pooled log-effect of every feature per pool group, from history before `cutoff` (the
   * start of the backtest span, so backtests do not see the periods they are scored on).
   * Effects are ratios of summed sales to summed baselines: robust for slow sellers.
   */
  async estimatePriors(conn: DuckDBConnection, keys: SeriesKeys, cutoff: number): Promise<void> {
    await conn.run(`CREATE OR REPLACE TEMP TABLE cal_events (store_id VARCHAR, sku VARCHAR, t INTEGER, f INTEGER)`);
    const app = await conn.createAppender('cal_events');
    for (const store of [...new Set(keys.store)].sort()) {
      const table = this.location(locationKey(this.locationOf(store))).table;
      for (let i = 0; i < table.t.length && table.t[i] < cutoff; i++) {
        app.appendVarchar(store); app.appendNull(); app.appendInteger(table.t[i]); app.appendInteger(table.f[i]); app.endRow();
      }
    }
    for (let sid = 0; sid < keys.store.length; sid++) {
      const scoped = this.userEvents.filter((e) => e.kind !== 'promo' && appliesTo(e, keys.store[sid], keys.sku[sid], this.items));
      if (scoped.length === 0) continue;
      const table = featureTable(scoped, this.grid, this.registry);
      for (let i = 0; i < table.t.length && table.t[i] < cutoff; i++) {
        app.appendVarchar(keys.store[sid]); app.appendVarchar(keys.sku[sid]); app.appendInteger(table.t[i]); app.appendInteger(table.f[i]); app.endRow();
      }
    }
    app.closeSync();
    if (this.items) {
      await conn.run(`CREATE OR REPLACE TEMP TABLE cal_items (sku VARCHAR, category VARCHAR)`);
      const ia = await conn.createAppender('cal_items');
      for (const [sku, cat] of this.items) { ia.appendVarchar(sku); ia.appendVarchar(cat); ia.endRow(); }
      ia.closeSync();
    }
    const step = this.task().baselineStep;
    const pool = this.poolExpression();
    // The baseline of a period is the median of it and its three same-phase neighbours either
    // side (same weekday in daily data). Only event and promotion periods need it, so the
    // window fetches the six neighbours of every row (cheap) and the median is taken on the hits
    // alone: a median window over every row was most of a retrain's calendar time on M5.
    // Integer keys throughout (strings only on the aggregated rows at the end), in slices of
    // whole series (the window never crosses a series) so that memory stays bounded however
    // many series there are; `clean` is in series order, so a slice reads only its row groups.
    await conn.run(`CREATE OR REPLACE TEMP TABLE cal_sums (sid INTEGER, f INTEGER, su DOUBLE, sb DOUBLE)`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE cal_hits AS SELECT s.sid, e.t, e.f FROM cal_events e JOIN series s ON s.store_id = e.store_id AND (e.sku IS NULL OR e.sku = s.sku)`);
    const slice = Math.max(1, Math.floor(PRIOR_SLICE_ROWS / Math.max(1, cutoff)));
    for (let lo = 0; lo < keys.store.length; lo += slice) {
      await conn.run(`INSERT INTO cal_sums
        WITH base AS (
          SELECT sid, t, u, promo, lag(u, 3) OVER w AS b3, lag(u, 2) OVER w AS b2, lag(u, 1) OVER w AS b1,
            lead(u, 1) OVER w AS a1, lead(u, 2) OVER w AS a2, lead(u, 3) OVER w AS a3
          FROM clean WHERE sid >= ${lo} AND sid < ${lo + slice} AND t < ${cutoff} AND NOT unobserved AND NOT closed
          WINDOW w AS (PARTITION BY sid, t % ${step} ORDER BY t)),
        hits AS (
          SELECT base.*, h.f FROM base JOIN cal_hits h USING (sid, t)
          UNION ALL
          SELECT base.*, ${this.promoId} AS f FROM base WHERE promo AND ${this.plannedPromos})
        SELECT sid, f, ${exactSum('u')}::DOUBLE, ${exactSum('list_median([b3, b2, b1, u, a1, a2, a3])')}::DOUBLE FROM hits GROUP BY sid, f`);
    }
    // Sums that do not depend on DuckDB's threads, which add partial sums in whatever order
    // they finish (floating-point addition is not associative): exact decimal sums per series
    // (an ordered sum per series and event was 25 s of a 36 s calendar stage on the M5-shaped
    // set), then the few pooled rows in a fixed order. The same data gives the same bits.
    const rows = await queryRows<{ pool: string; f: number; effect: number }>(conn, `
      SELECT ${pool} AS pool, f::INTEGER AS f, ln(sum(su ORDER BY sid) / sum(sb ORDER BY sid)) AS effect
      FROM cal_sums JOIN series USING (sid) ${this.items ? 'LEFT JOIN cal_items USING (sku)' : ''}
      GROUP BY ALL HAVING sum(sb) > 0 AND sum(su) > 0`);
    this.setPriors(rows.map((r) => ({ pool: r.pool, f: r.f, effect: Math.max(-Math.log(10), Math.min(Math.log(10), r.effect)) })));
  }

  /** The pooled effects by feature name, to store with the run that estimated them. */
  priorRows(): PriorRow[] {
    const rows: PriorRow[] = [];
    for (const [pool, effects] of [...this.priors].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
      effects.forEach((effect, f) => { if (!Number.isNaN(effect)) rows.push({ pool, feature: this.registry.names[f], effect }); });
    }
    return rows;
  }

  /**
   * Take the pooled effects an earlier run estimated (a nightly run keeps its retrain's, as it
   * keeps its interval calibration: re-estimating them scans every row of history). A feature
   * that run did not know gets no prior, as one too rare to estimate.
   */
  usePriors(rows: readonly PriorRow[]): void {
    const ids = new Map(this.registry.names.map((name, f) => [name, f]));
    this.setPriors(rows.flatMap((r) => {
      const f = ids.get(r.feature);
      return f === undefined ? [] : [{ pool: r.pool, f, effect: r.effect }];
    }));
  }

  /** Pooled effects by pool group, one slot per feature id (NaN: none). */
  private setPriors(rows: readonly { pool: string; f: number; effect: number }[]): void {
    const F = this.registry.size;
    this.priors = new Map();
    for (const r of rows) {
      let p = this.priors.get(r.pool);
      if (!p) { p = new Float64Array(F).fill(NaN); this.priors.set(r.pool, p); }
      p[r.f] = r.effect;
    }
  }

  /** Calendar features and priors of every series in a batch, periods counted from each series' first value. */
  forBatch(read: ReadBatch, keys: SeriesKeys, lastT: number): BatchEvents {
    const { batch, firstSid } = read;
    const k = batch.offsets.length - 1;
    const F = this.registry.size;
    const offsets = new Int32Array(k + 1);
    const starts = new Int32Array(k);
    const parts: FeatureTable[] = [];
    const priors = new Float64Array(k * F).fill(NaN);
    let total = 0;
    for (let i = 0; i < k; i++) {
      const sid = firstSid + i;
      const store = keys.store[sid];
      const sku = keys.sku[sid];
      const len = batch.offsets[i + 1] - batch.offsets[i];
      const t0 = lastT + 1 - len;
      // Runs once per series on the main thread: cut the store's table to the series' span
      // first (it is sorted by period), then merge only what is left.
      const tables = [from(this.location(locationKey(this.locationOf(store))).table, t0)];
      const scoped = this.userEvents.length ? this.userEvents.filter((e) => appliesTo(e, store, sku, this.items)) : [];
      if (scoped.length) tables.push(from(featureTable(scoped, this.grid, this.registry), t0));
      if (this.plannedPromos) {
        const promoT: number[] = [];
        for (let j = 0; j < len; j++) if (read.flags[batch.offsets[i] + j] & PROMO_FLAG) promoT.push(t0 + j);
        for (const t of this.futurePromos.get(sid) ?? []) promoT.push(t);
        if (promoT.length) tables.push({ t: Int32Array.from(promoT).sort(), f: new Int32Array(promoT.length).fill(this.promoId) });
      }
      const table = tables.length === 1 ? tables[0] : mergeTables(...tables);
      parts.push(table);
      starts[i] = t0;
      offsets[i] = total;
      total += table.t.length;
      const p = this.priors.get(this.poolKey(store, sku));
      if (p) priors.set(p, i * F);
    }
    offsets[k] = total;
    const t = new Int32Array(total);
    const f = new Int32Array(total);
    parts.forEach((table, i) => {
      f.set(table.f, offsets[i]);
      for (let j = 0; j < table.t.length; j++) t[offsets[i] + j] = table.t[j] - starts[i];
    });
    return { offsets, t, f, priors };
  }

  /** events.csv: every event date each store sees between two dates (for charts and lineage). */
  async writeEvents(file: string, keys: SeriesKeys, from: string, to: string): Promise<number> {
    const out = new CsvWriter(file, EVENTS_COLUMNS);
    for (const store of [...new Set(keys.store)].sort()) {
      const seen = new Set<string>();
      const evs = this.eventsOf(store)
        .filter((e) => e.date <= to && isoAddDays(e.date, e.after) >= from)
        .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.name < b.name ? -1 : 1));
      for (const e of evs) {
        const key = `${e.date}|${e.name}`;
        if (seen.has(key)) continue;
        seen.add(key);
        out.add(`${csvField(store)},${e.date},${csvField(e.name)},${e.kind}`);
      }
    }
    await out.close();
    return out.rows;
  }

  private defaultLocation(): Location {
    return this.cfg.region ? { country: this.cfg.country, region: this.cfg.region } : { country: this.cfg.country };
  }

  private location(key: string): { loc: Location; events: CalendarEvent[]; raw: FeatureTable; table: FeatureTable } {
    let entry = this.locations.get(key);
    if (!entry) {
      const [country, region] = key.split('|');
      const loc: Location = region ? { country, region } : { country };
      const events = this.catalog.forLocation(loc);
      const table = featureTable(events, this.grid, this.registry);
      entry = { loc, events, raw: table, table: this.seasonalPeriod && this.grid.stepDays === 7 ? withoutSeasonalRepeats(table, this.seasonalPeriod) : table };
      this.locations.set(key, entry);
    }
    return entry;
  }

  private poolKey(store: string, sku: string): string {
    switch (this.cfg.pool) {
      case 'sku': return sku;
      case 'store': return store;
      case 'category': return this.items?.get(sku) ?? sku;
      case 'all': return '';
    }
  }

  private poolExpression(): string {
    switch (this.cfg.pool) {
      case 'sku': return 'sku';
      case 'store': return 'store_id';
      case 'category': return this.items ? 'COALESCE(category, sku)' : 'sku';
      case 'all': return sqlString('');
    }
  }
}

function locationKey(loc: Location): string {
  return loc.region ? `${loc.country}|${loc.region}` : loc.country;
}

/** The part of a feature table (sorted by period) from period `t0` on. */
function from(table: FeatureTable, t0: number): FeatureTable {
  let lo = 0;
  let hi = table.t.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table.t[mid] < t0) lo = mid + 1;
    else hi = mid;
  }
  return lo === 0 ? table : { t: table.t.subarray(lo), f: table.f.subarray(lo) };
}
