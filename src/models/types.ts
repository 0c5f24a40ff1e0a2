/**
 * The contract every local model honours, so that selection, backtesting, calibration and the
 * fallback can treat them alike. A `Model` is unfitted and stateless; `fit` returns a
 * `FittedModel` whose parameters are plain numbers. There is no half-fitted state.
 */

/** What a model may know about the series besides its values. */
export interface FitContext {
  /** Periods per main seasonal cycle (7 for daily data, 52 for weekly). 1 means none. */
  readonly season: number;
  /** Every seasonal period worth modelling, main first (daily: [7, 365]; weekly: [52]). */
  readonly seasons: readonly number[];
  /**
   * The label of an earlier fit of this model on this series (a registered version): a model
   * that searches structures (ETS forms) may fit just that one, which is what makes a nightly
   * refit cheap. Ignored where it does not apply.
   */
  readonly like?: string;
  /**
   * The fitted parameters of that earlier fit. A model that can may keep them and only run its
   * recursions over the new data ("extend the forecast", the nightly default); models without
   * such a shortcut fit as usual.
   */
  readonly reuse?: Readonly<Record<string, number>>;
}

/** Point forecast and a parametric standard deviation for each step ahead. */
export interface PointForecast {
  readonly mean: Float64Array;
  /** Standard deviation of the h-step error under the model's own assumptions. */
  readonly sd: Float64Array;
}

export interface FittedModel {
  /** Family and form, e.g. `ets-AAdN`, `tsb`, `snaive`. */
  readonly label: string;
  /** The fitted parameters: plain numbers, storable and reusable. */
  readonly params: Readonly<Record<string, number>>;
  forecast(h: number): PointForecast;
  /**
   * Re-estimate on another history of the same series (typically a longer prefix) keeping
   * the structure this fit chose — ETS's form, say — and starting from its parameters:
   * what rolling-origin backtests and refits call, much cheaper than a fresh `fit`.
   * Absent: the model is cheap enough to fit afresh.
   */
  refit?(y: Float64Array, ctx: FitContext): FittedModel;
}

export interface Model {
  readonly name: string;
  /** Fit on `y` (no NaN: impute unobserved periods first). Throws when it cannot. */
  fit(y: Float64Array, ctx: FitContext): FittedModel;
}
