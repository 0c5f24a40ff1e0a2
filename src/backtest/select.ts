import { meanAbsoluteError, rootMeanSquaredError, type SeriesBacktest } from './evaluate.js';

export type SelectionMetric = 'mase' | 'rmsse';

export interface Selection {
  /** Indices of the chosen candidates, best first; one, or the best few to average. */
  readonly chosen: readonly number[];
  /** Backtest error of every candidate on the selection metric (NaN: failed). */
  readonly errors: readonly number[];
  /** Combination weight of each chosen candidate (sum 1). */
  readonly weights: readonly number[];
  /** The backtest forecasts of the selection (the weighted average when several), [window][step]. */
  readonly forecast: Float64Array;
}

/**
 * Rank candidates by backtest error and keep the best one, or combine the best `combine` with
 * weights proportional to their inverse squared backtest error (Bates & Granger, 1969). A
 * combination of good models is rarely worse than the single best, and much less sensitive
 * to which one happened to win a few windows: on the Walmart sets it beats selecting one
 * (BENCHMARKS.md). Ties keep the earlier candidate, so the ranking is deterministic. Null when
 * no candidate survived the backtest.
 */
export function selectModels(bt: SeriesBacktest, metric: SelectionMetric, combine: number): Selection | null {
  const score = metric === 'rmsse' ? rootMeanSquaredError : meanAbsoluteError;
  const errors = bt.forecasts.map((f) => (f ? score(bt.actuals, f) : NaN));
  const ranked = errors.map((e, i) => [e, i] as const).filter(([e]) => Number.isFinite(e)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (ranked.length === 0) return null;
  const chosen = ranked.slice(0, Math.max(1, combine)).map(([, i]) => i);
  const forecast = new Float64Array(bt.actuals.length);
  // Relative to the best error, so that huge errors cannot underflow every weight to 0 (0/0).
  const best = Math.max(errors[chosen[0]], Number.MIN_VALUE);
  const raw = chosen.map((i) => (best / Math.max(errors[i], Number.MIN_VALUE)) ** 2);
  const tot = raw.reduce((a, b) => a + b, 0);
  const weights = raw.map((w) => w / tot);
  chosen.forEach((i, k) => {
    const f = bt.forecasts[i] as Float64Array;
    for (let j = 0; j < forecast.length; j++) forecast[j] += f[j] * weights[k];
  });
  return { chosen, errors, forecast, weights };
}
