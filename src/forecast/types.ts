import type { FitContext, FittedSpec, ForecastPart, Model } from '../models/types.js';
import type { Revival } from '../models/revive.js';
import type { DemandClass } from '../models/classify.js';
import type { ModelName } from '../models/library.js';
import type { SeriesBacktest } from '../backtest/evaluate.js';
import type { SelectionMetric } from '../backtest/select.js';

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
  /** Per model, the registered fit: its structure (`ets-AAdN`) and parameters. */
  readonly specs: readonly FittedSpec[];
  /** Run the registered parameters forward over the new data (the nightly `extend`), or re-estimate them within the structure (`refit`). */
  readonly how: Revival;
}

/** Backtest accuracy of what was selected, on its own windows. */
export interface BacktestScore {
  readonly mase: number;
  readonly rmsse: number;
  readonly bias: number;
  readonly absError: number;
  readonly absActual: number;
}

/** Every candidate's backtest of one series; `fromEnd[w]` = periods from window w's origin to the end of the history. */
export interface CandidateBacktest {
  readonly names: readonly ModelName[];
  readonly run: SeriesBacktest;
  readonly fromEnd: Int32Array;
}

/** What every forecast of a series carries, however it was made. */
interface ForecastCommon {
  /** The fitted form (`ets-AAdN`), a combination (`combo(ets+theta)`), or the fallback's name. */
  readonly label: string;
  readonly cls: DemandClass;
  /** Non-negative point forecast per step (0 where the store is closed). */
  readonly point: Float64Array;
  /** The model's own error spread per step: the interval fallback when nothing is calibrated. */
  readonly sd: Float64Array;
  /** In-sample mean absolute one-step change: the unit of scaled errors (MASE denominator); NaN: none. */
  readonly scale: number;
  /** In-sample root mean squared one-step change (RMSSE denominator). */
  readonly rscale: number;
  /** Calendar effects that move the forecast ahead (0: none the evidence supports; -1: no calendar features). */
  readonly effects: number;
  /** Per step, 1 where the store is known to be closed (the point is 0; so is every quantile). */
  readonly closed: Uint8Array;
  /** `point` split into additive parts that sum to it at every step (absent: all level/trend). */
  readonly parts?: readonly ForecastPart[];
  /** A selection's models, each with its weight and weighted forecast in units. */
  readonly members?: readonly { readonly model: string; readonly weight: number; readonly values: Float64Array }[];
}

/**
 * Everything the engine keeps for one series before intervals are calibrated, by how it was
 * made: `selected` by backtest; `rule`, chosen by demand class (too short a history for a
 * backtest, or every candidate failed it); `reused`, a registered version refit or extended;
 * `cold-start`, too little history for the local models (or none: a new item), forecast by the
 * global network from what similar series did; `fallback`, seasonal naive or the recent median
 * when the chosen models failed; `zero`, no observed demand at all (or nothing finite). Only a
 * selection has backtest errors.
 */
export type SeriesForecast = ForecastCommon & (
  | {
      readonly kind: 'selected';
      readonly selection: Selection;
      readonly score: BacktestScore;
      /** Backtest errors (actual − forecast), [window][step], each of a selection made without that window (for the interval calibration). */
      readonly residuals: Float64Array;
      /** Candidate name → backtest error on the selection metric (NaN: failed). */
      readonly candidateErrors: ReadonlyMap<ModelName, number>;
      /** With `task.detail`. */
      readonly backtest?: CandidateBacktest;
      /** The selection's own backtest forecasts, [window][step], and each window's periods from its origin to the end of the history. */
      readonly windows?: { readonly forecast: Float64Array; readonly fromEnd: Int32Array };
    }
  | { readonly kind: 'rule' | 'reused' | 'cold-start'; readonly selection: Selection; readonly backtest?: CandidateBacktest }
  | { readonly kind: 'fallback' | 'zero'; readonly reason: string }
);

/** Every kind of SeriesForecast, in a fixed order (their index travels in BatchResult.kinds). */
export const SERIES_KINDS = ['selected', 'rule', 'reused', 'cold-start', 'fallback', 'zero'] as const satisfies readonly SeriesForecast['kind'][];

/** A forecast before the store's closures are applied (every kind, without `closed`). */
export type OpenForecast = SeriesForecast extends infer F ? (F extends unknown ? Omit<F, 'closed'> : never) : never;

/** Turns a configured model name into the model; tests substitute their own. */
export type ModelResolver = (name: ModelName) => Model;
