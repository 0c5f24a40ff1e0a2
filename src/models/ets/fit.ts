import { nelderMead } from '../optim/nelder-mead.js';
import { etsFilter, etsNegLogLik, type EtsForm, type EtsParams } from './filter.js';
import { initialStates } from './initial.js';

/** A fitted ETS model with its information criteria, before it is wrapped for forecasting. */
export interface EtsFit {
  readonly form: EtsForm;
  readonly m: number;
  readonly params: EtsParams;
  readonly aicc: number;
  /** Log-likelihood as R's forecast::ets reports it (concentrated, no constants): -0.5 · etsNegLogLik. */
  readonly loglik: number;
  /** Innovation variance: raw for additive error, relative for multiplicative error. */
  readonly sigma2: number;
  readonly level: number;
  readonly trend: number;
  readonly seasonal: Float64Array;
  /** The optimiser's solution (unconstrained space), to warm-start a refit. */
  readonly x: Float64Array;
}

const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
const logit = (p: number): number => Math.log(p / (1 - p));

/**
 * Fit one ETS form by minimising its likelihood over smoothing parameters, damping, and the
 * initial level and trend. Constraints are imposed by construction (the "usual" region):
 * 0 < alpha < 1, 0 < beta < alpha, 0 < gamma < 1 - alpha, 0.8 < phi < 0.98.
 */
export function fitEtsForm(y: Float64Array, form: EtsForm, m: number, start?: ArrayLike<number>, seasonalStart?: Float64Array): EtsFit | null {
  const n = y.length;
  const seasonal = form.season !== 'N';
  const hasTrend = form.trend !== 'N';
  const damped = form.trend === 'Ad';
  const heuristic = initialStates(y, m, form.trend, form.season);
  // Seasonal starts are not optimised: the heuristic ones, or the caller's (the golden tests give R's).
  const init = seasonalStart ? { ...heuristic, s0: seasonalStart } : heuristic;
  let scale = 0;
  for (let i = 1; i < n; i++) scale += Math.abs(y[i] - y[i - 1]);
  scale = scale / Math.max(1, n - 1) || Math.abs(init.l0) || 1;

  const x0: number[] = [logit(0.2)];
  if (hasTrend) x0.push(logit(0.1));
  if (seasonal) x0.push(logit(0.05));
  if (damped) x0.push(logit(0.5));
  x0.push(0);
  if (hasTrend) x0.push(0);

  const buf = new Float64Array(Math.max(1, m));
  const decode = (x: Float64Array): EtsParams => {
    let k = 0;
    const alpha = 1e-4 + (1 - 2e-4) * logistic(x[k++]);
    const beta = hasTrend ? alpha * logistic(x[k++]) : 0;
    const gamma = seasonal ? (1 - alpha) * logistic(x[k++]) : 0;
    const phi = damped ? 0.8 + 0.18 * logistic(x[k++]) : 1;
    const l0 = init.l0 + x[k++] * scale;
    const b0 = hasTrend ? init.b0 + x[k++] * scale * 0.1 : 0;
    return { alpha, beta, gamma, phi, l0, b0, s0: init.s0 };
  };
  const objective = (x: Float64Array): number => etsNegLogLik(etsFilter(y, form, m, decode(x), buf), form, n);
  // A warm start (a refit from a neighbouring history) needs a smaller simplex and fewer steps.
  const warm = start !== undefined && start.length === x0.length;
  const best = warm
    ? nelderMead(objective, start, { maxIter: 25 * x0.length + 40, tol: 1e-7, step: 0.15 })
    : nelderMead(objective, x0, { maxIter: 60 * x0.length + 100, tol: 1e-7, step: 0.6 });
  if (!Number.isFinite(best.fx) || best.fx >= Number.MAX_VALUE) return null;
  const fit = etsEvaluate(y, form, m, decode(best.x));
  return fit && { ...fit, x: Float64Array.from(best.x) };
}

