import type { FitContext, Model, PointForecast } from '../models/types.js';
import { classifyDemand, type DemandClass, type DemandProfile } from '../models/classify.js';
import { imputeUnobserved } from '../models/impute.js';
import { enforceQuantileOrder, gaussianQuantiles } from '../models/quantiles.js';
import { seasonalNaive } from '../models/naive.js';
import { ets } from '../models/ets/index.js';
import { tsb } from '../models/croston.js';

/** Everything the engine publishes for one series. */
export interface SeriesForecast {
  readonly label: string;
  readonly cls: DemandClass;
  /** Non-negative point forecast per step. */
  readonly point: Float64Array;
  /** One array per requested quantile level, ascending, non-negative, non-crossing. */
  readonly quantiles: Float64Array[];
  /** Set when the chosen model failed and a fallback produced the forecast. */
  readonly fallback?: string;
}

export interface SeriesTask extends FitContext {
  readonly horizon: number;
  /** Ascending quantile levels in (0, 1). */
  readonly levels: readonly number[];
}

/** Picks the family for a series from its demand profile. */
export type ModelChooser = (profile: DemandProfile, n: number, ctx: FitContext) => Model;

/** The first-cut rule: intermittent and lumpy demand → TSB, the rest → automatic ETS. */
export const chooseByDemandClass: ModelChooser = (profile, n) => {
  if (n < 4) return seasonalNaive;
  if (profile.cls === 'intermittent' || profile.cls === 'lumpy') return tsb;
  return ets;
};

function finite(pf: PointForecast): boolean {
  for (let i = 0; i < pf.mean.length; i++) if (!Number.isFinite(pf.mean[i]) || !Number.isFinite(pf.sd[i])) return false;
  return true;
}

function publishable(label: string, cls: DemandClass, pf: PointForecast, task: SeriesTask, fallback?: string): SeriesForecast {
  const point = pf.mean.map((v) => Math.max(0, v));
  const quantiles = gaussianQuantiles(pf.mean, pf.sd, task.levels);
  enforceQuantileOrder(quantiles);
  return fallback === undefined ? { label, cls, point, quantiles } : { label, cls, point, quantiles, fallback };
}

function zeros(task: SeriesTask, cls: DemandClass, reason: string): SeriesForecast {
  const h = task.horizon;
  return { label: 'zero', cls, point: new Float64Array(h), quantiles: task.levels.map(() => new Float64Array(h)), fallback: reason };
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/**
 * Forecast one series. Never throws: a model that fails (or returns non-finite numbers) is
 * replaced by seasonal naive, and a series with no observed demand at all gets zeros; either
 * way the reason is returned so the run can list it.
 */
export function forecastSeries(y: Float64Array, task: SeriesTask, choose: ModelChooser = chooseByDemandClass): SeriesForecast {
  const obs = imputeUnobserved(y);
  const profile = classifyDemand(obs);
  if (obs.length === 0) return zeros(task, profile.cls, 'no observed periods');
  let reason: string;
  try {
    const fitted = choose(profile, obs.length, task).fit(obs, task);
    const pf = fitted.forecast(task.horizon);
    if (finite(pf)) return publishable(fitted.label, profile.cls, pf, task);
    reason = `${fitted.label} produced non-finite values`;
  } catch (e) {
    reason = message(e);
  }
  try {
    const fb = seasonalNaive.fit(obs, task).forecast(task.horizon);
    if (finite(fb)) return publishable('snaive', profile.cls, fb, task, reason);
  } catch (e) {
    reason += `; snaive: ${message(e)}`;
  }
  return zeros(task, profile.cls, reason);
}
