import { explainForecast, type FitContext, type FittedModel, type FittedSpec, type ForecastPart, type Model } from './types.js';
import { fitFrom, type Revival } from './revive.js';

/** What a wrapper takes out of a history before its base model sees it, and how it puts it back into a forecast. */
export interface Adjustment {
  readonly adjusted: Float64Array;
  /** Put what was taken out back into a forecast that starts right after the history (in place). */
  restore(mean: Float64Array, sd: Float64Array): void;
  /**
   * What the restore added, as parts: `before` is the base model's forecast, `after` the same
   * once restored. Absent: one part, `AdjustedSpec.part`, of after − before.
   */
  parts?(before: Float64Array, after: Float64Array): ForecastPart[];
}

export interface AdjustedSpec {
  readonly name: string;
  /** What to take out of y; null when there is nothing to take out (the base model fits y as it is). */
  adjust(y: Float64Array, ctx: FitContext): Adjustment | null;
  /** The context the base model fits in (the seasons a decomposition took out are gone). */
  inner(ctx: FitContext): FitContext;
  /** The fitted label, from the base model's. */
  label(inner: string): string;
  /** The base model's part of a registered structure, undefined when it is not this wrapper's. */
  own(spec: FittedSpec): FittedSpec | undefined;
  /** Key of the part this wrapper adds to a forecast when its adjustment names none (ForecastPart). */
  readonly part: string;
}

/**
 * The one combinator behind the wrapper models (seasonal decomposition, calendar effects):
 * adjust the history, fit the base model on what is left (afresh, refit, restored or run
 * forward, the way the caller asks), and put the adjustment back into every forecast.
 */
export function adjustedModel(base: Model, spec: AdjustedSpec): Model {
  const fitOn = (y: Float64Array, ctx: FitContext, inner: (adjusted: Float64Array, ctx: FitContext) => FittedModel): FittedModel => {
    const a = spec.adjust(y, ctx);
    if (!a) return inner(y, spec.inner(ctx));
    const fitted = inner(a.adjusted, spec.inner(ctx));
    return {
      label: spec.label(fitted.label),
      params: fitted.params,
      forecast(h) {
        const f = fitted.forecast(h);
        const mean = Float64Array.from(f.mean);
        const sd = Float64Array.from(f.sd);
        a.restore(mean, sd);
        return { mean, sd };
      },
      // The base model's parts, then what this wrapper put back, so the parts still add up.
      explain(h) {
        const f = fitted.forecast(h);
        const before = Float64Array.from(f.mean);
        const after = Float64Array.from(f.mean);
        a.restore(after, Float64Array.from(f.sd));
        const own = a.parts ? a.parts(before, after) : [{ key: spec.part, values: after.map((v, i) => v - before[i]) }];
        return [...explainForecast(fitted, h), ...own];
      },
      refit: (y2, ctx2) => fitOn(y2, ctx2, (v, c) => (fitted.refit ? fitted.refit(v, c) : base.fit(v, c))),
      reselect: (y2, ctx2) => fitOn(y2, ctx2, (v, c) => (fitted.reselect ? fitted.reselect(v, c) : base.fit(v, c))),
    };
  };
  const revive = (how: Revival) => (s: FittedSpec, y: Float64Array, ctx: FitContext): FittedModel => fitOn(y, ctx, (v, c) => fitFrom(base, v, c, spec.own(s), how));
  return { name: spec.name, fit: (y, ctx) => fitOn(y, ctx, (v, c) => base.fit(v, c)), restore: revive('restore'), forward: revive('forward') };
}
