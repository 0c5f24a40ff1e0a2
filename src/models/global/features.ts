import { EVENTS_PER_PERIOD, MAX_SCALED, type GlobalLayout } from './layout.js';

/**
 * The global network's inputs for one series at one forecast origin. Training (samples.ts)
 * and inference (model.ts) both build them here, so the network is never served inputs built
 * differently from the ones it learnt on.
 *
 * Everything is scaled by the series' level (the mean of its recent observed values), so one
 * network serves a department selling $40,000 a week and a SKU selling 2 units a day; the level
 * itself is an input (standardised log), as are the store, SKU and category (embeddings, see
 * network.ts), the target period's calendar (yearly phase, weekday, holidays and events,
 * promotion, neighbouring closures), the same period a year back, and how much
 * history the series has. A period that was not observed (stock-out, outage, closed) is 0 with
 * a mask bit of 0, never an imputed value the network could mistake for demand.
 */
export interface GlobalSeriesInput {
  /** As observed (NaN where not); y[n − 1] is the data end. May be empty (a new item). */
  readonly y: Float64Array;
  /** Calendar features by period counted from y[0] (history and horizon), sorted by period, as network slots (≥ 1). */
  readonly eventT: Int32Array;
  readonly eventSlot: Int32Array;
  /** Periods (from y[0], history and horizon) on promotion, and closed. */
  readonly promoT: Int32Array;
  readonly closedT: Int32Array;
  /** Grid period of y[0] (for the calendar). */
  readonly t0: number;
  readonly store: number;
  readonly sku: number;
  readonly category: number;
  /** Log level of similar series (same store and SKU or category elsewhere): the level of a series with no history. NaN: none. */
  readonly priorLogLevel: number;
  /**
   * What similar series did (the same SKU in the other stores, else its category, else all):
   * their mean value in units of each one's own mean, per period of the run grid (from period
   * 0, NaN where none sold). Null: none.
   */
  readonly peers: Float32Array | null;
}

/** Per-period lookups of one series over history and `ahead` periods, built once per series. */
export class SeriesFeatures {
  readonly n: number;
  private readonly promo: Uint8Array;
  private readonly closed: Uint8Array;
  private readonly anyEvent: Uint8Array;
  private readonly eventStart: Int32Array;
  private readonly events: Int32Array;
  /** Index of the first observed period (n if none). */
  readonly firstObserved: number;

  constructor(readonly input: GlobalSeriesInput, readonly layout: GlobalLayout, ahead: number) {
    const n = input.y.length;
    this.n = n;
    const span = n + ahead;
    this.promo = flags(input.promoT, span);
    this.closed = flags(input.closedT, span);
    this.anyEvent = new Uint8Array(span);
    this.eventStart = new Int32Array(span + 1);
    const keep: number[] = [];
    let j = 0;
    for (let t = 0; t < span; t++) {
      this.eventStart[t] = keep.length;
      while (j < input.eventT.length && input.eventT[j] < t) j++;
      let c = 0;
      for (; j < input.eventT.length && input.eventT[j] === t; j++) {
        if (input.eventSlot[j] <= 0) continue;
        this.anyEvent[t] = 1;
        if (c++ < EVENTS_PER_PERIOD) keep.push(input.eventSlot[j]);
      }
    }
    this.eventStart[span] = keep.length;
    this.events = Int32Array.from(keep);
    let f = 0;
    while (f < n && Number.isNaN(input.y[f])) f++;
    this.firstObserved = f;
  }

  /** y[t] if observed and visible (t ≥ visibleFrom), else NaN. */
  value(t: number, visibleFrom: number): number {
    return t >= visibleFrom && t >= 0 && t < this.n ? this.input.y[t] : NaN;
  }

  isClosed(t: number): boolean {
    return t >= 0 && t < this.closed.length && this.closed[t] === 1;
  }

  /** Mean of the observed values in [from, to), NaN if none. */
  meanObserved(from: number, to: number, visibleFrom: number): number {
    let s = 0;
    let c = 0;
    for (let t = Math.max(from, visibleFrom, 0); t < Math.min(to, this.n); t++) {
      const v = this.input.y[t];
      if (!Number.isNaN(v)) { s += v; c++; }
    }
    return c > 0 ? s / c : NaN;
  }

