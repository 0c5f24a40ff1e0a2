/**
 * Golden tests: shelfcast's models against reference values computed by R 4.2.2 with forecast 8.20
 * (test/fixtures/r-forecast.json, made by test/fixtures/r-reference.R, whose header says how to
 * rerun it). The tests never call R.
 *
 * Two kinds of agreement are asserted, and kept apart:
 *  (a) Same inputs, same arithmetic. Given R's fitted parameters and initial states, shelfcast's
 *      recursions must reproduce R's log-likelihood, AICc, variance, point forecasts, forecast
 *      standard deviations, decompositions: to 1e-9 relative, i.e. up to floating-point summation
 *      order (measured: 1e-14 or better). That is far tighter than augurs' 0.01 % on the
 *      AirPassengers log-likelihood, and catches an off-by-one in a sum or a count.
 *  (b) Each side optimises. Where R's optimum lies in shelfcast's search space, shelfcast's own
 *      fit must be no worse than R's by more than LIK_MARGIN log-likelihood units (it may be
 *      better: both use Nelder-Mead from different starts, and R's is sometimes the one stuck).
 *
 * Likelihood convention. forecast's `fit$loglik` (= `logLik(fit)`) is not the full Gaussian
 * log-likelihood: its C code returns lik = n log(SSE) for additive errors and
 * n log(sum of squared relative errors) + 2 sum log|mu| for multiplicative ones, and
 * loglik = -0.5 lik, AIC = lik + 2 np, AICc = AIC + 2 np (np + 1) / (n - np - 1), np counting
 * the smoothing parameters, damping, initial states and the variance. shelfcast's etsNegLogLik is
 * that same lik, so R's loglik = -0.5 etsNegLogLik = EtsFit.loglik with no conversion; the full
 * Gaussian value, loglik - n/2 (1 + log 2 pi - log n), is in the fixture as loglik_gaussian and is
 * checked below so that the relation is pinned too.
 *
 * What legitimately differs (documented per test below):
 *  - Seasonal ETS starts. shelfcast keeps the heuristic seasonal starts (ets/initial.ts); R
 *    optimises all m - 1 of them. So seasonal forms are compared in (b) with R's starts given to
 *    shelfcast's optimiser. With its own starts shelfcast's log-likelihood ranges from 30 units
 *    below R's to 130 above (median 4.3 below; more than LIK_MARGIN below in 38 of 63 seasonal
 *    cases); auto-selection picks another form on 4 of the 7 seasonal series, and its AICc is
 *    higher than R's on 6 of them (by 6 to 46).
 *  - Multiplicative-error forms whose one-step forecast goes negative: forecast evaluates
 *    log|mu| and accepts them (UKgas ETS(M,*,A)); shelfcast rejects them.
 *  - Forecast means of ETS(M,*,M): forecast reports class3()'s expectation, which adds sigma^2
 *    terms beyond h = m; shelfcast reports the point forecast (the recursion without errors).
 *  - thetaf intervals: forecast applies the seasonally adjusted series' standard error unscaled
 *    to the reseasonalised mean; shelfcast scales it by the seasonal index, like the mean.
 *
 * Defects on R's side, found while writing these and worked around in r-reference.R rather than
 * copied: class1() gives ETS(A,N,A)'s gamma to the second seasonal state (its sd at h = m, 2m is
 * too large), class3() drops the damping of ETS(M,Ad,M), and stl.f's robustness median is wrong
 * for some even n (so the robust cases have odd length).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EtsForm, EtsParams } from '../../src/models/ets/filter.js';
import { etsEvaluate, etsForecast, fitEtsForm } from '../../src/models/ets/fit.js';
import { fitAutoEts } from '../../src/models/ets/index.js';
import { thetaFromSes } from '../../src/models/theta.js';
import { multiplicativeSplit } from '../../src/models/seasonal-adjusted.js';
import { hasSeasonality, multiplicativeIndices } from '../../src/models/decompose/classical.js';
import { stl } from '../../src/models/decompose/stl.js';
import { mstl } from '../../src/models/decompose/mstl.js';
import { croston, crostonSba, tsb, tsbPass } from '../../src/models/croston.js';
import { MODEL_LIBRARY } from '../../src/models/library.js';

// ---- the fixture --------------------------------------------------------------------------------

interface EtsCase {
  form: string;
  error?: string;
  m: number;
  alpha: number;
  beta: number;
  gamma: number;
  phi: number;
  l0: number;
  b0: number;
  s0_by_phase: number[];
  np: number;
  loglik: number;
  loglik_gaussian: number;
  aic: number;
  aicc: number;
  bic: number;
  sigma2: number;
  min_fitted: number;
  point: number[];
  mean: number[] | null;
  sd: number[] | null;
  sd_forecast: number[] | null;
}
interface ThetaCase {
  m: number;
  seasonal: boolean;
  figure: number[] | null;
  alpha: number;
  l0: number;
  ses_loglik: number;
  drift: number;
  mean: number[];
  sd: number[];
}
interface StlCase {
  s_window: 'periodic' | number;
  robust: boolean;
  /** Leading observations left out (robust cases of even length, see r-reference.R). */
  skip: number;
  windows: number[];
  seasonal: number[];
  trend: number[];
}
interface TsbRef { alpha: number; beta: number; rate: number; sse: number }
interface Fixture {
  meta: { r: string; forecast: string };
  series: Record<string, { y: number[]; m: number }>;
  ets: Record<string, EtsCase[]>;
  ets_auto: Record<string, { form: string; loglik: number; aicc: number }>;
  thetaf: Record<string, ThetaCase>;
  stl: Record<string, StlCase[]>;
  stl_long: { name: string; y: number[]; m: number; cases: StlCase[] };
  mstl: { y: number[]; periods: number[]; seasonal48: number[]; seasonal336: number[] };
  intermittent: Record<string, { y: number[]; croston_alpha: number; croston: number; sba: number; tsb: TsbRef[] }>;
}

