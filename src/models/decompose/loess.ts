/**
 * Local regression (loess) over an evenly spaced series with weights, as STL uses it
 * (Cleveland et al. 1990, "STL: A Seasonal-Trend Decomposition Procedure Based on Loess").
 * Tricube neighbourhood weights, degree 0 or 1, optional robustness weights. Evaluates at
 * every `jump`-th point and interpolates linearly in between, as the reference Fortran does.
 */

/**
 * Tricube weights by distance 0..h for a window half-width h: what the formula gives at each
 * point, looked up rather than recomputed (a division and six multiplications) at every point
 * of every window. STL evaluates thousands of windows per series, and every position and
 * distance is an integer, so the windows of all series of one length share a few hundred
 * tables (a few MB at most: cleared when that is passed).
 */
const tricubes = new Map<number, Float64Array>();
let tricubeCells = 0;
// Consecutive windows mostly share their half-width: the last table, without a map lookup.
let lastTricube: Float64Array = new Float64Array(1).fill(1);

function tricube(h: number): Float64Array {
  if (lastTricube.length === h + 1) return lastTricube;
  let t = tricubes.get(h);
  if (t) return (lastTricube = t);
  t = new Float64Array(h + 1);
  const h9 = 0.999 * h;
  const h1 = 0.001 * h;
  for (let d = 0; d <= h; d++) {
    if (d <= h1) t[d] = 1;
    else if (d <= h9) {
      const r = d / h;
      const c = 1 - r * r * r;
      t[d] = c * c * c;
    }
  }
  if (tricubeCells > 1 << 19) { tricubes.clear(); tricubeCells = 0; }
  tricubes.set(h, t);
  tricubeCells += h + 1;
  return (lastTricube = t);
}

/** Loess estimate at the integer position `x` (may lie outside 0..n-1) from y[0..n), or NaN if all weights vanish. */
export function loessAt(y: ArrayLike<number>, n: number, span: number, degree: 0 | 1, x: number, rw: ArrayLike<number> | null): number {
  const q = Math.min(span, n);
  // The q nearest points to x form a window [lo, hi] of consecutive indices.
  let lo = Math.round(x) - ((q - 1) >> 1);
  lo = Math.max(0, Math.min(lo, n - q));
  const hi = lo + q - 1;
  let h = Math.max(x - lo, hi - x);
  if (span > n) h += Math.floor((span - n) / 2);
  const weight = tricube(h);
  let sw = 0;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (let j = lo; j <= hi; j++) {
    let w = weight[Math.abs(j - x)];
    if (rw) w *= rw[j];
    if (w <= 0) continue;
    sw += w;
    sx += w * j;
    sy += w * y[j];
    if (degree === 1) {
      sxx += w * j * j;
      sxy += w * j * y[j];
    }
  }
  if (sw <= 0) return NaN;
  const my = sy / sw;
  if (degree === 0) return my;
  const mx = sx / sw;
  const vxx = sxx / sw - mx * mx;
  // The reference Fortran (stlest) keeps degree 1 only where the weighted spread of the window
  // exceeds 0.001 (n - 1), n the length of the series smoothed: on a long series a short window
  // (STL's low-pass smoother for a weekly cycle in daily data beyond ~1150 days) is a local mean.
  if (!(h > 0) || Math.sqrt(Math.max(0, vxx)) <= 0.001 * (n - 1)) return my;
  const slope = (sxy / sw - mx * my) / vxx;
  return my + slope * (x - mx);
}

/** Smooth y[0..n) into out[0..n) with loess, evaluated every `jump` points. */
export function loessSmooth(y: ArrayLike<number>, n: number, span: number, degree: 0 | 1, jump: number, rw: ArrayLike<number> | null, out: Float64Array): void {
  if (n <= 0) return;
  const step = Math.max(1, Math.min(jump, n - 1));
  let prev = -1;
  for (let i = 0; i < n; i += step) {
    out[i] = loessAt(y, n, span, degree, i, rw);
    // No weight in the window (robustness weights all zero there): the data value, as stl.f.
    if (Number.isNaN(out[i])) out[i] = y[i];
    if (prev >= 0) interpolate(out, prev, i);
    prev = i;
  }
  if (prev !== n - 1) {
    out[n - 1] = loessAt(y, n, span, degree, n - 1, rw);
    if (Number.isNaN(out[n - 1])) out[n - 1] = y[n - 1];
    interpolate(out, prev, n - 1);
  }
}

function interpolate(out: Float64Array, a: number, b: number): void {
  const d = b - a;
  for (let k = a + 1; k < b; k++) out[k] = out[a] + ((out[b] - out[a]) * (k - a)) / d;
}
