import { stl } from './stl.js';

/**
 * MSTL: STL extended to several seasonal periods (Bandara, Hyndman & Bergmeir, 2021). Each
 * seasonal component is re-estimated in turn from the series minus the others, shortest
 * period first, with seasonal spans 7 + 4i as in R's forecast::mstl. Periods with fewer than
 * two full cycles of data are left out, as mstl does.
 */
export interface MultiDecomposition {
  readonly periods: readonly number[];
  /** One component per kept period, same order. */
  readonly seasonals: readonly Float64Array[];
  /** y minus every seasonal component. */
  readonly adjusted: Float64Array;
}

export function mstl(y: Float64Array, periods: readonly number[], iterations = 2): MultiDecomposition {
  const n = y.length;
  const kept = [...new Set(periods.map(Math.round))].filter((p) => p >= 2 && n >= 2 * p).sort((a, b) => a - b);
  const seasonals = kept.map(() => new Float64Array(n));
  const adjusted = Float64Array.from(y);
  if (kept.length === 0) return { periods: kept, seasonals, adjusted };
  const rounds = kept.length === 1 ? 1 : iterations;
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < kept.length; i++) {
      const s = seasonals[i];
      for (let t = 0; t < n; t++) adjusted[t] += s[t];
      const d = stl(adjusted, kept[i], { seasonalSpan: 7 + 4 * (i + 1) });
      s.set(d.seasonal);
      for (let t = 0; t < n; t++) adjusted[t] -= s[t];
    }
  }
  return { periods: kept, seasonals, adjusted };
}
