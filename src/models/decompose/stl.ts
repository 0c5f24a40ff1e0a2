import { loessAt, loessSmooth } from './loess.js';

/**
 * STL: Seasonal-Trend decomposition by Loess (Cleveland, Cleveland, McRae & Terpenning,
 * Journal of Official Statistics 6(1), 1990), following the published algorithm and the
 * defaults of R's stats::stl. y = trend + seasonal + remainder.
 */
export interface StlOptions {
  /** Seasonal smoother span (odd, ≥ 7); `'periodic'` forces an identical pattern each cycle. */
  readonly seasonalSpan?: number | 'periodic';
  readonly seasonalDegree?: 0 | 1;
  /** Trend smoother span; default: next odd ≥ 1.5 p / (1 - 1.5 / seasonalSpan). */
  readonly trendSpan?: number;
  readonly trendDegree?: 0 | 1;
  readonly innerIterations?: number;
  /** Robustness iterations: > 0 down-weights outliers (then inner defaults to 1). */
  readonly robustIterations?: number;
}

export interface Decomposition {
  readonly trend: Float64Array;
  readonly seasonal: Float64Array;
  readonly remainder: Float64Array;
}

const odd = (x: number): number => {
  const n = Math.ceil(x);
  return n % 2 === 0 ? n + 1 : n;
};

export function stl(y: Float64Array, period: number, opts: StlOptions = {}): Decomposition {
  const n = y.length;
  const p = Math.round(period);
  if (p < 2) throw new Error('stl: period must be at least 2');
  if (n < 2 * p) throw new Error(`stl: needs two full periods (${2 * p} observations), got ${n}`);
  const periodic = opts.seasonalSpan === 'periodic';
  const ns = periodic ? 10 * n + 1 : odd(Math.max(7, opts.seasonalSpan ?? 7));
  const sDeg: 0 | 1 = periodic ? 0 : opts.seasonalDegree ?? 0;
  const nt = odd(opts.trendSpan ?? (1.5 * p) / (1 - 1.5 / ns));
  const tDeg: 0 | 1 = opts.trendDegree ?? 1;
  const nl = odd(p);
  const robust = (opts.robustIterations ?? 0) > 0;
  const ni = opts.innerIterations ?? (robust ? 1 : 2);
  const no = opts.robustIterations ?? 0;
  const sJump = Math.ceil(ns / 10);
  const tJump = Math.ceil(nt / 10);
  const lJump = Math.ceil(nl / 10);

  const trend = new Float64Array(n);
  const seasonal = new Float64Array(n);
  const { detr, c, work1, work2, low, deseason, rw, sub, subW, subOut } = scratchFor(n, p);
  rw.fill(1);

  for (let outer = 0; outer <= no; outer++) {
    for (let inner = 0; inner < ni; inner++) {
      for (let i = 0; i < n; i++) detr[i] = y[i] - trend[i];
      // Cycle-subseries smoothing, each extended by one cycle at both ends.
      for (let k = 0; k < p; k++) {
        let m = 0;
        for (let i = k; i < n; i += p) { sub[m] = detr[i]; subW[m] = rw[i]; m++; }
        loessSmooth(sub, m, ns, sDeg, sJump, robust ? subW : null, subOut);
        const before = loessAt(sub, m, ns, sDeg, -1, robust ? subW : null);
        const after = loessAt(sub, m, ns, sDeg, m, robust ? subW : null);
        c[k] = Number.isNaN(before) ? subOut[0] : before;
        for (let j = 0; j < m; j++) c[p + k + j * p] = subOut[j];
        c[p + k + m * p] = Number.isNaN(after) ? subOut[m - 1] : after;
      }
      // Low-pass filter of the cycle-subseries: moving averages p, p, 3, then loess.
      movingAverage(c, n + 2 * p, p, work1);
      movingAverage(work1, n + p + 1, p, work2);
      movingAverage(work2, n + 2, 3, work1);
      loessSmooth(work1, n, nl, tDeg, lJump, null, low);
      for (let i = 0; i < n; i++) seasonal[i] = c[p + i] - low[i];
      for (let i = 0; i < n; i++) deseason[i] = y[i] - seasonal[i];
      loessSmooth(deseason, n, nt, tDeg, tJump, robust ? rw : null, trend);
    }
    if (outer < no) robustnessWeights(y, trend, seasonal, rw);
  }
  // The loess with a span of 10 n + 1 is nearly, not exactly, constant along each cycle-subseries:
  // like stats::stl, make the periodic component exactly periodic, the mean at each cycle position.
  if (periodic) {
    for (let k = 0; k < p; k++) {
      let sum = 0;
      let count = 0;
      for (let i = k; i < n; i += p) { sum += seasonal[i]; count++; }
      for (let i = k; i < n; i += p) seasonal[i] = sum / count;
    }
  }
  const remainder = new Float64Array(n);
  for (let i = 0; i < n; i++) remainder[i] = y[i] - trend[i] - seasonal[i];
  return { trend, seasonal, remainder };
}

/**
 * Working arrays, reused across calls with the same length and period: a worker decomposes
 * thousands of series of one length (MSTL runs STL four times each), and fresh arrays for every
 * call kept its garbage collector busy. Every array is fully written before it is read.
 */
interface Scratch {
  readonly detr: Float64Array;
  readonly c: Float64Array;
  readonly work1: Float64Array;
  readonly work2: Float64Array;
  readonly low: Float64Array;
  readonly deseason: Float64Array;
  readonly rw: Float64Array;
  readonly sub: Float64Array;
  readonly subW: Float64Array;
  readonly subOut: Float64Array;
}
const scratches = new Map<string, Scratch>();

function scratchFor(n: number, p: number): Scratch {
  const key = `${n}:${p}`;
  let s = scratches.get(key);
  if (!s) {
    if (scratches.size >= 8) scratches.clear();
    const cycles = Math.ceil(n / p) + 2;
    s = {
      detr: new Float64Array(n), c: new Float64Array(n + 2 * p), work1: new Float64Array(n + 2 * p), work2: new Float64Array(n + 2 * p),
      low: new Float64Array(n), deseason: new Float64Array(n), rw: new Float64Array(n),
      sub: new Float64Array(cycles), subW: new Float64Array(cycles), subOut: new Float64Array(cycles),
    };
    scratches.set(key, s);
  }
  return s;
}

function movingAverage(x: Float64Array, len: number, w: number, out: Float64Array): void {
  let s = 0;
  for (let i = 0; i < w; i++) s += x[i];
  out[0] = s / w;
  for (let i = 1; i <= len - w; i++) {
    s += x[i + w - 1] - x[i - 1];
    out[i] = s / w;
  }
}

function robustnessWeights(y: Float64Array, t: Float64Array, s: Float64Array, rw: Float64Array): void {
  const n = y.length;
  const r = new Float64Array(n);
  for (let i = 0; i < n; i++) r[i] = Math.abs(y[i] - t[i] - s[i]);
  const sorted = Float64Array.from(r).sort();
  const mid = n >> 1;
  const med = n % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  const h = 6 * med;
  for (let i = 0; i < n; i++) {
    const u = h > 0 ? r[i] / h : 0;
    rw[i] = u <= 0.001 ? 1 : u <= 0.999 ? (1 - u * u) ** 2 : 0;
  }
}
