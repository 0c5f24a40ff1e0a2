import { DEMAND_CLASSES, type DemandClass } from '../models/classify.js';
import type { ModelName } from '../models/library.js';

/**
 * The wire format between the main thread and forecast workers. Series values travel as one
 * Float64Array with offsets, results as a few flat typed arrays, so a batch crosses threads by
 * transferring buffers rather than cloning objects. Series identities never leave the main
 * thread: results are matched back by batch index and position.
 */
export interface SeriesBatch {
  readonly index: number;
  /** Series i occupies values[offsets[i] .. offsets[i+1]). Length = series + 1. */
  readonly offsets: Int32Array;
  /** Demand per period, NaN where unobserved. */
  readonly values: Float64Array;
  /** Calendar features of each series, when the run uses calendars. */
  readonly events?: BatchEvents;
  /** Stored selections to reuse: series i's models are models[offsets[i] .. offsets[i+1]) (none: select afresh). */
  readonly fixed?: BatchFixed;
  /** Periods the store is closed, history and horizon (see calendars/closures.ts). */
  readonly closed?: BatchClosures;
  /** Each series' codes for the global networks, when the run has one (forecast/global-batch.ts). */
  readonly global?: BatchGlobal;
}

/** Per series of a batch: [series][network][store, sku, category] slots, [series] the prior log level (NaN: none) and its peers' profile (-1: none). */
export interface BatchGlobal {
  readonly slots: Int32Array;
  readonly prior: Float64Array;
  readonly peer: Int32Array;
}

/** Series i's closed periods are t[offsets[i] .. offsets[i+1]), counted from its first value, sorted. */
export interface BatchClosures {
  readonly offsets: Int32Array;
  readonly t: Int32Array;
}

/** Indices into MODEL_NAMES, their weights and fitted labels, per series. */
export interface BatchFixed {
  readonly offsets: Int32Array;
  readonly models: Int16Array;
  readonly weights: Float64Array;
  /** Parallel to `models`: each registered fit's structure ('' where unknown). */
  readonly labels: string[];
  /** Parallel to `models`: JSON of the parameters to run forward ('' to restore: re-estimate them within the structure). */
  readonly params: string[];
}

/**
 * Calendar features of a batch: series i's (period, feature) pairs are t/f[offsets[i] ..
 * offsets[i+1]), periods counted from the series' first value; priors are [series][feature]
 * pooled log-effects.
 */
export interface BatchEvents {
  readonly offsets: Int32Array;
  readonly t: Int32Array;
  readonly f: Int32Array;
  readonly priors: Float64Array;
}

/** What every series of a run shares about calendar effects. */
export interface CalendarTask {
  readonly features: number;
  readonly priorWeight: number;
  readonly baselineStep: number;
}

/** The transferable buffers of a batch on its way to a worker. */
export function batchBuffers(b: SeriesBatch): ArrayBuffer[] {
  const ev = b.events ? [b.events.offsets, b.events.t, b.events.f, b.events.priors] : [];
  const fx = b.fixed ? [b.fixed.offsets, b.fixed.models, b.fixed.weights] : [];
  const cl = b.closed ? [b.closed.offsets, b.closed.t] : [];
  const gl = b.global ? [b.global.slots, b.global.prior, b.global.peer] : [];
  return [b.values, b.offsets, ...ev, ...fx, ...cl, ...gl].map((a) => a.buffer as ArrayBuffer);
}

/** Per-series backtest score fields, in this order, in `BatchResult.scores`. */
export const SCORE_FIELDS = ['mase', 'rmsse', 'bias', 'absError', 'absActual'] as const;

export interface BatchResult {
  readonly index: number;
  /** [series][step] point forecasts. */
  readonly point: Float64Array;
  /** [series][step] the model's own error spread. */
  readonly sd: Float64Array;
  /** [series] MASE denominator. */
  readonly scale: Float64Array;
  /** [series] RMSSE denominator. */
  readonly rscale: Float64Array;
  /** [series][window][step] backtest errors of the selection; NaN where a series had fewer windows. */
  readonly residuals: Float64Array;
  /** [series][field] backtest score of the selection (SCORE_FIELDS); NaN without backtest. */
  readonly scores: Float64Array;
  /** [series][candidate] backtest error of every model in `candidateNames`; NaN if not tried. */
  readonly candidateErrors: Float64Array;
  readonly candidateNames: readonly ModelName[];
  /** Per series: index into `labels`. */
  readonly labelIds: Uint16Array;
  readonly labels: string[];
  /** Per series: index into DEMAND_CLASSES. */
  readonly classIds: Uint8Array;
  /** Per series: index into SERIES_KINDS (how the forecast was made: forecast/types.ts). */
  readonly kinds: Uint8Array;
  readonly failures: { readonly series: number; readonly reason: string }[];
  /** Per series: JSON of the Selection that produced the forecast ('' for a fallback). */
  readonly selections: string[];
  /** [series][step] 1 where the store is known to be closed: every quantile is 0. */
  readonly closed: Uint8Array;
  /** Per series: calendar effects that move its forecast (-1: no calendar features). */
  readonly effects: Int16Array;
  /** With `task.detail`: every candidate's backtest (see BacktestDetail). */
  readonly detail?: BacktestDetail;
  /** Each series' point forecast in additive parts, and its models' weighted forecasts (see ForecastParts). */
  readonly parts?: ForecastParts;
  /** [series][window][step] the selection's backtest forecasts, windows aligned to the end as in `residuals`; NaN where none. */
  readonly backtestPoint?: Float64Array;
  /** [series][window] periods from the window's origin to the end of the history (0: no window). */
  readonly backtestFromEnd?: Int32Array;
}

/**
 * Series i's parts are keys/values entries offsets[i] .. offsets[i+1]: entry j is `keys[j]`
 * (a models/types.ts ForecastPart key, or `model:<name>` for a member of the combination,
 * whose `weights[j]` is its weight) with values[j·h .. (j+1)·h).
 */
export interface ForecastParts {
  readonly offsets: Int32Array;
  readonly keys: string[];
  readonly weights: Float64Array;
  readonly values: Float64Array;
}

/** All candidates' backtests of a batch, windows aligned to the end as in `residuals`. */
export interface BacktestDetail {
  /** [series][window][step] actuals; NaN where a series had fewer windows. */
  readonly actuals: Float64Array;
  /** [series][candidate][window][step] forecasts; NaN where not tried or failed. */
  readonly forecasts: Float64Array;
  /** [series][candidate][window] one-step spread the window's fit claimed. */
  readonly units: Float64Array;
  /** [series][window] periods from the window's origin to the end of the history (0: no window). */
  readonly fromEnd: Int32Array;
}

/** Buffers to transfer (not copy) when a result crosses threads. */
export function resultBuffers(r: BatchResult): ArrayBuffer[] {
  const detail = r.detail ? [r.detail.actuals, r.detail.forecasts, r.detail.units, r.detail.fromEnd] : [];
  const parts = r.parts ? [r.parts.offsets, r.parts.weights, r.parts.values] : [];
  const windows = [r.backtestPoint, r.backtestFromEnd].filter((a) => a !== undefined);
  return [r.point, r.sd, r.scale, r.rscale, r.residuals, r.scores, r.candidateErrors, r.labelIds, r.classIds, r.kinds, r.closed, r.effects, ...detail, ...parts, ...windows].map((a) => a.buffer as ArrayBuffer);
}

/** The demand class of `BatchResult.classIds[i]`. */
export function demandClassOf(id: number): DemandClass {
  return DEMAND_CLASSES[id] ?? 'smooth';
}
