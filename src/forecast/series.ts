import type { FitContext, FittedModel, Model, PointForecast } from '../models/types.js';
import { classifyDemand, type DemandClass, type DemandProfile } from '../models/classify.js';
import { imputeUnobserved } from '../models/impute.js';
import { withEvents, type EffectsCache, type SeriesEvents } from '../models/events.js';
import { seasonalNaive } from '../models/naive.js';
import { modelByName, type ModelName } from '../models/library.js';
import { backtestSeries, type SeriesBacktest } from '../backtest/evaluate.js';
import { planWindows } from '../backtest/windows.js';
import { outOfSelectionErrors, selectModels, type SelectionMetric } from '../backtest/select.js';
import { maseScale, pointScores, rmsseScale } from '../backtest/metrics.js';

/** What a worker needs to forecast any series of a run. */
export interface SeriesTask extends FitContext {
  readonly horizon: number;
  /** Candidate models per demand class. */
  readonly candidates: Readonly<Record<DemandClass, readonly ModelName[]>>;
  /** Backtest windows per series (0: no backtest, pick by demand class). */
  readonly windows: number;
  readonly metric: SelectionMetric;
  /** Combine the best this many candidates, weighted by backtest error (1: the single best). */
  readonly combine: number;
  /** Keep every candidate's backtest forecasts (for the backtest report), not just the selection's. */
  readonly detail?: boolean;
  /** Fit on at most this many of the latest periods (older history adds cost, not accuracy). */
  readonly maxHistory: number;
}

/** What a series was forecast with: models, combination weights (sum 1), fitted parameters. */
export interface Selection {
  readonly models: readonly ModelName[];
  readonly weights: readonly number[];
  /** Each model's fitted label (its structure, e.g. `stl-ets-AAdN`), for cheap refits. */
  readonly labels: readonly string[];
  readonly params: readonly Readonly<Record<string, number>>[];
}

/** A stored selection to reuse instead of backtesting again (nightly runs, pinned versions). */
export interface FixedSelection {
  readonly models: readonly ModelName[];
  readonly weights: readonly number[];
  /** Fitted labels of the registered version: models refit within that structure. */
  readonly labels?: readonly string[];
  /** Its fitted parameters: models that can keep them just run their recursions on the new data. */
  readonly params?: readonly Readonly<Record<string, number>>[];
}

/** Backtest accuracy of what was selected, on its own windows. */
export interface BacktestScore {
  readonly mase: number;
  readonly rmsse: number;
  readonly bias: number;
  readonly absError: number;
  readonly absActual: number;
}

/** Everything the engine keeps for one series, before intervals are calibrated. */
export interface SeriesForecast {
  readonly label: string;
  readonly cls: DemandClass;
  /** Non-negative point forecast per step. */
  readonly point: Float64Array;
  /** The model's own error spread per step: the interval fallback when nothing is calibrated. */
  readonly sd: Float64Array;
  /** In-sample mean absolute one-step change: the unit of scaled errors (MASE denominator). */
  readonly scale: number;
  /** In-sample root mean squared one-step change (RMSSE denominator). */
  readonly rscale: number;
  /** Backtest errors (actual − forecast), [window][step], each of a selection made without that window (for the interval calibration); empty without backtest. */
  readonly residuals: Float64Array;
  readonly score: BacktestScore | null;
  /** Candidate name → backtest error on the selection metric (NaN: failed). */
  readonly candidateErrors: ReadonlyMap<ModelName, number>;
  /** Set when the selection failed and a fallback produced the forecast. */
  readonly fallback?: string;
  /** What produced the forecast; null for the fallbacks. */
  readonly selection: Selection | null;
  /** Calendar effects that move the forecast ahead (0: none the evidence supports; -1: no calendar features). */
  readonly effects: number;
  /** Per step, 1 where the store is known to be closed (the point is 0; so is every quantile). */
  readonly closed: Uint8Array;
  /** Every candidate's backtest, when the task asks for detail; `fromEnd[w]` = periods from window w's origin to the end of the history. */
  readonly backtest?: { readonly names: readonly ModelName[]; readonly run: SeriesBacktest; readonly fromEnd: Int32Array };
}

/** Turns a configured model name into the model; tests substitute their own. */
export type ModelResolver = (name: ModelName) => Model;

const finiteOrNaN = (x: number): number => (Number.isFinite(x) ? x : NaN);

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

function finite(pf: PointForecast): boolean {
  for (let i = 0; i < pf.mean.length; i++) if (!Number.isFinite(pf.mean[i]) || !Number.isFinite(pf.sd[i])) return false;
  return true;
}

