import { normalQuantile } from './stats.js';

/**
 * Quantile forecasts from a point forecast and an error spread, assuming Gaussian errors.
 * Demand cannot be negative, so each quantile is floored at zero (the quantiles of the
 * censored distribution); flooring keeps them ordered.
 */
export function gaussianQuantiles(mean: Float64Array, sd: Float64Array, levels: readonly number[]): Float64Array[] {
  const z = levels.map(normalQuantile);
  return z.map((zq) => {
    const q = new Float64Array(mean.length);
    for (let i = 0; i < mean.length; i++) q[i] = Math.max(0, mean[i] + zq * sd[i]);
    return q;
  });
}

/** Force non-negative, non-crossing quantiles in place (levels must be ascending). */
export function enforceQuantileOrder(qs: Float64Array[]): void {
  if (qs.length === 0) return;
  const h = qs[0].length;
  for (let i = 0; i < h; i++) {
    let floor = 0;
    for (const q of qs) {
      if (!(q[i] >= floor)) q[i] = floor;
      floor = q[i];
    }
  }
}