const ref = JSON.parse(readFileSync(new URL('../fixtures/r-forecast.json', import.meta.url), 'utf8')) as Fixture;
const series = (name: string): Float64Array => Float64Array.from(ref.series[name].y);

// ---- tolerances ---------------------------------------------------------------------------------

/** (a): same parameters, same arithmetic; only summation order may differ. */
const EXACT = 1e-9;
/** (b): how far below R's log-likelihood shelfcast's own optimum may end (Nelder-Mead tolerance). */
const LIK_MARGIN = 0.1;

const relErr = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, relErr(a[i], b[i]));
  return worst;
}
/** Largest absolute difference relative to the reference's largest magnitude (for components near zero). */
function maxScaledErr(a: ArrayLike<number>, b: ArrayLike<number>, scale: number): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst / scale;
}
const maxAbs = (x: ArrayLike<number>): number => { let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i])); return m; };

function parseForm(code: string): EtsForm {
  const m = code.match(/^([AM])(N|Ad|A)([NAM])$/);
  if (!m) throw new Error(`bad form ${code}`);
  return { error: m[1] as EtsForm['error'], trend: m[2] as EtsForm['trend'], season: m[3] as EtsForm['season'] };
}
const formCode = (f: EtsForm): string => `${f.error}${f.trend}${f.season}`;
const rParams = (c: EtsCase): EtsParams => ({ alpha: c.alpha, beta: c.beta, gamma: c.gamma, phi: c.phi, l0: c.l0, b0: c.b0, s0: Float64Array.from(c.s0_by_phase) });
const etsCases = Object.entries(ref.ets).flatMap(([name, cases]) => cases.map((c) => ({ name, c, label: `${name} ETS(${c.form})` })));
/** UKgas ETS(M,*,A): R's optimum has one-step forecasts below zero (see the file comment). */
const negativeMu = (c: EtsCase): boolean => c.form[0] === 'M' && c.min_fitted <= 0;

describe('golden: the fixture', () => {
  it('comes from R 4.2 / forecast 8.20 and states the likelihood convention it uses', () => {
    expect(ref.meta.r).toMatch(/^R version 4\.2/);
    expect(ref.meta.forecast).toBe('8.20');
    // loglik_gaussian = loglik - n/2 (1 + log 2 pi - log n): the fixture's loglik has no constants.
    for (const { name, c } of etsCases) {
      const n = ref.series[name].y.length;
      expect(relErr(c.loglik - (n / 2) * (1 + Math.log(2 * Math.PI) - Math.log(n)), c.loglik_gaussian)).toBeLessThan(1e-12);
      expect(relErr(-2 * c.loglik + 2 * c.np, c.aic)).toBeLessThan(1e-12);
    }
  });
});

