import type { DemandProfile } from '../models/classify.js';
import { classifyDemand } from '../models/classify.js';
import { imputeUnobserved } from '../models/impute.js';
import { withEvents, type EffectsCache, type SeriesEvents } from '../models/events.js';
import { modelByName, type ModelName } from '../models/library.js';
import { backtestSeries } from '../backtest/evaluate.js';
import { planWindows } from '../backtest/windows.js';
import { outOfSelectionErrors, rankCandidates } from '../backtest/select.js';
import { maseScale, pointScores, rmsseScale } from '../backtest/metrics.js';
import type { FittedModel } from '../models/types.js';
import type { CandidateBacktest, FixedSelection, ModelResolver, OpenForecast, SeriesForecast, SeriesTask } from './types.js';
import { finite, fitChosen, type ChosenFit } from './fit-chosen.js';
import { fallback, zeros } from './fallback.js';
import { globalModel, type GlobalSeries } from '../models/global/model.js';

const finiteOrNaN = (x: number): number => (Number.isFinite(x) ? x : NaN);

/** Events re-indexed to a series that starts `start` periods later. */
function shiftEvents(ev: SeriesEvents, start: number): SeriesEvents {
  if (start === 0) return ev;
  return { ...ev, t: ev.t.map((t) => t - start) };
}

/** A history too short for even one backtest window: what the local models need, whatever `windows` says. */
export function tooShortForBacktest(n: number, task: SeriesTask): boolean {
  return planWindows(n, task.horizon, Math.max(1, task.windows), task.seasons).origins.length === 0;
}

/**
 * The fewest periods of span a series needs for one backtest window; Infinity when even
 * `maxHistory` periods are too few (histories are cut to it, so then every series is short).
 * The one test of "too short" for code that counts spans in SQL (launches, the network's uses).
 */
export function backtestMinimum(task: SeriesTask): number {
  let lo = 1;
  let hi = task.maxHistory + 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (tooShortForBacktest(mid, task)) lo = mid + 1;
    else hi = mid;
  }
  return lo > task.maxHistory ? Infinity : lo;
}

/** Without a backtest (very short history), the demand class decides. */
function ruleChoice(profile: DemandProfile, n: number): ModelName {
  if (n < 4) return 'snaive';
  return profile.cls === 'intermittent' || profile.cls === 'lumpy' ? 'tsb' : 'ets';
}

/**
 * Forecast one series: classify its demand, backtest the candidates for its class on rolling
 * windows, keep the best (or combine the best few), refit on the full history; or refit a
 * registered version (`fixed`). Never throws: if every chosen model fails, the fallbacks step
 * in (fallback.ts). `closed`: the store's closed periods, counted from y[0] (history and
 * horizon): 0 in the forecast. `global`: the run's global networks for this series (the
 * `global` candidate, and the forecaster of series too short for the local models).
 */
export function forecastSeries(y: Float64Array, task: SeriesTask, library: ModelResolver = modelByName, seriesEvents?: SeriesEvents, fixed?: FixedSelection, closed?: Int32Array, global?: GlobalSeries): SeriesForecast {
  const h = task.horizon;
  const shut = new Uint8Array(h);
  if (closed) for (const t of closed) if (t >= y.length && t < y.length + h) shut[t - y.length] = 1;
  const f = forecastOpen(y, task, library, seriesEvents, fixed, global);
  // In-sample errors (aligned to the end of y) say nothing where the store was closed.
  if (closed && f.insample) for (const t of closed) { const k = t - (y.length - f.insample.length); if (k >= 0 && k < f.insample.length) f.insample[k] = NaN; }
  // A period the store is known to be closed sells nothing, whatever the models say: and so
  // every part of it is 0.
  if (closed && closed.length) {
    for (let s = 0; s < h; s++) {
      if (!shut[s]) continue;
      f.point[s] = 0;
      for (const p of [...(f.parts ?? []), ...(f.members ?? [])]) p.values[s] = 0;
    }
  }
  return { ...f, closed: shut };
}

