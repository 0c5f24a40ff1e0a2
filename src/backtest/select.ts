import { meanAbsoluteError, rootMeanSquaredError, type SeriesBacktest } from './evaluate.js';

export type SelectionMetric = 'mase' | 'rmsse';

/** How the candidates of one series ranked on its backtest, and the combination of the best. */
export interface Ranking {
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
export function rankCandidates(bt: SeriesBacktest, metric: SelectionMetric, combine: number, without?: number): Ranking | null {
  const score = metric === 'rmsse' ? rootMeanSquaredError : meanAbsoluteError;
  // Leaving a window out: its actuals count as unobserved for the ranking and the weights.
  const actuals = without === undefined ? bt.actuals : bt.actuals.map((a, i) => (Math.floor(i / bt.h) === without ? NaN : a));
  const errors = bt.forecasts.map((f) => (f ? score(actuals, f) : NaN));
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

/**
 * Errors (actual − forecast, [window][step]) of selections that never saw the window they are
 * measured on: for each window, the selection made on the other windows (leave one window
 * out, as cross-conformal prediction does, Vovk 2015). The shipped selection was chosen
 * because it did well on all the windows, so its own errors there understate what it misses
 * on new data; calibrating bands on them is what made them too narrow. NaN where a window
 * has no selection without it (a single window).
 */
export function outOfSelectionErrors(bt: SeriesBacktest, metric: SelectionMetric, combine: number): Float64Array {
  const k = bt.origins.length;
  const out = new Float64Array(bt.actuals.length).fill(NaN);
  if (k < 2) return out;
  for (let w = 0; w < k; w++) {
    const sel = rankCandidates(bt, metric, combine, w);
    if (!sel) continue;
    for (let i = w * bt.h; i < (w + 1) * bt.h; i++) out[i] = bt.actuals[i] - sel.forecast[i];
  }
  return out;
}
