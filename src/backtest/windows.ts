/**
 * Rolling-origin evaluation windows: K forecasts of h periods, made from origins at the end of
 * the series, each fitted only on what came before it. Origins are h apart when the history
 * allows; when it is short, they move closer together (overlapping windows) rather than
 * start so early that the seasonal models could not be fitted at all.
 */
export interface WindowPlan {
  /** Training lengths (origins), oldest first. Window j forecasts y[origin_j .. origin_j + h). */
  readonly origins: readonly number[];
}

/** Shortest history a window may be fitted on: two cycles of the longest period that fits, else max(h, 8). */
function minimumTraining(n: number, h: number, periods: readonly number[]): number {
  const fitting = periods.map(Math.round).filter((p) => p >= 2 && 2 * p <= n - h);
  return fitting.length > 0 ? 2 * Math.max(...fitting) : Math.max(h, 8);
}

export function planWindows(n: number, h: number, windows: number, periods: readonly number[]): WindowPlan {
  const last = n - h;
  const min = minimumTraining(n, h, periods);
  if (windows < 1 || last < min) return { origins: [] };
  const room = last - min;
  const stride = windows > 1 ? Math.max(1, Math.min(h, Math.floor(room / (windows - 1)))) : h;
  const origins: number[] = [];
  for (let j = windows - 1; j >= 0; j--) {
    const o = last - j * stride;
    if (o >= min) origins.push(o);
  }
  return { origins };
}
