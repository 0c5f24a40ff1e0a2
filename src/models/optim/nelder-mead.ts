/**
 * Nelder–Mead simplex minimisation (standard coefficients: reflection 1, expansion 2,
 * contraction 0.5, shrink 0.5). Derivative-free, which suits the bounded, noisy likelihoods
 * of exponential smoothing; callers map parameters to an unbounded space first.
 */
export interface NelderMeadOptions {
  readonly maxIter?: number;
  /** Stop when the simplex's function values span less than this. */
  readonly tol?: number;
  /** Initial step along each axis. */
  readonly step?: number;
}

export interface Minimum {
  readonly x: Float64Array;
  readonly fx: number;
  readonly iterations: number;
}

export function nelderMead(f: (x: Float64Array) => number, x0: ArrayLike<number>, opts: NelderMeadOptions = {}): Minimum {
  const n = x0.length;
  const maxIter = opts.maxIter ?? 200 * n;
  const tol = opts.tol ?? 1e-8;
  const step = opts.step ?? 0.5;
  const pts: Float64Array[] = [];
  const fv = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) {
    const p = Float64Array.from(x0);
    if (i > 0) p[i - 1] += step;
    pts.push(p);
    fv[i] = safe(f(p));
  }
  const order = Array.from({ length: n + 1 }, (_, i) => i);
  const centroid = new Float64Array(n);
  const xr = new Float64Array(n);
  const xe = new Float64Array(n);
  const xc = new Float64Array(n);
  let it = 0;
  for (; it < maxIter; it++) {
    order.sort((a, b) => fv[a] - fv[b]);
    const best = order[0];
    const worst = order[n];
    const second = order[n - 1];
    if (Math.abs(fv[worst] - fv[best]) <= tol * (Math.abs(fv[best]) + tol)) break;
    centroid.fill(0);
    for (let k = 0; k < n; k++) {
      const p = pts[order[k]];
      for (let j = 0; j < n; j++) centroid[j] += p[j] / n;
    }
    const pw = pts[worst];
    for (let j = 0; j < n; j++) xr[j] = centroid[j] + (centroid[j] - pw[j]);
    const fr = safe(f(xr));
    if (fr < fv[best]) {
      for (let j = 0; j < n; j++) xe[j] = centroid[j] + 2 * (centroid[j] - pw[j]);
      const fe = safe(f(xe));
      if (fe < fr) { pw.set(xe); fv[worst] = fe; } else { pw.set(xr); fv[worst] = fr; }
      continue;
    }
    if (fr < fv[second]) { pw.set(xr); fv[worst] = fr; continue; }
    // Contract towards the better of the worst point and its reflection.
    const outside = fr < fv[worst];
    const base = outside ? xr : pw;
    for (let j = 0; j < n; j++) xc[j] = centroid[j] + 0.5 * (base[j] - centroid[j]);
    const fc = safe(f(xc));
    if (fc < (outside ? fr : fv[worst])) { pw.set(xc); fv[worst] = fc; continue; }
    const pb = pts[best];
    for (let k = 1; k <= n; k++) {
      const p = pts[order[k]];
      for (let j = 0; j < n; j++) p[j] = pb[j] + 0.5 * (p[j] - pb[j]);
      fv[order[k]] = safe(f(p));
    }
  }
  let bi = 0;
  for (let i = 1; i <= n; i++) if (fv[i] < fv[bi]) bi = i;
  return { x: pts[bi], fx: fv[bi], iterations: it };
}

const safe = (v: number): number => (Number.isFinite(v) ? v : Number.MAX_VALUE);
