import type { FittedModel, Model } from './types.js';
import { fitSes } from './ses.js';
import { crostonSba } from './croston.js';

/**
 * Temporal aggregation for intermittent demand. ADIDA (Nikolopoulos et al., JORS 2011) sums
 * the series into buckets as long as the mean interval between demands, where demand is no
 * longer intermittent, forecasts the buckets with SES, and spreads the result evenly. IMAPA
 * (Petropoulos & Kourentzes, JORS 2015) averages such forecasts over every aggregation level
 * from 1 to that interval. Buckets are aligned to the end of the series.
 */

/** Non-overlapping sums of k periods, the last bucket ending at the last observation. */
export function aggregate(y: Float64Array, k: number): Float64Array {
  const buckets = Math.floor(y.length / k);
  const out = new Float64Array(buckets);
  const start = y.length - buckets * k;
  for (let b = 0; b < buckets; b++) {
    let s = 0;
    for (let j = 0; j < k; j++) s += y[start + b * k + j];
    out[b] = s;
  }
  return out;
}

/** Mean number of periods between demands, rounded, at least 1. */
function meanInterval(y: Float64Array): number {
  let nz = 0;
  for (let i = 0; i < y.length; i++) if (y[i] > 0) nz++;
  return nz > 0 ? Math.max(1, Math.round(y.length / nz)) : 1;
}

function flatForecast(label: string, rate: number, sigma: number, params: Record<string, number>): FittedModel {
  return {
    label,
    params: { ...params, rate, sigma },
    forecast(h) {
      return { mean: new Float64Array(h).fill(rate), sd: new Float64Array(h).fill(sigma) };
    },
  };
}

/** Per-period rate and spread from SES on the series aggregated at level k. */
function levelRate(y: Float64Array, k: number): { rate: number; sigma: number } {
  const agg = aggregate(y, k);
  if (agg.length < 2) {
    const f = crostonSba.fit(y, { season: 1, seasons: [] });
    return { rate: f.forecast(1).mean[0], sigma: f.params.sigma ?? 0 };
  }
  const s = fitSes(agg);
  // A bucket's error spread, spread evenly over its k periods (independent periods: / sqrt(k)).
  return { rate: s.level / k, sigma: s.rmse / Math.sqrt(k) };
}

export const adida: Model = {
  name: 'adida',
  fit(y) {
    if (y.length === 0) throw new Error('adida: empty series');
    const k = meanInterval(y);
    const { rate, sigma } = levelRate(y, k);
    return flatForecast('adida', rate, sigma, { k });
  },
};

export const imapa: Model = {
  name: 'imapa',
  fit(y) {
    if (y.length === 0) throw new Error('imapa: empty series');
    const kMax = meanInterval(y);
    let rate = 0;
    let sigma = 0;
    for (let k = 1; k <= kMax; k++) {
      const r = levelRate(y, k);
      rate += r.rate / kMax;
      sigma += r.sigma / kMax;
    }
    return flatForecast('imapa', rate, sigma, { levels: kMax });
  },
};
