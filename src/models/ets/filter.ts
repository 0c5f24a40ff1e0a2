/**
 * The exponential smoothing state-space recursions (Hyndman et al., "Forecasting with
 * Exponential Smoothing", 2008, table 2.3), written in error-correction form.
 *
 * For a given trend/season form, the additive- and multiplicative-error models share the
 * same state updates when written with the raw one-step error y - mu; they differ only in
 * likelihood and variance. So one pass yields both objectives.
 */

export type TrendForm = 'N' | 'A' | 'Ad';
export type SeasonForm = 'N' | 'A' | 'M';
export type ErrorForm = 'A' | 'M';

export interface EtsForm {
  readonly error: ErrorForm;
  readonly trend: TrendForm;
  readonly season: SeasonForm;
}

export interface EtsParams {
  readonly alpha: number;
  readonly beta: number;
  readonly gamma: number;
  readonly phi: number;
  readonly l0: number;
  readonly b0: number;
  /** Initial seasonal states by phase (t mod m), length m; empty when non-seasonal. */
  readonly s0: Float64Array;
}

export interface FilterResult {
  /** Sum of squared raw errors. */
  sse: number;
  /** Sum of squared relative errors (y - mu) / mu. */
  sseRel: number;
  /** Sum of log |mu|, for the multiplicative-error likelihood. */
  sumLogMu: number;
  /** False when a one-step forecast reached zero or below under a multiplicative form. */
  valid: boolean;
  level: number;
  trend: number;
  /** Final seasonal states by phase (t mod m). */
  seasonal: Float64Array;
}

/**
 * Run the recursions over y. `seasonal` is a scratch buffer of length m, overwritten.
 *
 * This is the innermost loop of every ETS fit (the optimiser calls it hundreds of times per
 * form), so it is two loops rather than one with every form's branches: additive error without
 * a multiplicative season (most retail series hold zeros, so most fits are these) needs no
 * positivity test and no logarithms, and as a loop of its own runs 2–3× faster. Both loops test
 * the level for a non-finite value once, after the loop: once the level is non-finite every
 * later level is NaN, so the verdict is the one a test at every step would give.
 */
export function etsFilter(y: Float64Array, form: EtsForm, m: number, p: EtsParams, seasonal: Float64Array): FilterResult {
  return form.error === 'A' && form.season !== 'M' ? additiveFilter(y, form, m, p, seasonal) : positiveFilter(y, form, m, p, seasonal);
}

function additiveFilter(y: Float64Array, form: EtsForm, m: number, p: EtsParams, seasonal: Float64Array): FilterResult {
  const { alpha, beta, gamma } = p;
  const hasTrend = form.trend !== 'N';
  const phi = form.trend === 'Ad' ? p.phi : 1;
  const addSeason = form.season === 'A';
  if (addSeason) seasonal.set(p.s0);
  const period = addSeason ? m : 1;
  let l = p.l0;
  let b = hasTrend ? p.b0 : 0;
  let sse = 0;
  let phase = 0;
  const n = y.length;
  for (let t = 0; t < n; t++) {
    const lb = l + phi * b;
    let s = 0;
    let mu = lb;
    if (addSeason) { s = seasonal[phase]; mu = lb + s; }
    const e = y[t] - mu;
    sse += e * e;
    l = lb + alpha * e;
    if (hasTrend) b = phi * b + beta * e;
    if (addSeason) seasonal[phase] = s + gamma * e;
    if (++phase === period) phase = 0;
  }
  return { sse, sseRel: 0, sumLogMu: 0, valid: Number.isFinite(l), level: l, trend: b, seasonal };
}

/**
 * Multiplicative error or season: every one-step forecast must be positive, and the sum of
 * log(mu) the likelihood needs is taken as a running product whose logarithm is taken only when
 * it would leave a safe range (a logarithm per step doubled the cost). The seasonal phase is a
 * counter, not t % m.
 */
function positiveFilter(y: Float64Array, form: EtsForm, m: number, p: EtsParams, seasonal: Float64Array): FilterResult {
  const { alpha, beta, gamma } = p;
  const hasTrend = form.trend !== 'N';
  const phi = form.trend === 'Ad' ? p.phi : 1;
  const multSeason = form.season === 'M';
  const addSeason = form.season === 'A';
  if (form.season !== 'N') seasonal.set(p.s0);
  const period = form.season === 'N' ? 1 : m;
  let l = p.l0;
  let b = hasTrend ? p.b0 : 0;
  let sse = 0;
  let sseRel = 0;
  let logSum = 0;
  let logProd = 1;
  let positive = true;
  let phase = 0;
  const n = y.length;
  for (let t = 0; t < n; t++) {
    const lb = l + phi * b;
    let s = 0;
    let mu = lb;
    if (addSeason) { s = seasonal[phase]; mu = lb + s; }
    else if (multSeason) { s = seasonal[phase]; mu = lb * s; }
    if (!(mu > 0)) { positive = false; break; }
    const q = logProd * mu;
    if (q > 1e-150 && q < 1e150) logProd = q;
    else { logSum += Math.log(logProd) + Math.log(mu); logProd = 1; }
    const e = y[t] - mu;
    sse += e * e;
    const r = e / mu;
    sseRel += r * r;
    if (multSeason) {
      l = lb + (alpha * e) / s;
      if (hasTrend) b = phi * b + (beta * e) / s;
      seasonal[phase] = s + (gamma * e) / lb;
    } else {
      l = lb + alpha * e;
      if (hasTrend) b = phi * b + beta * e;
      if (addSeason) seasonal[phase] = s + gamma * e;
    }
    if (++phase === period) phase = 0;
  }
  return { sse, sseRel, sumLogMu: logSum + Math.log(logProd), valid: positive && Number.isFinite(l), level: l, trend: b, seasonal };
}

/** -2 log-likelihood up to a constant, as R's forecast::ets computes it. */
export function etsNegLogLik(r: FilterResult, form: EtsForm, n: number): number {
  if (!r.valid) return Infinity;
  if (form.error === 'A') return n * Math.log(Math.max(r.sse, 1e-300));
  return n * Math.log(Math.max(r.sseRel, 1e-300)) + 2 * r.sumLogMu;
}