  /**
   * The level the series is scaled by at origin `o` (history y[0..o), of which only
   * y[visibleFrom..o) may be seen): the mean of its recent observed values, or of all of them,
   * or else the level of similar series. `fromPrior` says which. Level 0 (nothing sold) is
   * kept: the forecast is then 0.
   */
  level(o: number, visibleFrom: number): { level: number; fromPrior: boolean } {
    let m = this.meanObserved(o - this.layout.recent, o, visibleFrom);
    if (Number.isNaN(m)) m = this.meanObserved(0, o, visibleFrom);
    if (!Number.isNaN(m)) return { level: m, fromPrior: false };
    const p = this.input.priorLogLevel;
    return { level: Number.isFinite(p) ? Math.exp(p) : NaN, fromPrior: true };
  }

  /** Writes the per-origin inputs at out[at..] (sharedWidth wide). */
  shared(o: number, visibleFrom: number, level: number, fromPrior: boolean, out: Float32Array | Float64Array, at: number): void {
    const L = this.layout.recent;
    const inv = level > 0 ? 1 / level : 0;
    for (let k = 0; k < L; k++) {
      const t = o - L + k;
      const v = this.value(t, visibleFrom);
      const seen = !Number.isNaN(v);
      out[at + k] = seen ? Math.min(MAX_SCALED, v * inv) : 0;
      out[at + L + k] = seen ? 1 : 0;
      out[at + 2 * L + k] = t >= 0 && this.promo[t] === 1 ? 1 : 0;
    }
    const logLevel = Math.log(Math.max(level, 1e-6));
    out[at + 3 * L] = (logLevel - this.layout.logLevelMean) / this.layout.logLevelSd;
    // Capped at a year: training never sees more history than the final forecast does.
    const age = Math.max(0, o - Math.max(visibleFrom, this.firstObserved));
    out[at + 3 * L + 1] = Math.min(age, this.layout.year) / this.layout.year;
    out[at + 3 * L + 2] = fromPrior ? 1 : 0;
  }

  /** Writes the inputs of step s (1-based) from origin o at out[at..] (stepWidth wide). */
  step(o: number, s: number, visibleFrom: number, level: number, out: Float32Array | Float64Array, at: number): void {
    const l = this.layout;
    const inv = level > 0 ? 1 / level : 0;
    const j = o + s - 1;
    const scaled = (v: number): number => Math.min(MAX_SCALED, v * inv);
    let k = at;
    out[k++] = s / l.horizon;
    out[k++] = 1 / s;
    const day = l.epochDay + (this.input.t0 + j) * l.stepDays;
    const phase = (2 * Math.PI * day) / 365.25;
    for (let f = 1; f <= 3; f++) { out[k++] = Math.sin(f * phase); out[k++] = Math.cos(f * phase); }
    if (l.stepDays === 1) {
      const wd = ((day % 7) + 7) % 7;
      for (let d = 0; d < 7; d++) out[k++] = d === wd ? 1 : 0;
      // The same weekday in the last week seen, and its mean over the recent window.
      const last = this.value(j - 7 * Math.ceil(s / 7), visibleFrom);
      out[k++] = Number.isNaN(last) ? 0 : scaled(last);
      out[k++] = Number.isNaN(last) ? 0 : 1;
      let sum = 0;
      let c = 0;
      for (let t = j - 7 * Math.ceil(s / 7); t >= o - l.recent; t -= 7) {
        const v = this.value(t, visibleFrom);
        if (!Number.isNaN(v)) { sum += v; c++; }
      }
      out[k++] = c ? scaled(sum / c) : 0;
      out[k++] = c ? 1 : 0;
    }
    // The same period a year back, against today's level and against the level then (a
    // seasonal index that a trend cannot move), alone and smoothed with its neighbours.
    const Y = l.year;
    const near = l.stepDays === 1 ? 7 : 1;
    const origin = this.atOrigin(o, visibleFrom);
    const thenInv = origin.levelThen > 0 ? 1 / origin.levelThen : NaN;
    const y1 = this.value(j - Y, visibleFrom);
    const around = mean3(this.value(j - Y - near, visibleFrom), y1, this.value(j - Y + near, visibleFrom));
    for (let pass = 0; pass < 2; pass++) {
      const v = pass === 0 ? y1 : around;
      const seen = !Number.isNaN(v);
      out[k++] = seen ? scaled(v) : 0;
      out[k++] = seen ? 1 : 0;
      const index = seen && thenInv > 0 ? Math.min(MAX_SCALED, v * thenInv) : NaN;
      out[k++] = Number.isNaN(index) ? 0 : index;
      out[k++] = Number.isNaN(index) ? 0 : 1;
    }
    // What the peers did: a year before the target against a year before the periods this
    // series is seen in (their seasonal index: the shape a series with a few weeks of history
    // cannot show), and now against a year ago (their growth).
    const { now, then } = origin;
    const peerAt = mean3(this.peer(j - Y - near), this.peer(j - Y), this.peer(j - Y + near));
    for (let pass = 0; pass < 3; pass++) {
      const r = pass === 0 ? peerAt / then : pass === 1 ? now / then : peerAt / now;
      const ok = Number.isFinite(r);
      out[k++] = ok ? Math.min(MAX_SCALED, r) : 0;
      out[k++] = ok ? 1 : 0;
    }
    out[k++] = this.promo[j] ?? 0;
    out[k++] = j - Y >= 0 ? this.promo[j - Y] : 0;
    out[k++] = j - Y >= 0 ? this.anyEvent[j - Y] : 0;
    out[k++] = this.isClosed(j - 1) ? 1 : 0;
    out[k++] = this.isClosed(j + 1) ? 1 : 0;
  }

