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
}

/**
 * What a fit chose and estimated, as the registry stores it: the structure it searched for
 * (ETS's form, `stl-ets-AAdN`; the model name where there is nothing to choose) and its
 * parameters, plain numbers. A model rebuilds a fit from it with `restore` or `forward`.
 */
export interface FittedSpec {
  readonly structure: string;
  readonly params: Readonly<Record<string, number>>;
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
  /**
   * Fit on a longer history of the same series choosing the structure afresh, as `fit` does,
   * but leaving out the structures this fit's own search (or the one it was refit from) found
   * to have no support: the final fit after the backtest windows. Absent: `fit`.
   */
  reselect?(y: Float64Array, ctx: FitContext): FittedModel;
  /**
   * The point forecast of `forecast(h)` split into additive parts that sum to it step by step
   * (see ForecastPart). Absent: the whole forecast is level/trend (explainForecast).
   */
  explain?(h: number): ForecastPart[];
}

/**
 * One additive part of a point forecast, in units, for each step ahead. Keys: `level` (level
 * and trend), `season:<period>` (a seasonal cycle), `event:<feature id>` (a calendar effect,
 * multiplicative in the model and converted here to the units it adds on top of the rest).
 */
export interface ForecastPart {
  readonly key: string;
  readonly values: Float64Array;
}

export const LEVEL_PART = 'level';

/** The parts of a fitted model's forecast: its own split, or all of it as level/trend. */
export function explainForecast(fitted: FittedModel, h: number): ForecastPart[] {
  return fitted.explain ? fitted.explain(h) : [{ key: LEVEL_PART, values: Float64Array.from(fitted.forecast(h).mean) }];
}

/** Parts with equal keys added together, first appearance order kept. */
export function mergeParts(parts: readonly ForecastPart[], weight = 1, into: ForecastPart[] = []): ForecastPart[] {
  for (const p of parts) {
    let hit = into.find((q) => q.key === p.key);
    if (!hit) {
      hit = { key: p.key, values: new Float64Array(p.values.length) };
      into.push(hit);
    }
    for (let i = 0; i < p.values.length; i++) hit.values[i] += weight * p.values[i];
  }
  return into;
}

export interface Model {
  readonly name: string;
  /** Fit on `y` (no NaN: impute unobserved periods first), choosing a structure afresh. Throws when it cannot. */
  fit(y: Float64Array, ctx: FitContext): FittedModel;
  /**
   * Fit on `y` within the structure of an earlier fit (a registered version), its parameters
   * re-estimated from the stored ones: a nightly refit that skips the search. Absent: the
   * model has nothing to choose and `fit` is as cheap.
   */
  restore?(spec: FittedSpec, y: Float64Array, ctx: FitContext): FittedModel;
  /**
   * The earlier fit's structure and parameters run over `y`, the same history with new
   * periods at its end: no optimisation, only the recursions ("extend the forecast", the
   * nightly default; statsforecast's `forward`). Absent: `restore`.
   */
  forward?(spec: FittedSpec, y: Float64Array, ctx: FitContext): FittedModel;
}