/**
 * One ETS form at fully given parameters and initial states, no optimisation: one pass of the
 * recursions for the final states, the likelihood, AICc and error variance. Null when the
 * parameters do not suit the data (a multiplicative form whose one-step forecast reaches zero).
 */
export function etsEvaluate(y: Float64Array, form: EtsForm, m: number, params: EtsParams): EtsFit | null {
  const state = etsFilter(y, form, m, params, new Float64Array(Math.max(1, m)));
  if (!state.valid) return null;
  const n = y.length;
  // Parameters counted as R does: smoothing, damping, initial states, plus the variance.
  const k = 3 + (form.trend !== 'N' ? 2 : 0) + (form.season !== 'N' ? m : 0) + (form.trend === 'Ad' ? 1 : 0);
  const lik = etsNegLogLik(state, form, n);
  const aicc = n - k - 1 > 0 ? lik + 2 * k + (2 * k * (k + 1)) / (n - k - 1) : Infinity;
  // R's sigma2 divides by n minus the parameters other than the variance itself (k - 1).
  const sigma2 = (form.error === 'A' ? state.sse : state.sseRel) / Math.max(1, n - k + 1);
  return { form, m, params, aicc, loglik: -0.5 * lik, sigma2, level: state.level, trend: state.trend, seasonal: state.seasonal, x: new Float64Array(0) };
}

/**
 * An ETS form with given parameters (a registered version's) and the heuristic seasonal starts,
 * no optimisation. Null when the parameters do not suit the data any more.
 */
export function etsWithParams(y: Float64Array, form: EtsForm, m: number, p: Readonly<Record<string, number>>): EtsFit | null {
  const need = ['alpha', 'beta', 'gamma', 'phi', 'l0', 'b0'];
  if (need.some((k) => !Number.isFinite(p[k]))) return null;
  const init = initialStates(y, m, form.trend, form.season);
  return etsEvaluate(y, form, m, { alpha: p.alpha, beta: p.beta, gamma: p.gamma, phi: p.phi, l0: p.l0, b0: p.b0, s0: init.s0 });
}

/** Point forecasts and error standard deviations from a fitted model's final states. */
export function etsForecast(fit: EtsFit, nObs: number, h: number): { mean: Float64Array; sd: Float64Array } {
  const { form, m, params, level, trend, seasonal } = fit;
  const phi = form.trend === 'Ad' ? params.phi : 1;
  const hasTrend = form.trend !== 'N';
  const mean = new Float64Array(h);
  const sd = new Float64Array(h);
  let phiSum = 0;
  let phiPow = 1;
  let cumC2 = 0;
  for (let i = 0; i < h; i++) {
    phiPow *= phi;
    phiSum += phiPow;
    const lb = level + (hasTrend ? phiSum * trend : 0);
    const s = form.season === 'N' ? 0 : seasonal[(nObs + i) % m];
    const mu = form.season === 'M' ? lb * s : lb + s;
    mean[i] = mu;
    // Class-1 variance (Hyndman et al. 2008, table 6.1): sigma^2 (1 + sum_{j<h} c_j^2), with
    // c_j = alpha + beta * (phi + ... + phi^j) + gamma [j = 0 mod m]. For multiplicative
    // forms we use it as an approximation, scaled by the forecast for relative errors.
    const base = form.error === 'A' ? Math.sqrt(fit.sigma2) : Math.sqrt(fit.sigma2) * Math.abs(mu);
    sd[i] = base * Math.sqrt(1 + cumC2);
    const j = i + 1;
    const c = params.alpha + (hasTrend ? params.beta * phiSum : 0) + (form.season !== 'N' && j % m === 0 ? params.gamma : 0);
    cumC2 += c * c;
  }
  return { mean, sd };
}

export function etsLabel(form: EtsForm): string {
  return `ets-${form.error}${form.trend}${form.season}`;
}

