import { DEMAND_CLASSES, type DemandClass } from '../models/classify.js';
import { normalQuantile } from '../models/stats.js';
import { ABS_GRID, countCdf, countQuantile } from './distribution.js';

/**
 * Interval calibration from backtest errors: split conformal prediction with normalised
 * absolute scores, per horizon step (Lei et al., JASA 2018, §5.2; Papadopoulos et al. 2002).
 * Each series' backtest errors are divided by its unit (the one-step error spread of its
 * fitted model, so a noisy series gets a wide band and a steady one a narrow band), pooled
 * across the series of a demand class, and the quantile of their absolute values at level
 * |2·tau − 1| gives the offset of quantile tau: point ± unit · Q(step). How fast the band
 * widens with the horizon, and how heavy its tails are, come from what the models really
 * missed out of sample, not from their own assumptions; it works for any model, the
 * intermittent ones included. Symmetric scores keep the median at the point forecast.
 *
 * Older windows count less: each window back in time has half the weight of the next
 * (weighted quantiles, as in non-exchangeable conformal prediction, Barber, Candès, Ramdas &
 * Tibshirani, Annals of Statistics 2023). Errors from the latest window come from fits on
 * almost the full history and from the most recent behaviour, like the forecast being made.
 */

/** Weight of a backtest window relative to the next newer one. */
const WINDOW_DECAY = 0.5;

/** Fewer pooled errors than this at a step, and the class borrows the pool of all classes. */
const MIN_CALIBRATION_SAMPLES = 60;

export interface Calibration {
  readonly levels: readonly number[];
  readonly horizon: number;
  /** Per class: [step][level] offsets in scale units, or null when the class had too few errors. */
  readonly byClass: Readonly<Record<DemandClass, Float64Array | null>>;
  readonly pooled: Float64Array | null;
  /** Errors used per class, for the manifest. */
  readonly samples: Readonly<Record<DemandClass | 'all', number>>;
  /** The whole distribution of the scores (distribution.ts): absent in a calibration stored before it existed. */
  readonly dist?: DistTables;
}

/** Per class (or pooled): what sample paths and count distributions need beyond the published levels. */
export interface ClassDist {
  /** [step][ABS_GRID] quantiles of the absolute normalised errors. */
  readonly absGrid: Float64Array;
  /** [step] weighted mean of the squared normalised errors: the calibrated variance in units². */
  readonly m2: Float64Array;
  /** [path][step] whole normalised error paths (one backtest window of one series; NaN where absent). */
  readonly paths: Float32Array;
  /** [path] the window weight of each path. */
  readonly weights: Float32Array;
}

export interface DistTables {
  readonly byClass: Readonly<Record<DemandClass, ClassDist | null>>;
  readonly pooled: ClassDist | null;
}

/** Whole error paths kept per class for sampling (a deterministic thinning beyond it). */
const MAX_PATHS = 1000;

/** Collects scaled backtest errors as series results arrive, then computes the offsets. */
/** Absolute normalised errors and their window weights, per horizon step. */
class ScorePool {
  readonly scores: number[][];
  readonly weights: number[][];
  readonly paths: Float32Array[] = [];
  readonly pathWeights: number[] = [];

  constructor(horizon: number) {
    this.scores = Array.from({ length: horizon }, () => []);
    this.weights = Array.from({ length: horizon }, () => []);
  }

