import type { FitContext, Model } from './types.js';
import { adjustedModel, type Adjustment } from './adjusted.js';
import { mstl } from './decompose/mstl.js';
import { hasSeasonality, multiplicativeIndices } from './decompose/classical.js';

/**
 * Forecast a seasonal series by taking the season out, forecasting what is left with a
 * non-seasonal model, and putting the season back: how R's stlf and thetaf work, and what
 * lets a 52-week or 365-day cycle be handled at all (ETS cannot carry 51 seasonal states).
 * When the series is too short or shows no seasonality, the base model runs on the raw data
 * and the label says so.
 */
export type SeasonalSplit = Adjustment;

/** Removes the season from y, or returns null when there is none to remove. */
export type Deseasonalizer = (y: Float64Array, periods: readonly number[]) => SeasonalSplit | null;

/**
 * Decompositions already made, by history array: several candidates (stl-ets, stl-otm…) fitted
 * on the same history share one MSTL, the costliest step of a daily series with a yearly cycle.
 * Callers pass the very same array to every candidate of a window for this to hit.
 */
const decompositions = new WeakMap<Float64Array, Map<string, ReturnType<typeof mstl>>>();

function cachedMstl(y: Float64Array, periods: readonly number[]): ReturnType<typeof mstl> {
  const key = periods.join(',');
  let byPeriods = decompositions.get(y);
  if (!byPeriods) { byPeriods = new Map(); decompositions.set(y, byPeriods); }
  let d = byPeriods.get(key);
  if (!d) { d = mstl(y, periods); byPeriods.set(key, d); }
  return d;
}

/** Additive STL/MSTL over every period with two full cycles of data; the season ahead is the last cycle. */
export const stlSplit: Deseasonalizer = (y, periods) => {
  const d = cachedMstl(y, periods);
  if (d.periods.length === 0) return null;
  const n = y.length;
  return {
    adjusted: d.adjusted,
    restore(mean) {
      for (let i = 0; i < mean.length; i++) {
        for (let k = 0; k < d.periods.length; k++) {
          const p = d.periods[k];
          mean[i] += d.seasonals[k][n - p + (i % p)];
        }
      }
    },
    // One part per cycle (weekly and yearly on daily data), each exactly what it added.
    parts(before) {
      return d.periods.map((p, k) => ({ key: `season:${p}`, values: before.map((_v, i) => d.seasonals[k][n - p + (i % p)]) }));
    },
  };
};

/** Classical multiplicative indices on the main period, only when the ACF test finds seasonality (as thetaf). */
export const multiplicativeSplit: Deseasonalizer = (y, periods) => {
  const m = Math.round(periods[0] ?? 1);
  if (m < 2 || y.length < 2 * m || !hasSeasonality(y, m)) return null;
  for (let i = 0; i < y.length; i++) if (!(y[i] > 0)) return null;
  const idx = multiplicativeIndices(y, m);
  const n = y.length;
  return {
    adjusted: y.map((v, i) => v / idx[i % m]),
    restore(mean, sd) {
      for (let i = 0; i < mean.length; i++) {
        const s = idx[(n + i) % m];
        mean[i] *= s;
        sd[i] *= s;
      }
    },
  };
};

/** The base model sees no season. */
const PLAIN: FitContext = { season: 1, seasons: [] };

export function seasonallyAdjusted(prefix: string, split: Deseasonalizer, base: Model): Model {
  return adjustedModel(base, {
    name: `${prefix}-${base.name}`,
    adjust: (y, ctx) => {
      const s = split(y, ctx.seasons);
      const m = Math.round(ctx.seasons[0] ?? ctx.season);
      // A split that names no parts took out the main cycle.
      return s && !s.parts ? { ...s, parts: (before, after) => [{ key: `season:${m}`, values: after.map((v, i) => v - before[i]) }] } : s;
    },
    inner: () => PLAIN,
    label: (inner) => `${prefix}-${inner}`,
    part: `season:${prefix}`,
    // The part of a registered structure that was the base model's own (`stl-ets-AAdN` → `ets-AAdN`).
    own: (spec) => (spec.structure.startsWith(`${prefix}-`) ? { structure: spec.structure.slice(prefix.length + 1), params: spec.params } : undefined),
  });
}
