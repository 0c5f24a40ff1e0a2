import type { FitContext, FittedModel, Model } from './types.js';
import { nelderMead } from './optim/nelder-mead.js';
import { etsForecast, fitEtsForm, type EtsFit } from './ets/fit.js';

/**
 * The Theta method as an optimised state-space model (OTM, Fiorucci, Pellegrini, Louzada,
 * Petropoulos & Koehler, IJF 2016): a simple exponential smoothing level plus
 * (1 - 1/theta) times the drift of the ordinary least-squares trend fitted to the data so far.
 * theta = 2 is the classic Theta method of Assimakopoulos & Nikolopoulos (2000), which
 * Hyndman & Billah (2003) showed is SES with drift equal to half the regression slope.
 *
 * One-step forecast (Fiorucci et al. 2016, eq. 3–6):
 *   mu_t = l_{t-1} + (1 - 1/theta) [ (1-alpha)^{t-1} A_{t-1} + (1 - (1-alpha)^t) / alpha · B_{t-1} ]
 *   l_t  = alpha y_t + (1 - alpha) l_{t-1}
 * with A_t, B_t the OLS intercept and slope of y_1..y_t on 1..t.
 */

interface ThetaState {
  sse: number;
  level: number;
  a: number;
  b: number;
}

/**
 * A_t and B_t for t = 0..n (A_0 = y_1, B_0 = 0: no data yet). They depend on y alone, not on
 * the parameters, so a fit computes them once instead of in every one of the optimiser's
 * hundreds of likelihood evaluations (same operations, same values).
 */
interface OlsPath {
  readonly a: Float64Array;
  readonly b: Float64Array;
}

function olsPath(y: Float64Array): OlsPath {
  const n = y.length;
  const a = new Float64Array(n + 1);
  const b = new Float64Array(n + 1);
  a[0] = y[0];
  let st = 0;
  let sy = 0;
  let stt = 0;
  let sty = 0;
  for (let t = 1; t <= n; t++) {
    st += t;
    sy += y[t - 1];
    stt += t * t;
    sty += t * y[t - 1];
    const den = t * stt - st * st;
    b[t] = den > 0 ? (t * sty - st * sy) / den : 0;
    a[t] = (sy - b[t] * st) / t;
  }
  return { a, b };
}

function run(y: Float64Array, ols: OlsPath, alpha: number, theta: number, l0: number): ThetaState {
  const n = y.length;
  const w = 1 - 1 / theta;
  const { a, b } = ols;
  let level = l0;
  let decay = 1; // (1 - alpha)^(t-1)
  let sse = 0;
  for (let t = 1; t <= n; t++) {
    const mu = level + w * (decay * a[t - 1] + ((1 - decay * (1 - alpha)) / alpha) * b[t - 1]);
    const e = y[t - 1] - mu;
    if (t > 1) sse += e * e; // the first forecast has no trend information yet
    level = alpha * y[t - 1] + (1 - alpha) * level;
    decay *= 1 - alpha;
  }
  return { sse, level, a: a[n], b: b[n] };
}

export interface ThetaOptions {
  /** Fix theta (2 = classic Theta); omitted: optimised over [1, 20]. */
  readonly theta?: number;
  /** Parameters of an earlier fit (alpha, theta, l0) to keep instead of optimising. */
  readonly reuse?: Readonly<Record<string, number>>;
}

export function fitTheta(y: Float64Array, opts: ThetaOptions = {}): FittedModel {
  const n = y.length;
  if (n < 3) throw new Error('theta: needs at least 3 observations');
  const fixed = opts.theta;
  const logistic = (u: number): number => 1 / (1 + Math.exp(-u));
  const decode = (x: Float64Array): [number, number, number] => [
    0.001 + 0.998 * logistic(x[0]),
    fixed ?? 1 + 19 * logistic(x[1]),
    y[0] + x[fixed === undefined ? 2 : 1] * scale,
  ];
  let scale = 0;
  for (let i = 1; i < n; i++) scale += Math.abs(y[i] - y[i - 1]);
  scale = scale / (n - 1) || Math.abs(y[0]) || 1;
  const x0 = fixed === undefined ? [0, -2.2, 0] : [0, 0];
  const r = opts.reuse;
  const kept = r && [r.alpha, r.theta, r.l0].every(Number.isFinite) ? ([r.alpha, r.theta, r.l0] as [number, number, number]) : null;
  const ols = olsPath(y);
  const [alpha, theta, l0] = kept ?? decode(nelderMead((x) => run(y, ols, ...decode(x)).sse, x0, { maxIter: 300, step: 0.7 }).x);
  const s = run(y, ols, alpha, theta, l0);
  const sigma = Math.sqrt(s.sse / Math.max(1, n - 1 - x0.length));
  const w = 1 - 1 / theta;
  const dn = (1 - alpha) ** n;
  return {
    label: 'otm',
    params: { alpha, theta, l0, level: s.level, a: s.a, b: s.b, sigma },
    forecast(h) {
      const mean = new Float64Array(h);
      const sd = new Float64Array(h);
      for (let i = 1; i <= h; i++) {
        // h-step: l_n + w [ (1-alpha)^n A_n + ((1 - (1-alpha)^{n+1})/alpha + i - 1) B_n ]
        mean[i - 1] = s.level + w * (dn * s.a + ((1 - dn * (1 - alpha)) / alpha + i - 1) * s.b);
        sd[i - 1] = sigma * Math.sqrt(1 + (i - 1) * alpha * alpha);
      }
      return { mean, sd };
    },
  };
}

/**
 * The classic Theta method as R's forecast::thetaf computes it (Hyndman & Billah 2003): simple
 * exponential smoothing fitted by likelihood, plus half the OLS slope as drift,
 *   y_{n+h} = SES_{n+h} + b/2 · (h - 1 + (1 - (1 - alpha)^n) / alpha).
 */
export function fitClassicTheta(y: Float64Array): FittedModel {
  if (y.length < 3) throw new Error('theta: needs at least 3 observations');
  const ses = fitEtsForm(y, { error: 'A', trend: 'N', season: 'N' }, 1);
  if (!ses) throw new Error('theta: SES could not be fitted');
  return thetaFromSes(y, ses);
}

/** The classic Theta forecast from a given SES (ETS(A,N,N)) fit on y: fitClassicTheta without the fitting. */
export function thetaFromSes(y: Float64Array, ses: EtsFit): FittedModel {
  const n = y.length;
  let st = 0;
  let sy = 0;
  let stt = 0;
  let sty = 0;
  for (let t = 0; t < n; t++) { st += t; sy += y[t]; stt += t * t; sty += t * y[t]; }
  const drift = (n * sty - st * sy) / (n * stt - st * st) / 2;
  const alpha = ses.params.alpha;
  return {
    label: 'theta',
    params: { alpha, level: ses.level, drift, sigma2: ses.sigma2 },
    forecast(h) {
      const f = etsForecast(ses, n, h);
      const start = (1 - (1 - alpha) ** n) / alpha;
      for (let i = 0; i < h; i++) f.mean[i] += drift * (i + start);
      return f;
    },
  };
}

export const theta: Model = { name: 'theta', fit: (y: Float64Array) => fitClassicTheta(y) };
export const optimisedTheta: Model = {
  name: 'otm',
  fit: (y: Float64Array) => fitTheta(y),
  forward: (spec, y) => fitTheta(y, { reuse: spec.params }),
};
