import type { SeasonForm, TrendForm } from './filter.js';
import { mean } from '../stats.js';

/**
 * Heuristic initial states, as in Hyndman et al. (2008, §2.6.1): seasonal indices from the
 * first full seasons around their means, level from the first season, trend from the change
 * between the first two seasons. The optimiser refines level and trend; seasonal starts stay.
 */
export interface InitialStates {
  readonly l0: number;
  readonly b0: number;
  readonly s0: Float64Array;
}

export function initialStates(y: Float64Array, m: number, trend: TrendForm, season: SeasonForm): InitialStates {
  const n = y.length;
  if (season === 'N') {
    const k = Math.min(n, 10);
    const l0 = mean(y, 0, Math.max(1, Math.min(n, 4)));
    let b0 = 0;
    if (trend !== 'N' && n >= 2) b0 = (mean(y, Math.floor(k / 2), k) - mean(y, 0, Math.floor(k / 2))) / Math.max(1, Math.floor(k / 2));
    return { l0, b0, s0: new Float64Array(0) };
  }
  const seasons = Math.min(Math.floor(n / m), 3);
  const s0 = new Float64Array(m);
  for (let j = 0; j < seasons; j++) {
    const mj = mean(y, j * m, (j + 1) * m);
    for (let i = 0; i < m; i++) s0[i] += season === 'A' ? y[j * m + i] - mj : y[j * m + i] / (mj || 1);
  }
  let norm = 0;
  for (let i = 0; i < m; i++) { s0[i] /= seasons; norm += s0[i]; }
  norm /= m;
  for (let i = 0; i < m; i++) s0[i] = season === 'A' ? s0[i] - norm : s0[i] / (norm || 1);
  const m1 = mean(y, 0, m);
  const m2 = seasons >= 2 ? mean(y, m, 2 * m) : m1;
  return { l0: m1, b0: trend === 'N' ? 0 : (m2 - m1) / m, s0 };
}