  /**
   * The score distribution on the grid, mean squares and thinned paths; null when the pool is
   * too small (as for `offsets`). A step short of errors borrows its neighbours', as there.
   */
  dist(): ClassDist | null {
    const h = this.scores.length;
    if (this.size < MIN_CALIBRATION_SAMPLES) return null;
    const G = ABS_GRID.length;
    const absGrid = new Float64Array(h * G);
    const m2 = new Float64Array(h);
    for (let s = 0; s < h; s++) {
      const { xs, ws } = this.atStep(s);
      absGrid.set(weightedQuantiles(xs, ws, ABS_GRID), s * G);
      let sw = 0;
      let sq = 0;
      for (let i = 0; i < xs.length; i++) { sw += ws[i]; sq += ws[i] * xs[i] * xs[i]; }
      m2[s] = sw > 0 ? sq / sw : NaN;
    }
    const stride = Math.max(1, Math.ceil(this.paths.length / MAX_PATHS));
    const kept = this.paths.filter((_, i) => i % stride === 0);
    const paths = new Float32Array(kept.length * h);
    kept.forEach((p, i) => paths.set(p, i * h));
    const weights = Float32Array.from(this.pathWeights.filter((_, i) => i % stride === 0));
    return { absGrid, m2, paths, weights };
  }

  /** The errors of step s, with the nearest steps' when it has too few of its own. */
  private atStep(s: number): { xs: number[]; ws: number[] } {
    const h = this.scores.length;
    let xs = this.scores[s];
    let ws = this.weights[s];
    for (let d = 1; xs.length < MIN_CALIBRATION_SAMPLES && d < h; d++) {
      for (const n of [s - d, s + d]) {
        if (n < 0 || n >= h) continue;
        xs = xs.concat(this.scores[n]);
        ws = ws.concat(this.weights[n]);
      }
    }
    return { xs, ws };
  }

  push(step: number, score: number, weight: number): void {
    this.scores[step].push(score);
    this.weights[step].push(weight);
  }

  /**
   * Offsets [step][level], or null when the whole horizon has too few errors to trust. A step
   * with too few errors of its own borrows those of the nearest steps until it has enough:
   * every Sunday step is empty when the stores are closed on Sundays, and one empty step must
   * not send the whole class to the models' own (uncalibrated) spread.
   */
  offsets(levels: readonly number[]): Float64Array | null {
    const h = this.scores.length;
    if (this.scores.reduce((a, xs) => a + xs.length, 0) < MIN_CALIBRATION_SAMPLES) return null;
    const out = new Float64Array(h * levels.length);
    // A symmetric band: each level needs the |score| quantile of its distance from the median
    // (p10 and p90 the same one), all from one sort per step.
    const ps = levels.map((tau) => Math.abs(2 * tau - 1));
    const distinct = [...new Set(ps)].sort((a, b) => a - b);
    for (let s = 0; s < h; s++) {
      const { xs, ws } = this.atStep(s);
      const q = weightedQuantiles(xs, ws, distinct);
      levels.forEach((tau, k) => {
        out[s * levels.length + k] = Math.sign(tau - 0.5) * q[distinct.indexOf(ps[k])];
      });
    }
    return out;
  }

  /** Errors collected, over every step. */
  get size(): number {
    return this.scores.reduce((a, xs) => a + xs.length, 0);
  }
}

/** The smallest value whose cumulative weight reaches p of the total, for every p of `ps` (ascending), sorting once. */
function weightedQuantiles(values: readonly number[], weights: readonly number[], ps: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => values[a] - values[b] || a - b);
  let total = 0;
  for (const w of weights) total += w;
  const out: number[] = [];
  let acc = 0;
  let j = 0;
  for (const p of ps) {
    while (j < order.length && acc + weights[order[j]] < p * total - 1e-12) acc += weights[order[j++]];
    out.push(values[order[Math.min(j, order.length - 1)]] ?? NaN);
  }
  return out;
}

/** Collects normalised backtest errors as series results arrive, then computes the offsets. */
export class CalibrationBuilder {
  private readonly pools = new Map<DemandClass, ScorePool>();
  private readonly all: ScorePool;

  constructor(private readonly horizon: number, private readonly windows: number) {
    for (const c of DEMAND_CLASSES) this.pools.set(c, new ScorePool(horizon));
    this.all = new ScorePool(horizon);
  }