function forecastOpen(y: Float64Array, task: SeriesTask, library: ModelResolver, seriesEvents: SeriesEvents | undefined, fixed: FixedSelection | undefined, global: GlobalSeries | undefined): OpenForecast {
  const h = task.horizon;
  let start = 0;
  while (start < y.length && Number.isNaN(y[start])) start++;
  const full = imputeUnobserved(y);
  // The scale of errors comes from the whole history; models see a bounded recent window.
  const skip = Math.max(0, full.length - task.maxHistory);
  const obs = full.subarray(skip);
  // As observed (NaN where not: stock-outs, outages, closures): what backtests score against.
  const observed = y.subarray(start + skip);
  const events = seriesEvents && seriesEvents.t.length > 0 ? shiftEvents(seriesEvents, start + skip) : undefined;
  const effects: EffectsCache = new Map();
  // The global network reads the calendar and the series' own values itself (as observed, from
  // where `obs` starts), so it is not wrapped in the local models' calendar adjustment.
  const local: ModelResolver = events ? (name) => withEvents(library(name), events, effects) : library;
  const resolve: ModelResolver = global ? (name) => (name === 'global' ? globalModel(global, start + skip) : local(name)) : local;
  const profile = classifyDemand(obs);
  // Scales overflow only on absurd values (near the largest double); NaN means "no scale".
  const base = { cls: profile.cls, scale: finiteOrNaN(maseScale(full)), rscale: finiteOrNaN(rmsseScale(full)) };
  const plan = planWindows(obs.length, h, task.windows, task.seasons);
  // Too short for a backtest (or no history at all: a new item has no values): the network
  // trained across all series knows more than a local model fitted on a few periods.
  const cold = !fixed && tooShortForBacktest(obs.length, task) && global?.current && (obs.length > 0 || y.length === 0) ? coldStart(obs, task, resolve, base) : null;
  if (cold) return cold;
  // A new item's registered version is the network's: it forecasts from nothing, the others cannot.
  const reusedNewItem = fixed !== undefined && y.length === 0 && fixed.models.includes('global');
  if (obs.length === 0 && !reusedNewItem) return zeros(base, h, 'no observed periods');

  const names = task.candidates[profile.cls];
  let chosen: readonly ModelName[] = [ruleChoice(profile, obs.length)];
  let weights: readonly number[] = [1];
  let selected: Pick<Extract<SeriesForecast, { kind: 'selected' }>, 'score' | 'residuals' | 'candidateErrors' | 'windows'> | null = null;
  let backtest: CandidateBacktest | undefined;
  let backtested: Map<ModelName, FittedModel | null> | undefined;
  if (fixed) {
    chosen = fixed.models;
    weights = fixed.weights;
  } else if (plan.origins.length > 0 && names.length > 0) {
    const bt = backtestSeries(obs, names.map(resolve), task, h, plan.origins, observed);
    if (task.detail) backtest = { names, run: bt, fromEnd: Int32Array.from(plan.origins, (o) => obs.length - o) };
    backtested = new Map(names.map((n, i) => [n, bt.fits[i]]));
    const ranking = rankCandidates(bt, task.metric, task.combine);
    if (ranking) {
      chosen = ranking.chosen.map((i) => names[i]);
      weights = ranking.weights;
      const p = pointScores(bt.actuals, ranking.forecast, base.scale, base.rscale);
      selected = {
        score: { mase: p.mase, rmsse: p.rmsse, bias: p.bias, absError: p.absError, absActual: p.absActual },
        residuals: outOfSelectionErrors(bt, task.metric, task.combine),
        candidateErrors: new Map(names.map((n, i) => [n, ranking.errors[i]])),
        windows: { forecast: ranking.forecast, fromEnd: Int32Array.from(plan.origins, (o) => obs.length - o) },
      };
    }
  }
  const fit = fitChosen(chosen, weights, obs, task, resolve, fixed, backtested);
  if (!('label' in fit)) return fallback(obs, task, base, fit.error);
  const { point, parts } = floored(fit);
  if (!finite({ mean: point, sd: fit.pf.sd })) return fallback(obs, task, base, `${fit.label} produced non-finite values`);
  // In-sample errors only where the period was observed (not where it was imputed).
  const from = observed.length - (fit.insample?.length ?? 0);
  const insample = fit.insample?.map((e, k) => (Number.isNaN(observed[from + k]) ? NaN : e));
  const common = { ...base, label: fit.label, point, sd: fit.pf.sd, parts, members: fit.members, effects: effectsAhead(effects.get(obs.length)?.effects, events, obs.length), selection: fit.selection, ...(backtest ? { backtest } : {}), ...(insample ? { insample } : {}) };
  if (selected) return { ...common, kind: 'selected', ...selected };
  return { ...common, kind: fixed ? 'reused' : 'rule' };
}

/** The global network's forecast of a series with too little history for the local models; null when it cannot make one. */
function coldStart(obs: Float64Array, task: SeriesTask, resolve: ModelResolver, base: Pick<OpenForecast, 'cls' | 'scale' | 'rscale'>): OpenForecast | null {
  const fit = fitChosen(['global'], [1], obs, task, resolve);
  if (!('label' in fit)) return null;
  const { point, parts } = floored(fit);
  if (!finite({ mean: point, sd: fit.pf.sd })) return null;
  return { ...base, kind: 'cold-start', label: fit.label, point, sd: fit.pf.sd, parts, members: fit.members, effects: -1, selection: fit.selection };
}

/** Demand is not negative: the point forecast floored at 0, and what the floor took away as a part of its own. */
function floored(fit: ChosenFit): { point: Float64Array; parts: ChosenFit['parts'] } {
  const point = fit.pf.mean.map((v) => Math.max(0, v));
  const floor = point.map((v, i) => v - fit.pf.mean[i]);
  return { point, parts: floor.some((v) => v !== 0) ? [...fit.parts, { key: 'floor', values: floor }] : fit.parts };
}

/** How many calendar effects move the forecast (features with an effect on a period ahead); -1 without calendar features. */
function effectsAhead(effects: Float64Array | undefined, events: SeriesEvents | undefined, n: number): number {
  if (!events) return -1;
  if (!effects) return 0;
  const used = new Set<number>();
  for (let i = 0; i < events.t.length; i++) if (events.t[i] >= n && effects[events.f[i]] !== 0) used.add(events.f[i]);
  return used.size;
}
