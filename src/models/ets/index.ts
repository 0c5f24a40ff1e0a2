import type { FitContext, FittedModel, Model } from '../types.js';
import type { EtsForm, SeasonForm, TrendForm } from './filter.js';
import { etsForecast, etsLabel, etsWithParams, fitEtsForm, type EtsFit } from './fit.js';

/** Seasonal ETS is only tried for short cycles: with m > 24 the m-1 seasonal states swamp the data (R's ets refuses too). */
export const MAX_ETS_SEASON = 24;

/**
 * The candidate forms for a series. Additive error with multiplicative season is left out as
 * numerically unstable (as R's forecast::ets does by default); multiplicative forms need
 * strictly positive data.
 */
export function candidateForms(y: Float64Array, m: number): EtsForm[] {
  let positive = true;
  for (let i = 0; i < y.length; i++) if (!(y[i] > 0)) { positive = false; break; }
  const seasonal = m > 1 && m <= MAX_ETS_SEASON && y.length >= 2 * m + 2;
  const trends: TrendForm[] = y.length >= 8 ? ['N', 'A', 'Ad'] : ['N'];
  const seasons: SeasonForm[] = seasonal ? (positive ? ['N', 'A', 'M'] : ['N', 'A']) : ['N'];
  const forms: EtsForm[] = [];
  for (const error of positive ? (['A', 'M'] as const) : (['A'] as const)) {
    for (const trend of trends) {
      for (const season of seasons) {
        if (error === 'A' && season === 'M') continue;
        forms.push({ error, trend, season });
      }
    }
  }
  return forms;
}

/**
 * AICc behind the best form beyond which a form is ruled out of the next search on a longer
 * history of the same series: a difference of more than 10 means essentially no support
 * (Burnham & Anderson, "Model Selection and Multimodel Inference", 2002, §2.6). Measured on the
 * backtest's first window against the final fit's full search (BENCHMARKS.md, "Retrain speed"):
 * the final winner was ruled out for 0.3 % of the M5-shaped daily series and 0.6 % of the
 * weekly Walmart ones.
 */
export const RULED_OUT_AICC = 10;

const formCode = (f: EtsForm): string => `${f.error}${f.trend}${f.season}`;

/** The best form by AICc, and the forms fitted more than RULED_OUT_AICC behind it. */
interface EtsSearch {
  readonly best: EtsFit;
  readonly ruledOut: ReadonlySet<string>;
}

export function searchEts(y: Float64Array, m: number, forms: readonly EtsForm[]): EtsSearch {
  const fits: EtsFit[] = [];
  let best: EtsFit | null = null;
  for (const form of forms) {
    const fit = fitEtsForm(y, form, m);
    if (!fit) continue;
    fits.push(fit);
    if (!best || fit.aicc < best.aicc) best = fit;
  }
  if (!best) throw new Error('ets: no form could be fitted');
  const bound = best.aicc + RULED_OUT_AICC;
  return { best, ruledOut: new Set(fits.filter((f) => f.aicc > bound).map((f) => formCode(f.form))) };
}

/** Automatic ETS: fit every candidate form, keep the one with the lowest AICc. */
export function fitAutoEts(y: Float64Array, m: number, forms = candidateForms(y, m)): EtsFit {
  return searchEts(y, m, forms).best;
}

const NONE_RULED_OUT: ReadonlySet<string> = new Set();

/**
 * A fitted ETS as a model: forecasts, parameters, a cheap refit of the same form, and a search
 * on a longer history that skips the forms in `ruledOut` (a form that failed to fit, or that
 * the shorter history could not take, was never ruled out).
 */
export function etsFitted(fit: EtsFit, nObs: number, ruledOut = NONE_RULED_OUT): FittedModel {
  const p = fit.params;
  const searched = (s: EtsSearch, n: number): FittedModel => etsFitted(s.best, n, s.ruledOut);
  return {
    label: etsLabel(fit.form),
    params: { alpha: p.alpha, beta: p.beta, gamma: p.gamma, phi: p.phi, l0: p.l0, b0: p.b0, sigma2: fit.sigma2, aicc: fit.aicc },
    forecast: (h) => etsForecast(fit, nObs, h),
    // Level and trend, and what the seasonal states add (for a multiplicative season: × it − 1).
    explain(h) {
      const mean = etsForecast(fit, nObs, h).mean;
      if (fit.form.season === 'N') return [{ key: 'level', values: Float64Array.from(mean) }];
      const level = etsForecast({ ...fit, form: { ...fit.form, season: 'N' } }, nObs, h).mean;
      return [{ key: 'level', values: level }, { key: `season:${fit.m}`, values: mean.map((v, i) => v - level[i]) }];
    },
    // Same form, parameters re-optimised from this fit's; a form that no longer fits
    // (multiplicative on data that now has a zero) falls back to the full search.
    refit(y) {
      const again = fitEtsForm(y, fit.form, fit.m, fit.x);
      return again ? etsFitted(again, y.length, ruledOut) : searched(searchEts(y, fit.m, candidateForms(y, fit.m)), y.length);
    },
    reselect(y) {
      const all = candidateForms(y, fit.m);
      const kept = all.filter((f) => !ruledOut.has(formCode(f)));
      return searched(searchEts(y, fit.m, kept.length > 0 ? kept : all), y.length);
    },
  };
}

/** The form named by a label such as `ets-AAdN`, if it is one this series may use. */
export function formFromLabel(label: string | undefined, y: Float64Array, m: number): EtsForm | null {
  const match = label?.match(/^ets-([AM])(N|Ad|A)([NAM])$/);
  if (!match) return null;
  const form: EtsForm = { error: match[1] as EtsForm['error'], trend: match[2] as TrendForm, season: match[3] as SeasonForm };
  const ok = candidateForms(y, m).some((f) => f.error === form.error && f.trend === form.trend && f.season === form.season);
  return ok ? form : null;
}

function seasonOf(ctx: FitContext): number {
  return Math.max(1, Math.round(ctx.season));
}

function needsData(y: Float64Array): void {
  if (y.length < 3) throw new Error('ets: needs at least 3 observations');
}

export const ets: Model = {
  name: 'ets',
  fit(y, ctx) {
    needsData(y);
    const m = seasonOf(ctx);
    const s = searchEts(y, m, candidateForms(y, m));
    return etsFitted(s.best, y.length, s.ruledOut);
  },
  // The registered form, re-optimised; a form the series can no longer take (multiplicative on
  // data that now holds a zero) sends it back to the full search.
  restore(spec, y, ctx) {
    needsData(y);
    const m = seasonOf(ctx);
    const known = formFromLabel(spec.structure, y, m);
    return etsFitted(fitAutoEts(y, m, known ? [known] : undefined), y.length);
  },
  forward(spec, y, ctx) {
    needsData(y);
    const m = seasonOf(ctx);
    const known = formFromLabel(spec.structure, y, m);
    const kept = known ? etsWithParams(y, known, m, spec.params) : null;
    return kept ? etsFitted(kept, y.length) : etsFitted(fitAutoEts(y, m, known ? [known] : undefined), y.length);
  },
};
