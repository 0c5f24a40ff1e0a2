/**
 * Forecast accuracy metrics, as the M4 and M5 competitions define them and as
 * ../shared/tools/score.mjs computes them. Scaled metrics divide by the in-sample error of the
 * one-step naive forecast, so series of any size average fairly.
 */

/** Mean absolute one-step difference of the history: the MASE denominator (M4). */
export function maseScale(history: ArrayLike<number>, lag = 1): number {
  let s = 0;
  let n = 0;
  for (let i = lag; i < history.length; i++) { s += Math.abs(history[i] - history[i - lag]); n++; }
  return n > 0 ? s / n : 0;
}

/** Root mean squared one-step difference: the RMSSE denominator (M5). */
export function rmsseScale(history: ArrayLike<number>, lag = 1): number {
  let s = 0;
  let n = 0;
  for (let i = lag; i < history.length; i++) { const d = history[i] - history[i - lag]; s += d * d; n++; }
  return n > 0 ? Math.sqrt(s / n) : 0;
}

export function pinball(y: number, q: number, tau: number): number {
  return y >= q ? tau * (y - q) : (1 - tau) * (q - y);
}

export interface PointScores {
  readonly mase: number;
  readonly rmsse: number;
  /** Sum of absolute errors and of absolute actuals: WAPE aggregates as a ratio of sums. */
  readonly absError: number;
  readonly absActual: number;
  /** Mean error (forecast − actual), scaled like MASE: positive means over-forecast. */
  readonly bias: number;
}

/** Scores of one forecast path against actuals (NaN actuals, unobserved, are skipped). Scales of 0 give NaN scaled metrics. */
export function pointScores(actual: ArrayLike<number>, forecast: ArrayLike<number>, mScale: number, rScale: number): PointScores {
  let h = 0;
  let ae = 0;
  let se = 0;
  let e = 0;
  let aa = 0;
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(actual[i])) continue;
    h++;
    const d = forecast[i] - actual[i];
    ae += Math.abs(d);
    se += d * d;
    e += d;
    aa += Math.abs(actual[i]);
  }
  const ok = (s: number): number => (s > 0 ? s : NaN);
  return { mase: ae / h / ok(mScale), rmsse: Math.sqrt(se / h) / ok(rScale), absError: ae, absActual: aa, bias: e / h / ok(mScale) };
}

/** Mean pinball loss of each quantile path over the observed actuals, scaled by the MASE denominator. */
export function scaledPinball(actual: ArrayLike<number>, quantiles: readonly ArrayLike<number>[], levels: readonly number[], mScale: number): number[] {
  return levels.map((tau, k) => {
    let s = 0;
    let n = 0;
    for (let i = 0; i < actual.length; i++) if (!Number.isNaN(actual[i])) { s += pinball(actual[i], quantiles[k][i], tau); n++; }
    return n ? s / n / (mScale > 0 ? mScale : NaN) : NaN;
  });
}

/** Share of observed actuals inside [lo, hi]. */
export function coverage(actual: ArrayLike<number>, lo: ArrayLike<number>, hi: ArrayLike<number>): number {
  let c = 0;
  let n = 0;
  for (let i = 0; i < actual.length; i++) {
    if (Number.isNaN(actual[i])) continue;
    n++;
    if (actual[i] >= lo[i] && actual[i] <= hi[i]) c++;
  }
  return n ? c / n : NaN;
}
