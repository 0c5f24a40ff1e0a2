import type { FitContext, FittedModel, Model } from '../models/types.js';

/**
 * Backtest candidate models on one series: for each window, fit on the history before its
 * origin and forecast h periods. The oldest window fits afresh; later windows refit that fit
 * (same structure, warm-started parameters) where the model can, as statsforecast's and
 * R's rolling-origin tools do for speed. Pure, so the worker, the backtest command and tests all use it.
 */
export interface SeriesBacktest {
  readonly origins: readonly number[];
  readonly h: number;
  /** Actuals, row-major [window][step]. */
  readonly actuals: Float64Array;
  /** Per candidate: forecasts [window][step], or null when the model failed in any window. */
  readonly forecasts: (Float64Array | null)[];
  /** Per candidate: the one-step error spread each window's fit claimed, [window] (for calibration). */
  readonly units: (Float64Array | null)[];
  /** Per candidate: the newest window's fit (null when the model failed), which the final fit can start from. */
  readonly fits: (FittedModel | null)[];
}

/**
 * `observed` is the series as it was seen, NaN where demand was not observed (stock-outs,
 * outages, closed periods): models are fitted on `y` (imputed) but scored only where demand
 * was observed, so an interpolated value never decides which model wins.
 */
export function backtestSeries(y: Float64Array, candidates: readonly Model[], ctx: FitContext, h: number, origins: readonly number[], observed: Float64Array = y): SeriesBacktest {
  const k = origins.length;
  const actuals = new Float64Array(k * h);
  for (let w = 0; w < k; w++) actuals.set(observed.subarray(origins[w], origins[w] + h), w * h);
  const units: (Float64Array | null)[] = [];
  const fits: (FittedModel | null)[] = [];
  // One history array per window, shared by every candidate (so shared work can be cached on it).
  const prefixes = origins.map((o) => y.subarray(0, o));
  const forecasts = candidates.map((model) => {
    const out = new Float64Array(k * h);
    const unit = new Float64Array(k);
    units.push(null);
    fits.push(null);
    let fitted = null as FittedModel | null;
    for (let w = 0; w < k; w++) {
      try {
        const yw = prefixes[w];
        fitted = fitted?.refit ? fitted.refit(yw, ctx) : model.fit(yw, ctx);
        const f = fitted.forecast(h);
        for (let i = 0; i < h; i++) {
          const v = Math.max(0, f.mean[i]);
          if (!Number.isFinite(v)) return null;
          out[w * h + i] = v;
        }
        unit[w] = f.sd[0];
      } catch {
        return null;
      }
    }
    units[units.length - 1] = unit;
    fits[fits.length - 1] = fitted;
    return out;
  });
  return { origins, h, actuals, forecasts, units, fits };
}

/** Mean absolute error over every window and step where the actual was observed. */
export function meanAbsoluteError(actuals: Float64Array, forecast: Float64Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < actuals.length; i++) if (!Number.isNaN(actuals[i])) { s += Math.abs(forecast[i] - actuals[i]); n++; }
  return n ? s / n : NaN;
}

/** Root mean squared error over every window and step where the actual was observed. */
export function rootMeanSquaredError(actuals: Float64Array, forecast: Float64Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < actuals.length; i++) if (!Number.isNaN(actuals[i])) { s += (forecast[i] - actuals[i]) ** 2; n++; }
  return n ? Math.sqrt(s / n) : NaN;
}
