import type { FitContext, FittedModel, Model } from './types.js';

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
  /** How many of the series' own occurrences the pooled estimate is worth. */
  readonly priorWeight: number;
  /** Periods between the comparable neighbours the baseline is taken from (7 for days: same weekday). */
  readonly baselineStep: number;
}

/** At most ×10 or ÷10: a factor beyond that is a data problem, not a holiday. */
const MAX_LOG_EFFECT = Math.log(10);
const NEIGHBOURS = 3;
const BACKFIT_ROUNDS = 3;

function median(xs: number[]): number {
  xs.sort((a, b) => a - b);
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : (xs[m - 1] + xs[m]) / 2;
}

/**
 * Log-effect per feature from y (the history, no NaN). Each event period is compared with the
 * median of its nearest ordinary neighbours (same weekday for daily data); overlapping
 * features are separated by backfitting; each estimate is shrunk towards its prior:
 *   effect_f = (Σ own log-ratios + w · prior_f) / (n_f + w).
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
  // Ratios are taken with a cushion of half the mean level, so a slow seller's 0 → 1 is not a ×∞ effect.
  let level = 0;
  for (let i = 0; i < n; i++) level += y[i];
  const cushion = 0.5 * (n > 0 ? level / n : 0) + 1e-9;
  // Log-ratio of each event period to its baseline.
  const periods: number[] = [];
  const logRatio: number[] = [];
  const step = Math.max(1, ev.baselineStep);
  for (let i = 0; i < hist; i++) {
    const t = ev.t[i];
    if (t < 0 || (periods.length && periods[periods.length - 1] === t)) continue;
    const near: number[] = [];
    for (let k = 1; k <= NEIGHBOURS * 3 && near.length < 2 * NEIGHBOURS; k++) {
      for (const s of [t - k * step, t + k * step]) if (s >= 0 && s < n && !isEvent[s]) near.push(y[s]);
    }
    if (near.length < 2) continue;
    periods.push(t);
    logRatio.push(Math.log((y[t] + cushion) / (median(near) + cushion)));
  }
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
      const e = (sums[f] + ev.priorWeight * prior(f)) / (counts[f] + ev.priorWeight);
      effects[f] = Math.max(-MAX_LOG_EFFECT, Math.min(MAX_LOG_EFFECT, e));
    }
  }
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

export interface EventContext extends FitContext {
  readonly events?: SeriesEvents;
}

/** `model`, fitted on the history with calendar effects divided out and forecasting with them put back. */
export function withEvents(model: Model): Model {
  return {
    name: model.name,
    fit(y: Float64Array, ctx: EventContext): FittedModel {
      const ev = ctx.events;
      if (!ev || ev.t.length === 0) return model.fit(y, ctx);
      const effects = estimateEffects(y, ev);
      const adjusted = Float64Array.from(y);
      applyEffects(adjusted, 0, ev, effects, -1);
      const inner = model.fit(adjusted, ctx);
      return {
        label: inner.label,
        params: inner.params,
        forecast(h) {
          const f = inner.forecast(h);
          const mean = Float64Array.from(f.mean);
          const sd = Float64Array.from(f.sd);
          applyEffects(mean, y.length, ev, effects, 1);
          applyEffects(sd, y.length, ev, effects, 1);
          return { mean, sd };
        },
      };
    },
  };
}