  /** The peers' value at period t (from y[0]); NaN where none. */
  private peer(t: number): number {
    const p = this.input.peers;
    const g = this.input.t0 + t;
    return p && g >= 0 && g < p.length ? p[g] : NaN;
  }

  /** What every step from one origin shares, computed once per origin (steps are asked for in a row). */
  private origin = { o: -1, visibleFrom: -1, levelThen: NaN, now: NaN, then: NaN };

  private atOrigin(o: number, visibleFrom: number): { levelThen: number; now: number; then: number } {
    const c = this.origin;
    if (c.o !== o || c.visibleFrom !== visibleFrom) {
      const Y = this.layout.year;
      const p = this.peerWindows(o, visibleFrom);
      this.origin = { o, visibleFrom, levelThen: this.meanObserved(o - Y - this.layout.recent, o - Y, visibleFrom), now: p.now, then: p.then };
    }
    return this.origin;
  }

  /**
   * The peers' mean over the recent periods this series' level comes from (those it was seen
   * in; all recent ones when none), and over the same periods a year earlier.
   */
  private peerWindows(o: number, visibleFrom: number): { now: number; then: number } {
    const L = this.layout.recent;
    const Y = this.layout.year;
    let any = false;
    for (let t = o - L; t < o && !any; t++) any = !Number.isNaN(this.value(t, visibleFrom));
    let sNow = 0;
    let sThen = 0;
    let c = 0;
    for (let t = o - L; t < o; t++) {
      if (any && Number.isNaN(this.value(t, visibleFrom))) continue;
      const a = this.peer(t);
      const b = this.peer(t - Y);
      if (Number.isNaN(a) || Number.isNaN(b)) continue;
      sNow += a;
      sThen += b;
      c++;
    }
    return c > 0 && sThen > 0 && sNow > 0 ? { now: sNow / c, then: sThen / c } : { now: NaN, then: NaN };
  }

  /** Writes the calendar-feature slots of step s's period at out[at .. at + EVENTS_PER_PERIOD), 0-padded. */
  stepEvents(o: number, s: number, out: Int32Array, at: number): void {
    const j = o + s - 1;
    let c = 0;
    if (j >= 0 && j < this.eventStart.length - 1) for (let e = this.eventStart[j]; e < this.eventStart[j + 1]; e++) out[at + c++] = this.events[e];
    for (; c < EVENTS_PER_PERIOD; c++) out[at + c] = 0;
  }
}

function flags(ts: Int32Array, span: number): Uint8Array {
  const out = new Uint8Array(span);
  for (const t of ts) if (t >= 0 && t < span) out[t] = 1;
  return out;
}

/** Mean of the observed ones among three values (NaN if none). */
function mean3(a: number, b: number, c: number): number {
  let s = 0;
  let n = 0;
  if (!Number.isNaN(a)) { s += a; n++; }
  if (!Number.isNaN(b)) { s += b; n++; }
  if (!Number.isNaN(c)) { s += c; n++; }
  return n ? s / n : NaN;
}
