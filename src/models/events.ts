import type { ForecastPart, Model } from './types.js';
import { adjustedModel } from './adjusted.js';

/**
 * Calendar effects (holidays, retail events, promotions) as multiplicative factors, estimated
 * from the series' own history and shrunk towards a pooled estimate from similar series.
 * A model is fitted on the history with the effects divided out, and its forecast is
 * multiplied by the effects of the periods ahead: the model sees ordinary demand, the
 * calendar says where demand will not be ordinary.
 */
export interface SeriesEvents {
  /** Period (0 = first value the model is given; ≥ n = ahead) and feature id, sorted by period. */
  readonly t: Int32Array;
  readonly f: Int32Array;
  /** Pooled log-effect per feature id; NaN where there is none. */
  readonly prior: Float64Array;
  /** Occurrences the pooled estimate is worth on top of the noise-based weight (see estimateEffects). */
  readonly priorWeight: number;
  /** Periods between the comparable neighbours the baseline is taken from (7 for days: same weekday). */
  readonly baselineStep: number;
}

/** At most ×10 or ÷10: a factor beyond that is a data problem, not a holiday. */
const MAX_LOG_EFFECT = Math.log(10);
const NEIGHBOURS = 3;
const BACKFIT_ROUNDS = 3;

/** Median of xs[0..c), sorting that part in place (c is small: insertion sort). */
function medianOfFirst(xs: Float64Array, c: number): number {
  for (let i = 1; i < c; i++) {
    const v = xs[i];
    let j = i - 1;
    while (j >= 0 && xs[j] > v) { xs[j + 1] = xs[j]; j--; }
    xs[j + 1] = v;
  }
  const m = c >> 1;
  return c % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

/** Spread of true effects around their pooled value assumed by the shrinkage: about ×1.5. */
const EFFECT_SPREAD = Math.log(1.5);
/** Posterior standard deviations an effect must be away from 1 (no effect) to be applied. */
const SIGNIFICANT = 2;
/** Ordinary periods sampled to measure how noisy a series' ratios are. */
const NOISE_SAMPLE = 120;

/**
 * Log-effect per feature from y (the history, no NaN). Each event period is compared with the
 * median of its nearest ordinary neighbours (same weekday for daily data); overlapping
 * features are separated by backfitting; each estimate is shrunk towards its prior as in a
 * normal–normal empirical Bayes model:
 *   effect_f = (Σ own log-ratios + w · prior_f) / (n_f + w),  w = σ² / τ² + priorWeight,
 * where σ² is the variance of the same log-ratio on ordinary periods (how noisy this series
 * is) and τ = ln 1.5 the assumed spread of true effects: a clean series keeps its own effect,
 * a noisy one leans on its pool.
 */
export function estimateEffects(y: Float64Array, ev: SeriesEvents): Float64Array {
  const n = y.length;
  const F = ev.prior.length;
  const effects = new Float64Array(F);
  const isEvent = new Uint8Array(n);
  let hist = 0;
  while (hist < ev.t.length && ev.t[hist] < n) {
    if (ev.t[hist] >= 0) isEvent[ev.t[hist]] = 1;
    hist++;
  }
  // Ratios carry a cushion of one unit (half the mean for slow sellers), so a slow seller's
  // 0 → 1 is not a ×∞ effect while a fast mover's ratio is left as it is.
  let level = 0;
  for (let i = 0; i < n; i++) level += y[i];
  const cushion = Math.min(1, 0.5 * (n > 0 ? level / n : 0)) + 1e-9;
  const step = Math.max(1, ev.baselineStep);
  // Called for every event period and a sample of ordinary ones, in every fit: one scratch
  // buffer rather than arrays per call (allocation here made parallel workers contend in GC).
  const near = new Float64Array(2 * NEIGHBOURS + 1);
  const ratioAt = (t: number): number => {
    let c = 0;
    for (let k = 1; k <= NEIGHBOURS * 3 && c < 2 * NEIGHBOURS; k++) {
      const before = t - k * step;
      const after = t + k * step;
      if (before >= 0 && before < n && !isEvent[before]) near[c++] = y[before];
      if (after >= 0 && after < n && !isEvent[after]) near[c++] = y[after];
    }
    return c < 2 ? NaN : Math.log((y[t] + cushion) / (medianOfFirst(near, c) + cushion));
  };
  // Log-ratio of each event period to its baseline.
  const periods: number[] = [];
  const logRatio: number[] = [];
  for (let i = 0; i < hist; i++) {
    const t = ev.t[i];
    if (t < 0 || (periods.length && periods[periods.length - 1] === t)) continue;
    const r = ratioAt(t);
    if (Number.isNaN(r)) continue;
    periods.push(t);
    logRatio.push(r);
  }
  // How noisy the same ratio is where nothing happens.
  let s1 = 0;
  let s2 = 0;
  let m = 0;
  const every = Math.max(1, Math.floor(n / NOISE_SAMPLE));
  for (let t = 0; t < n; t += every) {
    if (isEvent[t]) continue;
    const r = ratioAt(t);
    if (Number.isNaN(r)) continue;
    s1 += r;
    s2 += r * r;
    m++;
  }
  const noise = m > 1 ? Math.max(0, (s2 - (s1 * s1) / m) / (m - 1)) : EFFECT_SPREAD * EFFECT_SPREAD;
  const weight = noise / (EFFECT_SPREAD * EFFECT_SPREAD) + ev.priorWeight;
  // Features present in each of those periods.
  const byPeriod = new Map<number, number[]>();
  for (let i = 0; i < hist; i++) {
    const t = ev.t[i];
    if (t < 0) continue;
    const list = byPeriod.get(t);
    if (list) list.push(ev.f[i]);
    else byPeriod.set(t, [ev.f[i]]);
  }
  const sums = new Float64Array(F);
  const counts = new Float64Array(F);
  const prior = (f: number): number => (Number.isNaN(ev.prior[f]) ? 0 : ev.prior[f]);
  for (let f = 0; f < F; f++) effects[f] = prior(f);
  for (let round = 0; round < BACKFIT_ROUNDS; round++) {
    sums.fill(0);
    counts.fill(0);
    periods.forEach((t, j) => {
      const fs = byPeriod.get(t) as number[];
      let total = 0;
      for (const f of fs) total += effects[f];
      for (const f of fs) {
        sums[f] += logRatio[j] - (total - effects[f]);
        counts[f]++;
      }
    });
    for (let f = 0; f < F; f++) {
      const e = (sums[f] + weight * prior(f)) / (counts[f] + weight);
      effects[f] = Math.max(-MAX_LOG_EFFECT, Math.min(MAX_LOG_EFFECT, e));
    }
  }
  // An effect the evidence cannot tell from none is none: its posterior spread under the same
  // normal model is √(σ² / (n_f + w)). Without this, every holiday of a calendar whose dates
  // carry no signal (or that does not move this series) adds its noise to the forecast.
  for (let f = 0; f < F; f++) if (Math.abs(effects[f]) < SIGNIFICANT * Math.sqrt(noise / (counts[f] + weight))) effects[f] = 0;
  return effects;
}

/** Multiply (direction 1) or divide (−1) values[i] by the effects of period from + i. */
export function applyEffects(values: Float64Array, from: number, ev: SeriesEvents, effects: Float64Array, direction: 1 | -1): void {
  for (let i = 0; i < ev.t.length; i++) {
    const k = ev.t[i] - from;
    if (k < 0 || k >= values.length) continue;
    values[k] *= Math.exp(direction * effects[ev.f[i]]);
  }
}

/** Effects and the de-evented history of one prefix of a series, shared by every model fitted on it. */
export type EffectsCache = Map<number, { effects: Float64Array; adjusted: Float64Array }>;

/**
 * `model`, fitted on the history with the calendar effects of `ev` divided out and forecasting
 * with them put back. `ev` is indexed from the first value of every history the model is given
 * (backtest windows and the final fit are prefixes of one series), and candidates fitted on the
 * same history share `cache`, so effects are estimated once per window.
 */
export function withEvents(model: Model, ev: SeriesEvents, cache: EffectsCache = new Map()): Model {
  return adjustedModel(model, {
    name: model.name,
    adjust(y) {
      if (ev.t.length === 0) return null;
      let hit = cache.get(y.length);
      if (!hit) {
        const effects = estimateEffects(y, ev);
        const adjusted = Float64Array.from(y);
        applyEffects(adjusted, 0, ev, effects, -1);
        hit = { effects, adjusted };
        cache.set(y.length, hit);
      }
      const { effects, adjusted } = hit;
      return {
        adjusted,
        restore(mean, sd) {
          applyEffects(mean, y.length, ev, effects, 1);
          applyEffects(sd, y.length, ev, effects, 1);
        },
        parts: (before, after) => effectParts(before, after, y.length, ev, effects),
      };
    },
    inner: (ctx) => ctx,
    label: (inner) => inner,
    part: 'event:?',
    own: (spec) => spec,
  });
}

/**
 * What the calendar effects added to a forecast (`after` − `before`, in units), one part per
 * feature. The effects of a period multiply, so they add on the log scale: a period's extra
 * units are shared among its features in proportion to their log-effects (one feature gets
 * them all), which keeps the parts adding up exactly.
 */
export function effectParts(before: Float64Array, after: Float64Array, from: number, ev: SeriesEvents, effects: Float64Array): ForecastPart[] {
  const byFeature = new Map<number, Float64Array>();
  const h = before.length;
  const logSum = new Float64Array(h);
  for (let i = 0; i < ev.t.length; i++) {
    const k = ev.t[i] - from;
    if (k >= 0 && k < h) logSum[k] += effects[ev.f[i]];
  }
  for (let i = 0; i < ev.t.length; i++) {
    const k = ev.t[i] - from;
    const e = effects[ev.f[i]];
    if (k < 0 || k >= h || e === 0 || logSum[k] === 0) continue;
    let v = byFeature.get(ev.f[i]);
    if (!v) { v = new Float64Array(h); byFeature.set(ev.f[i], v); }
    v[k] += ((after[k] - before[k]) * e) / logSum[k];
  }
  return [...byFeature].sort(([a], [b]) => a - b).map(([f, values]) => ({ key: `event:${f}`, values }));
}