// ---- ETS ----------------------------------------------------------------------------------------

describe('golden: ETS at R\'s parameters (a)', () => {
  it('reproduces R\'s log-likelihood, AIC and AICc for every form R fits', () => {
    let checked = 0;
    for (const { name, c, label } of etsCases) {
      const fit = etsEvaluate(series(name), parseForm(c.form), c.m, rParams(c));
      if (negativeMu(c)) {
        // forecast accepts a multiplicative-error fit whose one-step forecasts go below zero
        // (it takes log|mu|); such a fit is outside the model, and shelfcast refuses it.
        expect(fit, label).toBeNull();
        continue;
      }
      expect(fit, label).not.toBeNull();
      expect(relErr(fit!.loglik, c.loglik), label).toBeLessThan(EXACT);
      expect(relErr(fit!.aicc, c.aicc), label).toBeLessThan(EXACT);
      checked++;
    }
    expect(checked).toBe(etsCases.length - 3);
  });

  it('reproduces R\'s point forecasts', () => {
    for (const { name, c, label } of etsCases) {
      if (negativeMu(c)) continue;
      const y = series(name);
      const fit = etsEvaluate(y, parseForm(c.form), c.m, rParams(c))!;
      const f = etsForecast(fit, y.length, c.point.length);
      expect(maxRelErr(f.mean, c.point), label).toBeLessThan(EXACT);
    }
  });

  it('reproduces R\'s innovation variance and, for the linear forms, its forecast standard deviations', () => {
    // forecast: sigma2 = SSE / (n - length(par)), the variance itself not counted among the
    // parameters there (it is in the AIC). The class-1 sd is exact (Hyndman et al. 2008, table 6.1).
    for (const { name, c, label } of etsCases) {
      if (negativeMu(c)) continue;
      const y = series(name);
      const fit = etsEvaluate(y, parseForm(c.form), c.m, rParams(c))!;
      expect(relErr(fit.sigma2, c.sigma2), label).toBeLessThan(EXACT);
      if (!c.sd) continue;
      const f = etsForecast(fit, y.length, c.sd.length);
      expect(maxRelErr(f.sd, c.sd), label).toBeLessThan(EXACT);
      if (c.sd_forecast) {
        // ETS(A,N,A): forecast 8.20's class1() gives gamma to the wrong seasonal state (see
        // r-reference.R), so its own sd differs at h = m, 2m, ... and only there.
        expect(c.form, label).toBe('ANA');
        for (let i = 0; i < c.sd.length; i++) {
          if ((i + 1) % c.m === 0) expect(c.sd_forecast[i], `${label} h=${i + 1}`).toBeGreaterThan(f.sd[i] * (1 + 1e-7));
          else expect(relErr(f.sd[i], c.sd_forecast[i]), `${label} h=${i + 1}`).toBeLessThan(EXACT);
        }
      }
    }
  });

  it('ETS(M,N,M), ETS(M,A,M): forecast()\'s mean is the point forecast up to h = m, then adds variance terms', () => {
    // class3()'s expectation E[y_{n+h}] exceeds the point forecast once h > m (the seasonal and
    // level errors multiply). shelfcast forecasts the point forecast; the gap is small but real.
    // (For ETS(M,Ad,M) forecast 8.20's class3 also drops the damping, so it is not compared.)
    for (const { c, label } of etsCases.filter(({ c }) => c.form === 'MNM' || c.form === 'MAM')) {
      const mean = c.mean!;
      expect(maxRelErr(mean.slice(0, c.m), c.point.slice(0, c.m)), label).toBeLessThan(EXACT);
      expect(maxRelErr(mean.slice(c.m), c.point.slice(c.m)), label).toBeGreaterThan(0);
      expect(maxRelErr(mean.slice(c.m), c.point.slice(c.m)), label).toBeLessThan(2e-3);
    }
  });
});

