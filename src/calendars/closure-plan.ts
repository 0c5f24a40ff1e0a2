import type { DuckDBConnection } from '@duckdb/node-api';
import type { BatchClosures } from '../forecast/wire.js';
import type { ReadBatch, SeriesKeys } from '../ingest/series-reader.js';
import { readStoreDays } from './store-days.js';
import { isoAddDays } from '../ingest/dates.js';
import { learnClosures, type LearnedClosures } from './closures.js';
import type { CalendarPlan } from './plan.js';
import type { FutureInputs } from '../ingest/future.js';

/** Settings of the closure rules (config `closures`). */
export interface ClosureSettings {
  /** Weeks without a sale that make a weekday closed (0: never learn weekdays). */
  readonly weeks: number;
  /** Learn holidays on which the store is always closed. */
  readonly holidays: boolean;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

/**
 * Every store's closed periods for a run (see closures.ts), built once on the main thread and
 * handed to the workers with each batch; the history's closed periods become unobserved.
 */
export class ClosurePlan {
  private constructor(
    private readonly byStore: Map<string, LearnedClosures & { rule: string }>,
    private readonly endT: number,
    private readonly future: FutureInputs | null,
  ) {}

  /**
   * `firstDate`/`stepDays`: the period grid; `endT`: the data end; `horizon`: periods ahead.
   * Weekdays and holidays are learned in daily data only; explicit closures (the `open`
   * column, `kind: closed` events) apply at any frequency.
   */
  static async build(conn: DuckDBConnection, keys: SeriesKeys, grid: { firstDate: string; stepDays: 1 | 7 }, endT: number, horizon: number, settings: ClosureSettings, calendar: CalendarPlan | null, future: FutureInputs | null): Promise<ClosurePlan> {
    const lastT = endT + horizon;
    const daily = grid.stepDays === 1;
    const days = await readStoreDays(conn, endT);
    const names = calendar?.featureNames() ?? [];
    const byStore = new Map<string, LearnedClosures & { rule: string }>();
    for (const store of [...new Set(keys.store)].sort()) {
      const d = days.get(store);
      if (!d) continue;
      const explicit = Int32Array.from(new Set([...d.closed, ...(calendar?.closedPeriods(store) ?? [])]));
      const features = daily && settings.holidays && calendar ? calendar.storeFeatures(store) : { t: new Int32Array(0), f: new Int32Array(0) };
      const learned = learnClosures({ state: d.state, explicit, explicitOpen: new Int32Array(0) }, features, { week: daily ? 7 : 0, weeks: settings.weeks, endT, lastT });
      if (learned.periods.length === 0) continue;
      const parts: string[] = [];
      if (learned.weekdays.length) parts.push(`closed ${learned.weekdays.map((p) => WEEKDAYS[new Date(`${isoAddDays(grid.firstDate, p)}T00:00:00Z`).getUTCDay()]).join('/')} (no sales in ${settings.weeks} weeks)`);
      if (learned.features.length) parts.push(`closed on ${learned.features.length} holiday days (${learned.features.slice(0, 3).map((f) => names[f]).join(', ')}${learned.features.length > 3 ? ', …' : ''})`);
      if (explicit.length) parts.push(`${explicit.length} periods marked closed in the input`);
      byStore.set(store, { ...learned, rule: parts.join('; ') });
    }
    return new ClosurePlan(byStore, endT, future);
  }

  /** A series' closed periods: its store's, with the future file's planned openings and closures on top. */
  private periodsOf(sid: number, store: Int32Array | undefined): Int32Array {
    const shut = this.future?.closed.get(sid);
    const open = this.future?.open.get(sid);
    if (!shut && !open) return store ?? new Int32Array(0);
    const set = new Set(store ?? []);
    for (const t of open ?? []) set.delete(t);
    for (const t of shut ?? []) set.add(t);
    return Int32Array.from(set).sort();
  }

  /** The rule that closes a store's periods, for series.csv ('' when it is never closed). */
  ruleOf(store: string): string {
    return this.byStore.get(store)?.rule ?? '';
  }

  /** Stores with closures, and how many horizon periods they close: for the manifest. */
  summary(): { stores: number; horizon_periods: number } {
    let horizon = 0;
    for (const c of this.byStore.values()) for (const t of c.periods) if (t > this.endT) horizon++;
    return { stores: this.byStore.size, horizon_periods: horizon };
  }

  /**
   * Closed periods of every series in a batch, counted from each series' first value (history
   * and horizon); the batch's values on closed history periods become NaN (unobserved).
   */
  forBatch(read: ReadBatch, keys: SeriesKeys): BatchClosures {
    const { batch, firstSid } = read;
    const k = batch.offsets.length - 1;
    const offsets = new Int32Array(k + 1);
    const parts: Int32Array[] = [];
    let total = 0;
    for (let i = 0; i < k; i++) {
      offsets[i] = total;
      const sid = firstSid + i;
      const c = this.byStore.get(keys.store[sid]);
      const len = batch.offsets[i + 1] - batch.offsets[i];
      // Every series' history ends at the data end.
      const start = this.endT - len + 1;
      const rel = this.periodsOf(sid, c?.periods).filter((t) => t >= start).map((t) => t - start);
      for (const r of rel) if (r < len) batch.values[batch.offsets[i] + r] = NaN;
      parts.push(rel);
      total += rel.length;
    }
    offsets[k] = total;
    const t = new Int32Array(total);
    parts.forEach((p, i) => t.set(p, offsets[i]));
    return { offsets, t };
  }
}