/** Events re-indexed to a series that starts `start` periods later. */
function shiftEvents(ev: SeriesEvents, start: number): SeriesEvents {
  if (start === 0) return ev;
  return { ...ev, t: ev.t.map((t) => t - start) };
}

/** Without a backtest (very short history), the demand class decides. */
function ruleChoice(profile: DemandProfile, n: number): ModelName {
  if (n < 4) return 'snaive';
  return profile.cls === 'intermittent' || profile.cls === 'lumpy' ? 'tsb' : 'ets';
}

/** Fit each chosen model on the full history and take the weighted average; failures drop out. */
interface ChosenFit {
  readonly label: string;
  readonly pf: PointForecast;
  /** The models that fitted, their normalised weights and fitted parameters. */
  readonly selection: Selection;
}

function fitChosen(names: readonly ModelName[], weights: readonly number[], y: Float64Array, task: SeriesTask & { events?: SeriesEvents }, library: ModelResolver, fixed?: FixedSelection): ChosenFit | { error: string } {
  const fits: { name: ModelName; fitted: FittedModel; pf: PointForecast; w: number }[] = [];
  let error = '';
  for (const [k, name] of names.entries()) {
    try {
      // A fresh fit: the shipped model chooses its structure (ETS form…) with all the data,
      // while backtest windows refit for speed (BENCHMARKS.md).
      const like = fixed?.labels?.[k] || undefined;
      const reuse = fixed?.params?.[k];
      const ctx = like === undefined ? task : reuse ? { ...task, like, reuse } : { ...task, like };
      const fitted = library(name).fit(y, ctx);
      const pf = fitted.forecast(task.horizon);
      if (finite(pf)) fits.push({ name, fitted, pf, w: weights[k] ?? 1 });
      else error = `${fitted.label} produced non-finite values`;
    } catch (e) {
      error = `${name}: ${message(e)}`;
    }
  }
  if (fits.length === 0) return { error };
  const h = task.horizon;
  const mean = new Float64Array(h);
  const sd = new Float64Array(h);
  if (!(fits.reduce((a, f) => a + f.w, 0) > 0)) for (const f of fits) f.w = 1;
  const total = fits.reduce((a, f) => a + f.w, 0);
  for (const { pf, w } of fits) for (let i = 0; i < h; i++) { mean[i] += (pf.mean[i] * w) / total; sd[i] += (pf.sd[i] * w) / total; }
  // A single model is named by its fitted form (ets-AAdN); a combination by its members'
  // names in alphabetical order, so the same set always reads the same.
  const label = fits.length === 1 ? fits[0].fitted.label : `combo(${fits.map((f) => f.name).sort().join('+')})`;
  const selection: Selection = { models: fits.map((f) => f.name), weights: fits.map((f) => f.w / total), labels: fits.map((f) => f.fitted.label), params: fits.map((f) => f.fitted.params) };
  return { label, pf: { mean, sd }, selection };
}

/**
 * Forecast one series: classify its demand, backtest the candidates for its class on rolling
 * windows, keep the best (or combine the best few), refit on the full history. Never throws:
 * if every candidate fails, seasonal naive steps in; with no observed demand at all, zeros.
 */
export function forecastSeries(y: Float64Array, task: SeriesTask, library: ModelResolver = modelByName, seriesEvents?: SeriesEvents, fixed?: FixedSelection, closed?: Int32Array): SeriesForecast {
  const h = task.horizon;
  const shut = new Uint8Array(h);
  if (closed) for (const t of closed) if (t >= y.length && t < y.length + h) shut[t - y.length] = 1;
  const f = forecastOpen(y, task, library, seriesEvents, fixed);
  // A period the store is known to be closed sells nothing, whatever the models say.
  if (closed && closed.length) for (let s = 0; s < h; s++) if (shut[s]) f.point[s] = 0;
  return { ...f, closed: shut };
}