  /** `residuals` is [window][step] actual − forecast, oldest window first (NaN where absent); `unit` per step. */
  add(cls: DemandClass, residuals: ArrayLike<number>, unit: ArrayLike<number>): void {
    const pool = this.pools.get(cls) as ScorePool;
    for (let w = 0; w < this.windows; w++) {
      const weight = WINDOW_DECAY ** (this.windows - 1 - w);
      const path = new Float32Array(this.horizon).fill(NaN);
      let any = false;
      for (let s = 0; s < this.horizon; s++) {
        const r = residuals[w * this.horizon + s];
        if (Number.isNaN(r) || !(unit[s] > 0)) continue;
        const score = Math.abs(r) / unit[s];
        pool.push(s, score, weight);
        this.all.push(s, score, weight);
        if (Number.isFinite(score)) { path[s] = r / unit[s]; any = true; }
      }
      if (any) {
        for (const p of [pool, this.all]) { p.paths.push(path); p.pathWeights.push(weight); }
      }
    }
  }

  build(levels: readonly number[]): Calibration {
    const pool = (c: DemandClass): ScorePool => this.pools.get(c) as ScorePool;
    const byClass = Object.fromEntries(DEMAND_CLASSES.map((c) => [c, pool(c).offsets(levels)])) as Record<DemandClass, Float64Array | null>;
    const samples = Object.fromEntries([...DEMAND_CLASSES.map((c) => [c, pool(c).size]), ['all', this.all.size]]) as Record<DemandClass | 'all', number>;
    const dist: DistTables = { byClass: Object.fromEntries(DEMAND_CLASSES.map((c) => [c, pool(c).dist()])) as Record<DemandClass, ClassDist | null>, pooled: this.all.dist() };
    return { levels, horizon: this.horizon, byClass, pooled: this.all.offsets(levels), samples, dist };
  }
}

/** The distribution tables of a class: its own, else the pool of all classes. */
export function classDist(cal: Calibration, cls: DemandClass): ClassDist | null {
  return cal.dist ? cal.dist.byClass[cls] ?? cal.dist.pooled : null;
}

/** A count series' calibrated variance at step s: unit² · E[score²]. */
export function countVariance(d: ClassDist, unit: number, s: number): number {
  return unit * unit * d.m2[s];
}

/**
 * Quantile paths of a series from its predictive distribution: for a count series (`count`,
 * distribution.ts) the negative binomial's, else the conformal band of seriesQuantiles. Both
 * non-negative, non-crossing, 0 where `closed`.
 */
export function predictiveQuantiles(cal: Calibration, cls: DemandClass, point: ArrayLike<number>, sd: ArrayLike<number>, unit: ArrayLike<number>, closed: ArrayLike<number> | undefined, count: boolean): Float64Array[] {
  const d = count ? classDist(cal, cls) : null;
  if (!d) return seriesQuantiles(cal, cls, point, sd, unit, closed);
  const qs = cal.levels.map(() => new Float64Array(cal.horizon));
  for (let s = 0; s < cal.horizon; s++) {
    if (closed?.[s]) continue;
    const u = unit[s] > 0 && Number.isFinite(unit[s]) ? unit[s] : 0;
    const cdf = countCdf(point[s], countVariance(d, u, s));
    cal.levels.forEach((tau, k) => { qs[k][s] = countQuantile(cdf, tau); });
  }
  return qs;
}

/**
 * Quantile paths for one series: calibrated offsets when its class (or the pool) has them,
 * else Gaussian quantiles from the model's own spread. Non-negative and non-crossing; 0 on
 * the steps `closed` marks.
 */
