import { explainForecast, mergeParts, type FittedModel, type ForecastPart, type PointForecast } from '../models/types.js';
import { fitFrom } from '../models/revive.js';
import type { ModelName } from '../models/library.js';
import type { FixedSelection, ModelResolver, Selection, SeriesTask } from './types.js';

export const errorLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0];

/** Every number finite: what a published row promises, whatever the input or the models did. */
export function finite(pf: PointForecast): boolean {
  for (let i = 0; i < pf.mean.length; i++) if (!Number.isFinite(pf.mean[i]) || !Number.isFinite(pf.sd[i])) return false;
  return true;
}

/** The chosen models fitted on the whole history and combined. */
export interface ChosenFit {
  readonly label: string;
  readonly pf: PointForecast;
  /** The models that fitted, their normalised weights and fitted parameters. */
  readonly selection: Selection;
  /** The combined forecast split into parts: each member's parts, weighted and added (they sum to `pf.mean`). */
  readonly parts: ForecastPart[];
  /** Each member's weighted forecast (they sum to `pf.mean` too). */
  readonly members: ForecastMember[];
}

/** What one model of a combination contributes: its weight and its weighted forecast, in units. */
export interface ForecastMember {
  readonly model: ModelName;
  readonly weight: number;
  readonly values: Float64Array;
}

/**
 * Fit each chosen model on the full history and take the weighted average; models that fail
 * or give non-finite values drop out (their weight goes to the others). `fixed`: a registered
 * version, refit within its structure (or extended with its parameters). `backtested`: each
 * model's fit on the newest backtest window.
 */
export function fitChosen(names: readonly ModelName[], weights: readonly number[], y: Float64Array, task: SeriesTask, library: ModelResolver, fixed?: FixedSelection, backtested?: ReadonlyMap<ModelName, FittedModel | null>): ChosenFit | { error: string } {
  const fits: { name: ModelName; fitted: FittedModel; pf: PointForecast; w: number }[] = [];
  let error = '';
  for (const [k, name] of names.entries()) {
    try {
      // The shipped model chooses its structure (ETS form…) afresh with all the data, while
      // backtest windows refit for speed; after a backtest, among the structures its search
      // did not rule out (BENCHMARKS.md, "Retrain speed").
      const last = backtested?.get(name);
      const fitted = last?.reselect ? last.reselect(y, task) : fitFrom(library(name), y, task, fixed?.specs[k], fixed?.how);
      const pf = fitted.forecast(task.horizon);
      if (finite(pf)) fits.push({ name, fitted, pf, w: weights[k] ?? 1 });
      else error = `${fitted.label} produced non-finite values`;
    } catch (e) {
      error = `${name}: ${errorLine(e)}`;
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
  // A combination's parts are the weighted sum of its members' parts (all additive, in units).
  const parts: ForecastPart[] = [];
  for (const f of fits) mergeParts(explainForecast(f.fitted, h), f.w / total, parts);
  const members = fits.map((f) => ({ model: f.name, weight: f.w / total, values: f.pf.mean.map((v) => (v * f.w) / total) }));
  return { label, pf: { mean, sd }, selection, parts, members };
}
