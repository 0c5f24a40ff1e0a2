import { DEMAND_CLASSES, type DemandClass } from '../models/classify.js';
import { normalQuantile, quantileSorted } from '../models/stats.js';

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
 */

/** Fewer pooled errors than this at a step, and the class borrows the pool of all classes. */
export const MIN_CALIBRATION_SAMPLES = 60;

export interface Calibration {
  readonly levels: readonly number[];
  readonly horizon: number;
  /** Per class: [step][level] offsets in scale units, or null when the class had too few errors. */
  readonly byClass: Readonly<Record<DemandClass, Float64Array | null>>;
  readonly pooled: Float64Array | null;
  /** Errors used per class, for the manifest. */
  readonly samples: Readonly<Record<DemandClass | 'all', number>>;
}

/** Collects scaled backtest errors as series results arrive, then computes the offsets. */
export class CalibrationBuilder {
  private readonly errors = new Map<DemandClass, number[][]>();
  private readonly all: number[][];

  constructor(private readonly horizon: number, private readonly windows: number) {
    for (const c of DEMAND_CLASSES) this.errors.set(c, Array.from({ length: horizon }, () => []));
    this.all = Array.from({ length: horizon }, () => []);
  }

  /** `residuals` is [window][step] actual − forecast (NaN where absent); `unit` per step. */
  add(cls: DemandClass, residuals: ArrayLike<number>, unit: ArrayLike<number>): void {
    const perStep = this.errors.get(cls) as number[][];
    for (let w = 0; w < this.windows; w++) {
      for (let s = 0; s < this.horizon; s++) {
        const r = residuals[w * this.horizon + s];
        if (Number.isNaN(r) || !(unit[s] > 0)) continue;
        perStep[s].push(r / unit[s]);
        this.all[s].push(r / unit[s]);
      }
    }
  }

  build(levels: readonly number[]): Calibration {
    const offsets = (perStep: number[][]): Float64Array | null => {
      if (perStep.some((xs) => xs.length < MIN_CALIBRATION_SAMPLES)) return null;
      const out = new Float64Array(this.horizon * levels.length);
      perStep.forEach((xs, s) => {
        const abs = Float64Array.from(xs, Math.abs).sort();
        levels.forEach((tau, k) => { out[s * levels.length + k] = Math.sign(tau - 0.5) * quantileSorted(abs, Math.abs(2 * tau - 1)); });
      });
      return out;
    };
    const byClass = Object.fromEntries(DEMAND_CLASSES.map((c) => [c, offsets(this.errors.get(c) as number[][])])) as Record<DemandClass, Float64Array | null>;
    const samples = Object.fromEntries([...DEMAND_CLASSES.map((c) => [c, (this.errors.get(c) as number[][])[0].length * this.horizon]), ['all', this.all[0].length * this.horizon]]) as Record<DemandClass | 'all', number>;
    return { levels, horizon: this.horizon, byClass, pooled: offsets(this.all), samples };
  }
}

/**
 * Quantile paths for one series: calibrated offsets when its class (or the pool) has them,
 * else Gaussian quantiles from the model's own spread. Non-negative and non-crossing.
 */
export function seriesQuantiles(cal: Calibration, cls: DemandClass, point: ArrayLike<number>, sd: ArrayLike<number>, unit: ArrayLike<number>): Float64Array[] {
  const { levels, horizon } = cal;
  const table = cal.byClass[cls] ?? cal.pooled;
  const z = table ? null : levels.map(normalQuantile);
  const qs = levels.map(() => new Float64Array(horizon));
  for (let s = 0; s < horizon; s++) {
    let floor = 0;
    for (let k = 0; k < levels.length; k++) {
      const offset = table ? unit[s] * table[s * levels.length + k] : (z as number[])[k] * sd[s];
      let v = point[s] + offset;
      if (!(v >= floor)) v = floor; // NaN, negative, or below the previous level
      qs[k][s] = v;
      floor = v;
    }
  }
  return qs;
}