function forecastOpen(y: Float64Array, task: SeriesTask, library: ModelResolver, seriesEvents: SeriesEvents | undefined, fixed: FixedSelection | undefined): Omit<SeriesForecast, 'closed'> {
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
  const ctx = events ? { ...task, events } : task;
  const effects: EffectsCache = new Map();
  const resolve: ModelResolver = events ? (name) => withEvents(library(name), effects) : library;
  const profile = classifyDemand(obs);
  // Scales overflow only on absurd values (near the largest double); NaN means "no scale".
  const scale = finiteOrNaN(maseScale(full));
  const rscale = finiteOrNaN(rmsseScale(full));
  const base = { cls: profile.cls, scale, rscale, candidateErrors: new Map<ModelName, number>() };
  if (obs.length === 0) {
    return { ...base, label: 'zero', point: new Float64Array(h), sd: new Float64Array(h), residuals: new Float64Array(0), score: null, fallback: 'no observed periods', selection: null, effects: -1 };
  }
  const names = task.candidates[profile.cls];
  const plan = planWindows(obs.length, h, task.windows, task.seasons);
  let chosen: readonly ModelName[] = [ruleChoice(profile, obs.length)];
  let weights: readonly number[] = [1];
  let residuals: Float64Array = new Float64Array(0);
  let score: BacktestScore | null = null;
  let detail: SeriesForecast['backtest'];
  if (fixed) {
    chosen = fixed.models;
    weights = fixed.weights;
  } else if (plan.origins.length > 0 && names.length > 0) {
    const bt = backtestSeries(obs, names.map(resolve), ctx, h, plan.origins, observed);
    if (task.detail) detail = { names, run: bt, fromEnd: Int32Array.from(plan.origins, (o) => obs.length - o) };
    const sel = selectModels(bt, task.metric, task.combine);
    names.forEach((n, i) => base.candidateErrors.set(n, sel ? sel.errors[i] : NaN));
    if (sel) {
      chosen = sel.chosen.map((i) => names[i]);
      weights = sel.weights;
      residuals = outOfSelectionErrors(bt, task.metric, task.combine);
      const p = pointScores(bt.actuals, sel.forecast, scale, rscale);
      score = { mase: p.mase, rmsse: p.rmsse, bias: p.bias, absError: p.absError, absActual: p.absActual };
    }
  }
  const fit = fitChosen(chosen, weights, obs, ctx, resolve, fixed);
  if ('label' in fit) {
    const f = { ...base, label: fit.label, point: fit.pf.mean.map((v) => Math.max(0, v)), sd: fit.pf.sd, residuals, score, selection: fit.selection, effects: effectsAhead(effects.get(obs.length)?.effects, events, obs.length), ...(detail ? { backtest: detail } : {}) };
    if (finiteResult(f)) return f;
    return fallback(obs, task, base, `${fit.label} produced non-finite values`);
  }
  return fallback(obs, task, base, fit.error);
}

/** How many calendar effects move the forecast (features with an effect on a period ahead); -1 without calendar features. */
function effectsAhead(effects: Float64Array | undefined, events: SeriesEvents | undefined, n: number): number {
  if (!events) return -1;
  if (!effects) return 0;
  const used = new Set<number>();
  for (let i = 0; i < events.t.length; i++) if (events.t[i] >= n && effects[events.f[i]] !== 0) used.add(events.f[i]);
  return used.size;
}

/** Every number finite: what a published row promises, whatever the input or the models did. */
function finiteResult(f: Pick<SeriesForecast, 'point' | 'sd'>): boolean {
  return finite({ mean: f.point, sd: f.sd });
}

/**
 * Seasonal naive when the selection fails; when that fails or overflows too (values near
 * the largest double), the median of the recent observations, flat, which is finite for any
 * finite input.
 */
function fallback(obs: Float64Array, task: SeriesTask, base: Pick<SeriesForecast, 'cls' | 'scale' | 'rscale' | 'candidateErrors'>, why: string): Omit<SeriesForecast, 'closed'> {
  const h = task.horizon;
  const none = { residuals: new Float64Array(0), score: null, selection: null, effects: -1 } as const;
  let reason = why;
  try {
    const fb = seasonalNaive.fit(obs, task).forecast(h);
    if (finite(fb)) return { ...base, ...none, label: 'snaive', point: fb.mean.map((v) => Math.max(0, v)), sd: fb.sd, fallback: reason };
    reason += '; snaive: non-finite values';
  } catch (e) {
    reason += `; snaive: ${message(e)}`;
  }
  const level = recentMedian(obs, Math.max(28, 2 * task.season));
  if (Number.isFinite(level)) return { ...base, ...none, label: 'median', point: new Float64Array(h).fill(Math.max(0, level)), sd: new Float64Array(h), fallback: reason };
  return { ...base, ...none, label: 'zero', point: new Float64Array(h), sd: new Float64Array(h), fallback: reason };
}

function recentMedian(y: Float64Array, span: number): number {
  const xs = Array.from(y.subarray(Math.max(0, y.length - span))).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : xs[m - 1] / 2 + xs[m] / 2;
}
