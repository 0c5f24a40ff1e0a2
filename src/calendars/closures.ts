/**
 * When a store is closed. A period the store is known to be closed gets 0 in every quantile,
 * and its history is neither zero demand nor a gap: models are fitted without it. A store is
 * known to be closed on a period when
 * - the input says so (its `open` column, a `kind: closed` event, the future file);
 * - it is a weekday on which the store sold nothing in each of the last `weeks` weeks (every
 *   Sunday, say), in daily data;
 * - it is a holiday (or a day beside one) of the store's calendar on which it sold nothing on
 *   every past occurrence, when that many shut days would be unlikely by chance for this
 *   store (1 May, Christmas, a regional holiday where the store is, in daily data).
 * Closures are a property of the store: learned from all its series together, so that a slow
 * seller's zero day is not taken for a closure.
 */

/** What the history says about each period of a store: 0 nothing known, 1 open (something sold), 2 no sales or closed. */
export const UNKNOWN = 0;
export const OPEN = 1;
export const SHUT = 2;

const MIN_OCCURRENCES = 1;
/** A holiday is a closure when a store that sells nothing that often would be shut on every one of its occurrences by chance less often than this. */
const CHANCE = 0.01;

export interface ClosureEvidence {
  /** Per period 0..endT: UNKNOWN, OPEN or SHUT. */
  readonly state: Uint8Array;
  /** Periods the input explicitly marked closed (history and horizon), sorted. */
  readonly explicit: Int32Array;
  /** Periods the input explicitly marked open in the horizon (the future file), overriding learned closures. */
  readonly explicitOpen: Int32Array;
}

export interface ClosureRule {
  /** Periods per week (7 for daily data, 0: no weekday learning). */
  readonly week: number;
  /** Weeks without a sale that make a weekday closed. */
  readonly weeks: number;
  /** Last period of history. */
  readonly endT: number;
  /** Last period of the horizon. */
  readonly lastT: number;
}

export interface LearnedClosures {
  /** Closed periods, history and horizon, sorted. */
  readonly periods: Int32Array;
  /** Phases t mod week of the closed weekdays. */
  readonly weekdays: readonly number[];
  /** Feature ids learned as closures. */
  readonly features: readonly number[];
}

/**
 * `features`: the store's calendar as (period, feature) pairs sorted by period, covering
 * history and horizon.
 */
export function learnClosures(ev: ClosureEvidence, features: { readonly t: Int32Array; readonly f: Int32Array }, rule: ClosureRule): LearnedClosures {
  const { state, explicit } = ev;
  const weekdays: number[] = [];
  if (rule.week > 1 && rule.weeks > 0) {
    for (let phase = 0; phase < rule.week; phase++) {
      let seen = 0;
      let shut = true;
      // The last `weeks` known occurrences of this weekday, going back at most twice as far.
      for (let t = rule.endT - ((rule.endT - phase) % rule.week + rule.week) % rule.week, k = 0; t >= 0 && seen < rule.weeks && k < 2 * rule.weeks; t -= rule.week, k++) {
        if (state[t] === UNKNOWN) continue;
        seen++;
        if (state[t] !== SHUT) { shut = false; break; }
      }
      if (shut && seen === rule.weeks) weekdays.push(phase);
    }
  }
  const closedDay = new Set(weekdays);
  // Holidays: every known past occurrence shut, on a weekday the store is otherwise open
  // (a holiday that always fell on a closed Sunday teaches nothing).
  const byFeature = new Map<number, { n: number; shut: boolean }>();
  for (let i = 0; i < features.t.length; i++) {
    const t = features.t[i];
    if (t > rule.endT) break;
    if (t < 0 || state[t] === UNKNOWN || (rule.week > 1 && closedDay.has(t % rule.week))) continue;
    const s = byFeature.get(features.f[i]) ?? { n: 0, shut: true };
    s.n++;
    s.shut &&= state[t] === SHUT;
    byFeature.set(features.f[i], s);
  }
  // How often the store sells nothing on an ordinary day: a store that is always open learns a
  // holiday closure from one occurrence, a sparse one only from as many as make chance unlikely.
  const isFeatureDay = new Set(Array.from(features.t).filter((t) => t <= rule.endT));
  let ordinary = 0;
  let shutOrdinary = 0;
  for (let t = 0; t <= rule.endT; t++) {
    if (state[t] === UNKNOWN || isFeatureDay.has(t) || (rule.week > 1 && closedDay.has(t % rule.week))) continue;
    ordinary++;
    if (state[t] === SHUT) shutOrdinary++;
  }
  const pShut = (shutOrdinary + 1) / (ordinary + 2);
  const closedFeatures = [...byFeature].filter(([, s]) => s.shut && s.n >= MIN_OCCURRENCES && s.n * Math.log(pShut) < Math.log(CHANCE)).map(([f]) => f).sort((a, b) => a - b);
  const featureSet = new Set(closedFeatures);

  const open = new Set(ev.explicitOpen);
  const closed = new Set<number>(explicit);
  // History: only periods the store really was shut on (it may have opened on Sundays once).
  for (let t = 0; t <= rule.endT; t++) if (state[t] === SHUT && rule.week > 1 && closedDay.has(t % rule.week)) closed.add(t);
  for (let t = rule.endT + 1; t <= rule.lastT; t++) if (rule.week > 1 && closedDay.has(t % rule.week) && !open.has(t)) closed.add(t);
  for (let i = 0; i < features.t.length; i++) {
    const t = features.t[i];
    if (!featureSet.has(features.f[i])) continue;
    if (t <= rule.endT ? state[t] === SHUT : !open.has(t)) closed.add(t);
  }
  return { periods: Int32Array.from([...closed].filter((t) => t >= 0 && t <= rule.lastT).sort((a, b) => a - b)), weekdays, features: closedFeatures };
}