describe('golden: ETS fitted by shelfcast (b)', () => {
  /**
   * Non-seasonal forms on strongly seasonal data (nottem, co2) have several optima, all with
   * alpha near 1; from its start shelfcast's optimiser settles in one with beta near 0 where R's
   * finds beta 0.6-0.8. The gaps, measured at this commit, are pinned so that they cannot grow.
   * (R is the one stuck elsewhere: WWWusage ETS(M,A,N) and ETS(M,Ad,N), where shelfcast is 3.4
   * and 3.9 units better.)
   */
  const KNOWN_LOCAL_OPTIMA: Record<string, number> = {
    'nottem AAN': 8.51, 'nottem AAdN': 19.88, 'nottem MAdN': 3.40,
    'co2_1959_1968 AAdN': 12.66, 'co2_1959_1968 MAdN': 11.53,
  };

  it('non-seasonal forms: shelfcast\'s optimum is no worse than R\'s (R\'s lies in its search space)', () => {
    for (const { name, c, label } of etsCases.filter(({ c }) => !c.form.endsWith('A') && !c.form.endsWith('M'))) {
      const y = series(name);
      const own = fitEtsForm(y, parseForm(c.form), 1);
      expect(own, label).not.toBeNull();
      const allowed = LIK_MARGIN + (KNOWN_LOCAL_OPTIMA[`${name} ${c.form}`] ?? 0);
      expect(own!.loglik, label).toBeGreaterThan(c.loglik - allowed);
      // Same parameter count as R: AICc + 2 loglik is the penalty alone.
      expect(Math.abs(own!.aicc + 2 * own!.loglik - (c.aicc + 2 * c.loglik)), label).toBeLessThan(1e-9 * c.aicc);
    }
  });

  /**
   * Seasonal forms, given R's seasonal starts (shelfcast optimises smoothing, damping, level and
   * trend; R also the starts): then both search the same space. Two UKgas optima sit on the
   * region's edges (beta = alpha, gamma = 1 - alpha, phi = 0.98), which the logistic mapping
   * only approaches; shelfcast ends 1.4 and 7.2 units short there, pinned below.
   */
  const KNOWN_EDGE_OPTIMA: Record<string, number> = { 'UKgas AAA': 1.39, 'UKgas MAdM': 7.19 };

  it('seasonal forms, from R\'s seasonal starts: shelfcast\'s optimum is no worse than R\'s', () => {
    for (const { name, c, label } of etsCases.filter(({ c }) => c.form.endsWith('A') || c.form.endsWith('M'))) {
      const y = series(name);
      const own = fitEtsForm(y, parseForm(c.form), c.m, undefined, Float64Array.from(c.s0_by_phase));
      if (negativeMu(c)) {
        expect(own, label).toBeNull();
        continue;
      }
      expect(own, label).not.toBeNull();
      const allowed = LIK_MARGIN + (KNOWN_EDGE_OPTIMA[`${name} ${c.form}`] ?? 0);
      expect(own!.loglik, label).toBeGreaterThan(c.loglik - allowed);
      expect(Math.abs(own!.aicc + 2 * own!.loglik - (c.aicc + 2 * c.loglik)), label).toBeLessThan(1e-9 * c.aicc);
    }
  });

  it('automatic selection agrees with R\'s ets(y) on the non-seasonal series', () => {
    // On the seasonal series the heuristic seasonal starts change the likelihoods (see the file
    // comment): shelfcast selects MAM, ANA, MAM, ANA, MAM, MAM, ANA where R selects MAdM, ANA,
    // MNM, ANA, MAM, AAA, MNA (AirPassengers, USAccDeaths, ldeaths, nottem, UKgas, co2,
    // woolyrnq), a consequence of the starts, not of the selection, so it is not asserted.
    for (const name of ['Nile', 'WWWusage']) {
      const auto = fitAutoEts(series(name), ref.series[name].m);
      expect(formCode(auto.form), name).toBe(ref.ets_auto[name].form);
      expect(auto.aicc, name).toBeLessThan(ref.ets_auto[name].aicc + 2 * LIK_MARGIN);
    }
  });
});

