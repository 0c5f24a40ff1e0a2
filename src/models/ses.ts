/**
 * Simple exponential smoothing with alpha chosen on a grid by in-sample one-step squared error:
 * cheap and robust, the workhorse inside ADIDA and IMAPA where series are short aggregates.
 */
const GRID = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7];

export interface SesFit {
  readonly alpha: number;
  readonly level: number;
  /** Root mean squared one-step error. */
  readonly rmse: number;
}

export function fitSes(y: ArrayLike<number>): SesFit {
  const n = y.length;
  if (n === 0) throw new Error('ses: empty series');
  let best: SesFit = { alpha: GRID[0], level: y[0], rmse: Infinity };
  for (const alpha of GRID) {
    let level = y[0];
    let sse = 0;
    for (let i = 1; i < n; i++) {
      const e = y[i] - level;
      sse += e * e;
      level += alpha * e;
    }
    const rmse = n > 1 ? Math.sqrt(sse / (n - 1)) : 0;
    if (rmse < best.rmse) best = { alpha, level, rmse };
  }
  return best;
}