export function seriesQuantiles(cal: Calibration, cls: DemandClass, point: ArrayLike<number>, sd: ArrayLike<number>, unit: ArrayLike<number>, closed?: ArrayLike<number>): Float64Array[] {
  const { levels, horizon } = cal;
  const table = cal.byClass[cls] ?? cal.pooled;
  const qs = levels.map(() => new Float64Array(horizon));
  const gauss = levels.map(normalQuantile);
  for (let s = 0; s < horizon; s++) {
    if (closed?.[s]) continue; // a closed store sells nothing: 0 in every quantile
    let floor = 0;
    // A series without a usable unit (no spread measured, or an overflow) falls back to its
    // model's own spread, and one without that to the point: never a NaN or an infinity.
    const u = unit[s] > 0 && Number.isFinite(unit[s]) ? unit[s] : null;
    const spread = Number.isFinite(sd[s]) ? sd[s] : 0;
    for (let k = 0; k < levels.length; k++) {
      const offset = table && u !== null ? u * table[s * levels.length + k] : gauss[k] * spread;
      let v = point[s] + offset;
      if (!Number.isFinite(v)) v = point[s];
      if (!(v >= floor)) v = floor; // NaN, negative, or below the previous level
      qs[k][s] = v;
      floor = v;
    }
  }
  return qs;
}

/** A calibration as JSON (the registry stores it; a sharded run's plan carries it). */
export function calibrationToJson(c: Calibration): string {
  const arr = (x: Float64Array | null): number[] | null => (x ? Array.from(x) : null);
  return JSON.stringify({ levels: c.levels, horizon: c.horizon, byClass: Object.fromEntries(Object.entries(c.byClass).map(([k, v]) => [k, arr(v)])), pooled: arr(c.pooled), samples: c.samples, ...(c.dist ? { dist: distJson(c.dist) } : {}) });
}

type ClassDistJson = { absGrid: number[]; m2: number[]; paths: (number | null)[]; weights: number[] } | null;

/** The score distribution of a stored calibration (DistTables); NaN travels as null. */
function distFromJson(d: { byClass: Record<string, ClassDistJson>; pooled: ClassDistJson }): DistTables {
  const one = (x: ClassDistJson): ClassDist | null => (x ? { absGrid: Float64Array.from(x.absGrid), m2: Float64Array.from(x.m2), paths: Float32Array.from(x.paths, (v) => (v === null ? NaN : v)), weights: Float32Array.from(x.weights) } : null);
  return { byClass: Object.fromEntries(Object.entries(d.byClass).map(([k, v]) => [k, one(v)])) as unknown as DistTables['byClass'], pooled: one(d.pooled) };
}

function distJson(d: DistTables): unknown {
  const one = (x: ClassDist | null): ClassDistJson => (x ? { absGrid: Array.from(x.absGrid), m2: Array.from(x.m2), paths: Array.from(x.paths, (v) => (Number.isNaN(v) ? null : v)), weights: Array.from(x.weights) } : null);
  return { byClass: Object.fromEntries(Object.entries(d.byClass).map(([k, v]) => [k, one(v)])), pooled: one(d.pooled) };
}

/** The calibration of `calibrationToJson`, or null when it was made for other levels or another horizon. */
export function calibrationFromJson(text: string, levels: readonly number[], horizon: number): Calibration | null {
  const c = JSON.parse(text) as { levels: number[]; horizon: number; byClass: Record<string, number[] | null>; pooled: number[] | null; samples: Record<string, number>; dist?: { byClass: Record<string, ClassDistJson>; pooled: ClassDistJson } };
  if (c.horizon !== horizon || c.levels.length !== levels.length || c.levels.some((l, i) => Math.abs(l - levels[i]) > 1e-12)) return null;
  const arr = (x: number[] | null): Float64Array | null => (x ? Float64Array.from(x) : null);
  return {
    levels: c.levels,
    horizon: c.horizon,
    byClass: Object.fromEntries(Object.entries(c.byClass).map(([k, v]) => [k, arr(v)])) as unknown as Calibration['byClass'],
    pooled: arr(c.pooled),
    samples: c.samples as Calibration['samples'],
    ...(c.dist ? { dist: distFromJson(c.dist) } : {}),
  };
}