// ---- thetaf -------------------------------------------------------------------------------------

describe('golden: thetaf', () => {
  const cases = Object.entries(ref.thetaf);
  const ANN: EtsForm = { error: 'A', trend: 'N', season: 'N' };

  it('makes the same seasonality decision, indices and drift as forecast::thetaf (a)', () => {
    for (const [name, t] of cases) {
      const y = series(name);
      expect(hasSeasonality(y, t.m), name).toBe(t.seasonal);
      if (t.seasonal) expect(maxScaledErr(multiplicativeIndices(y, t.m), t.figure!, 1), name).toBeLessThan(1e-12);
    }
  });

  /** The seasonally adjusted series and, given R's SES alpha and level, shelfcast's thetaf at R's parameters. */
  function thetaAtR(name: string, t: ThetaCase) {
    const y = series(name);
    const split = t.seasonal ? multiplicativeSplit(y, [t.m]) : null;
    const x = split ? split.adjusted : y;
    const ses = etsEvaluate(x, ANN, 1, { alpha: t.alpha, beta: 0, gamma: 0, phi: 1, l0: t.l0, b0: 0, s0: new Float64Array(0) })!;
    const fitted = thetaFromSes(x, ses);
    const f = fitted.forecast(t.mean.length);
    const mean = Float64Array.from(f.mean);
    const sd = Float64Array.from(f.sd);
    split?.restore(mean, sd);
    return { y, x, ses, fitted, mean, sd };
  }

  it('reproduces thetaf\'s forecasts at R\'s SES parameters (a)', () => {
    for (const [name, t] of cases) {
      const { ses, fitted, mean } = thetaAtR(name, t);
      expect(relErr(ses.loglik, t.ses_loglik), name).toBeLessThan(EXACT);
      expect(relErr(fitted.params.drift, t.drift), name).toBeLessThan(EXACT);
      expect(maxRelErr(mean, t.mean), name).toBeLessThan(EXACT);
    }
  });

  it('reproduces thetaf\'s interval widths: exactly without a season, scaled by the seasonal index with one (a)', () => {
    // thetaf: se_h = sigma sqrt(1 + (h - 1) alpha^2) on the adjusted scale, with forecast's SES
    // sigma2 = SSE / (n - 2). Reseasonalising, forecast keeps that se; shelfcast multiplies it by
    // the seasonal index as it does the mean, so its relative width follows the season.
    for (const [name, t] of cases) {
      const { y, sd } = thetaAtR(name, t);
      const idx = t.seasonal ? multiplicativeIndices(y, t.m) : null;
      const expected = t.sd.map((v, i) => (idx ? v * idx[(y.length + i) % t.m] : v));
      expect(maxRelErr(sd, expected), name).toBeLessThan(EXACT);
    }
  });

  it('fits SES at least as well as R and then forecasts within 1e-3 of thetaf (b)', () => {
    // Both optimisers stop on a flat likelihood: alpha differs by up to 8e-4, which moves the
    // forecasts by up to 1.4e-4 relative (UKgas). The SES log-likelihood is what must not be worse.
    for (const [name, t] of cases) {
      const y = series(name);
      const split = t.seasonal ? multiplicativeSplit(y, [t.m]) : null;
      const ses = fitEtsForm(split ? split.adjusted : y, ANN, 1)!;
      expect(ses.loglik, name).toBeGreaterThan(t.ses_loglik - 1e-3);
      const ctx = { season: t.m, seasons: t.m > 1 ? [t.m] : [] };
      const f = MODEL_LIBRARY.thetaf.fit(y, ctx).forecast(t.mean.length);
      expect(maxRelErr(f.mean, t.mean), name).toBeLessThan(1e-3);
    }
  });
});

// ---- STL / MSTL ---------------------------------------------------------------------------------

