import type { FitContext, FittedModel, Model } from './types.js';
import { diffRms } from './stats.js';

/**
 * Seasonal naive: every step repeats the value one season earlier. With `season` 1 (or a
 * series shorter than a season) it is the plain naive forecast. Its error spread grows with
 * the number of whole seasons ahead, as a seasonal random walk's does.
 */
function fitSeasonalNaive(y: Float64Array, m: number, label: string): FittedModel {
  const n = y.length;
  if (n === 0) throw new Error(`${label}: empty series`);
  const lag = n > m ? m : 1;
  const sigma = diffRms(y, lag);
  const last = y.slice(n - lag);
  return {
    label,
    params: { lag, sigma },
    forecast(h) {
      const mean = new Float64Array(h);
      const sd = new Float64Array(h);
      for (let i = 0; i < h; i++) {
        mean[i] = last[i % lag];
        sd[i] = sigma * Math.sqrt(Math.floor(i / lag) + 1);
      }
      return { mean, sd };
    },
    // The last cycle's mean is the level; each step's distance from it, its season.
    explain(h) {
      let level = 0;
      for (let i = 0; i < lag; i++) level += last[i];
      level /= lag;
      const flat = new Float64Array(h).fill(level);
      if (lag === 1) return [{ key: 'level', values: flat }];
      return [{ key: 'level', values: flat }, { key: `season:${lag}`, values: flat.map((_v, i) => last[i % lag] - level) }];
    },
  };
}

export const naive: Model = {
  name: 'naive',
  fit: (y) => fitSeasonalNaive(y, 1, 'naive'),
};

export const seasonalNaive: Model = {
  name: 'snaive',
  fit: (y, ctx: FitContext) => fitSeasonalNaive(y, Math.max(1, Math.round(ctx.season)), 'snaive'),
};
