import type { FitContext, FittedModel, FittedSpec, Model } from './types.js';

/** How a registered fit is brought to new data: re-estimated within its structure, or run forward with its parameters. */
export type Revival = 'restore' | 'forward';

/**
 * Fit `model` on `y`: afresh without a spec; with one, forward or restore it, each falling
 * back to the next cheaper-to-trust path the model offers (forward → restore → fit).
 */
export function fitFrom(model: Model, y: Float64Array, ctx: FitContext, spec?: FittedSpec, how: Revival = 'restore'): FittedModel {
  if (!spec) return model.fit(y, ctx);
  if (how === 'forward' && model.forward) return model.forward(spec, y, ctx);
  if (model.restore) return model.restore(spec, y, ctx);
  return model.fit(y, ctx);
}