describe('golden: STL and MSTL against stats::stl and forecast::mstl (a)', () => {
  function check(name: string, full: Float64Array, m: number, c: StlCase): void {
    const y = full.subarray(c.skip);
    const d = stl(y, m, { seasonalSpan: c.s_window, robustIterations: c.robust ? 15 : 0 });
    const label = `${name} s.window=${c.s_window}${c.robust ? ' robust' : ''}`;
    const scale = maxAbs(y);
    expect(maxScaledErr(d.seasonal, c.seasonal, scale), label).toBeLessThan(EXACT);
    expect(maxScaledErr(d.trend, c.trend, scale), label).toBeLessThan(EXACT);
  }

  it('numeric s.window (what MSTL uses), not robust', () => {
    for (const [name, cases] of Object.entries(ref.stl)) {
      for (const c of cases.filter((c) => c.s_window !== 'periodic' && !c.robust)) check(name, series(name), ref.series[name].m, c);
    }
  });

  it('s.window = "periodic": one seasonal pattern, the mean of each cycle position, as stats::stl makes it', () => {
    for (const [name, cases] of Object.entries(ref.stl)) {
      for (const c of cases.filter((c) => c.s_window === 'periodic')) check(name, series(name), ref.series[name].m, c);
    }
  });

  it('robust (15 outer iterations of bisquare weights), on odd-length series', () => {
    // stl.f's median of the absolute residuals is wrong for some even n (see r-reference.R);
    // shelfcast takes the true median, so the fixture's robust cases have odd length.
    for (const [name, cases] of Object.entries(ref.stl)) {
      for (const c of cases.filter((c) => c.robust)) {
        expect((ref.series[name].y.length - c.skip) % 2, name).toBe(1);
        check(name, series(name), ref.series[name].m, c);
      }
    }
  });

  it('a long series: the loess keeps degree 1 only where the window\'s spread exceeds 0.001 (n - 1), as stl.f', () => {
    // sunspot.month, n = 3177: the 13-point low-pass smoother is then a local mean in R.
    const { name, m, cases } = ref.stl_long;
    for (const c of cases) check(name, Float64Array.from(ref.stl_long.y), m, c);
  });

  it('MSTL with two periods (taylor, 48 and 336)', () => {
    const y = Float64Array.from(ref.mstl.y);
    const d = mstl(y, ref.mstl.periods);
    expect(d.periods).toEqual([48, 336]);
    const scale = maxAbs(y);
    expect(maxScaledErr(d.seasonals[0], ref.mstl.seasonal48, scale)).toBeLessThan(EXACT);
    expect(maxScaledErr(d.seasonals[1], ref.mstl.seasonal336, scale)).toBeLessThan(EXACT);
  });
});

// ---- intermittent -------------------------------------------------------------------------------

describe('golden: Croston, SBA and TSB (a)', () => {
  const ctx = { season: 1, seasons: [] };
  const cases = Object.entries(ref.intermittent);

  it('Croston (alpha 0.1) matches forecast::croston and SBA is it times 1 - alpha/2', () => {
    for (const [name, c] of cases) {
      const y = Float64Array.from(c.y);
      expect(c.croston_alpha).toBe(0.1);
      expect(relErr(croston.fit(y, ctx).forecast(1).mean[0], c.croston), name).toBeLessThan(1e-12);
      expect(relErr(crostonSba.fit(y, ctx).forecast(1).mean[0], c.sba), name).toBeLessThan(1e-12);
    }
  });

  it('TSB reproduces the published recursion at every (alpha, beta) of the grid', () => {
    for (const [name, c] of cases) {
      const y = Float64Array.from(c.y);
      for (const r of c.tsb) {
        const p = tsbPass(y, r.alpha, r.beta);
        expect(relErr(p.level, r.rate), `${name} ${r.alpha} ${r.beta}`).toBeLessThan(1e-12);
        expect(relErr(p.sse, r.sse), `${name} ${r.alpha} ${r.beta}`).toBeLessThan(1e-12);
      }
    }
  });

  it('the TSB model picks the grid point with the least in-sample squared error', () => {
    for (const [name, c] of cases) {
      const fit = tsb.fit(Float64Array.from(c.y), ctx);
      const best = c.tsb.reduce((a, b) => (b.sse < a.sse ? b : a));
      expect([fit.params.alpha, fit.params.beta], name).toEqual([best.alpha, best.beta]);
      expect(relErr(fit.forecast(1).mean[0], best.rate), name).toBeLessThan(1e-12);
    }
  });
});
