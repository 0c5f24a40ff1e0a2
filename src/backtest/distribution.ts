import { normalQuantile } from '../models/stats.js';

/**
 * The predictive distribution of one series at one step, beyond the published levels: what
 * sample paths (lead-time demand, the hierarchy's joint samples) draw from, and the discrete
 * distribution of count series.
 *
 * - Continuous (every series by default): point ± unit · A(|2u − 1|), where A is the quantile
 *   function of the class's absolute normalised backtest errors at that step (the conformal
 *   scores of conformal.ts, on a grid of levels), so the published quantiles are this
 *   distribution's own.
 * - Count (intermittent and lumpy series whose history is whole units): a negative binomial
 *   with the forecast's mean and the calibrated variance, unit² · E[score²] (the class's mean
 *   squared normalised backtest error at that step), Poisson when that is below the mean. It is
 *   discrete and puts its mass on 0 as such demand does: p50 of a series selling on one day in
 *   three is 0, not the rate.
 */

/** Levels of |2u − 1| at which the absolute scores' quantiles are kept (the grid of `absGrid`). */
export const ABS_GRID: readonly number[] = [...Array.from({ length: 50 }, (_, k) => k / 50), 0.99, 0.995, 0.999];

/** A's value at probability p, interpolated on the grid [step · G .. step · G + G). */
export function absQuantile(grid: ArrayLike<number>, step: number, p: number): number {
  const G = ABS_GRID.length;
  const base = step * G;
  if (p <= 0) return grid[base];
  if (p >= ABS_GRID[G - 1]) return grid[base + G - 1];
  let k = 0;
  while (k < G - 2 && ABS_GRID[k + 1] < p) k++;
  const a = ABS_GRID[k];
  const b = ABS_GRID[k + 1];
  return grid[base + k] + ((grid[base + k + 1] - grid[base + k]) * (p - a)) / (b - a);
}

/** Quantile u of the continuous distribution: point + unit · sign(u − ½) · A(|2u − 1|), at least 0. */
export function continuousQuantile(point: number, unit: number, grid: ArrayLike<number>, step: number, u: number): number {
  const v = point + Math.sign(u - 0.5) * unit * absQuantile(grid, step, Math.abs(2 * u - 1));
  return v > 0 && Number.isFinite(v) ? v : 0;
}

/** Gaussian quantile u around the point with spread sd (series without a calibration), at least 0. */
export function gaussianQuantile(point: number, sd: number, u: number): number {
  const v = point + normalQuantile(u) * (Number.isFinite(sd) ? sd : 0);
  return v > 0 && Number.isFinite(v) ? v : 0;
}

/**
 * The cumulative distribution of a count with this mean and variance (negative binomial, or
 * Poisson when the variance is not above the mean), from 0 up to the 0.9999 quantile.
 */
export function countCdf(mean: number, variance: number): Float64Array {
  if (!(mean > 0) || !Number.isFinite(mean)) return Float64Array.of(1);
  const out: number[] = [];
  let pk: number;
  let next: (k: number, p: number) => number;
  if (variance > mean * 1.0001) {
    // NB(r, q): mean r(1−q)/q, variance mean/q.
    const q = mean / variance;
    const r = (mean * q) / (1 - q);
    pk = Math.exp(r * Math.log(q));
    next = (k, p) => (p * (k + r) * (1 - q)) / (k + 1);
  } else {
    pk = Math.exp(-mean);
    next = (k, p) => (p * mean) / (k + 1);
  }
  let acc = 0;
  const cap = Math.ceil(mean + 40 * Math.sqrt(Math.max(variance, mean)) + 50);
  for (let k = 0; k <= cap; k++) {
    acc += pk;
    out.push(Math.min(1, acc));
    if (acc >= 0.9999) break;
    pk = next(k, pk);
    if (pk === 0 && acc < 1e-300) { out.length = 0; return countCdfNormal(mean, variance); }
  }
  out[out.length - 1] = 1;
  return Float64Array.from(out);
}

/** A discretised normal, for a mean too large for exp(−mean) in doubles. */
function countCdfNormal(mean: number, variance: number): Float64Array {
  const sd = Math.sqrt(Math.max(variance, mean));
  const hi = Math.ceil(mean + 5 * sd);
  const out = new Float64Array(hi + 1);
  const phi = (x: number): number => 0.5 * (1 + erf(x / Math.SQRT2));
  for (let k = 0; k <= hi; k++) out[k] = phi((k + 0.5 - mean) / sd);
  out[hi] = 1;
  return out;
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 (|error| < 1.5e-7).
  const s = Math.sign(x);
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return s * y;
}

/** The smallest count whose cumulative probability reaches u. */
export function countQuantile(cdf: ArrayLike<number>, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid] >= u - 1e-12) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A seeded generator (xorshift128+ folded to [0, 1)), the same sequence on every platform. */
export function seededRandom(seed: number): () => number {
  let s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
  let s1 = Math.imul(seed ^ 0x85ebca6b, 0xc2b2ae35) >>> 0 || 2;
  return () => {
    let x = s0;
    const y = s1;
    s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    s1 = x >>> 0;
    return ((s0 + s1) >>> 0) / 4294967296 + 0.5 / 4294967296;
  };
}

/** A standard normal draw (Box–Muller) from uniform draws. */
export function normalDraw(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r());
}

/** The standard normal CDF. */
export function normalCdf(x: number): number {
  return 0.5 * (1 + erf(x / Math.SQRT2));
}

/** A stable 32-bit hash of text (FNV-1a), to seed each series by its key. */
export function hashSeed(text: string, seed: number): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Sample quantiles (type 7, as R's default) of sorted values. */
export function sortedQuantile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}
