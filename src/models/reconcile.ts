/**
 * Forecast reconciliation: make the forecasts of a hierarchy add up, with the least loss of
 * accuracy. MinT (Wickramasuriya, Athanasopoulos & Hyndman, JASA 2019) in its constraint form:
 *
 *   ỹ = ŷ − W Cᵀ (C W Cᵀ)⁻¹ C ŷ,
 *
 * where C ŷ = 0 says each aggregate equals the sum of its series (one row per aggregate), and W
 * is the covariance of the base forecasts' errors, shrunk towards its diagonal as Schäfer &
 * Strimmer (2005) do, with the intensity λ of the hts package (and Nixtla's hierarchicalforecast
 * `mint_shrink`): W = λ·diag(Ŵ) + (1 − λ)·Ŵ, Ŵ = EᵀE / N from N error vectors. Only an
 * (aggregates × aggregates) matrix is inverted, and Ŵ is never formed: W Cᵀ comes from E.
 * WLS is the same with W diagonal; for hierarchies too large for W Cᵀ (n × aggregates) it is
 * solved matrix-free by conjugate gradients.
 */

export interface HierarchyShape {
  /** Series in the reconciled vector: bottoms 0..bottoms−1, then the aggregates. */
  readonly n: number;
  readonly bottoms: number;
  /** Per aggregate j (vector index bottoms + j): the bottom indices it adds up. */
  readonly members: readonly Int32Array[];
}

/** The errors of every series: x [t][i] row-major (N × n), missing values filled; diag = per-series mean square. */
export interface Errors {
  readonly N: number;
  readonly n: number;
  readonly x: Float64Array;
  readonly diag: Float64Array;
  /** 1 where the series has errors of its own (its column takes part in correlations). */
  readonly measured: Uint8Array;
}

/**
 * Errors from per-series columns of N values (NaN: missing). A column with fewer than 2 values
 * contributes no correlation; its variance is `fallback(i)`. Missing values are 0 and the
 * present ones scaled by √(N / present), which keeps each series' mean square.
 */
export function errorMatrix(N: number, n: number, column: (i: number) => ArrayLike<number> | null, fallback: (i: number) => number, center = true): Errors {
  const x = new Float64Array(N * n);
  const diag = new Float64Array(n);
  const measured = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const col = column(i);
    let k = 0;
    if (col) for (let t = 0; t < N; t++) if (Number.isFinite(col[t])) k++;
    if (!col || k < 2) {
      diag[i] = Math.max(fallback(i), 1e-12);
      continue;
    }
    const f = Math.sqrt(N / k);
    // Centred (as hierarchicalforecast's mint_shrink does): a series' bias is not a covariance.
    let mean = 0;
    if (center) { for (let t = 0; t < N; t++) if (Number.isFinite(col[t])) mean += col[t]; mean /= k; }
    let ss = 0;
    for (let t = 0; t < N; t++) {
      const v = Number.isFinite(col[t]) ? (col[t] - mean) * f : 0;
      x[t * n + i] = v;
      ss += v * v;
    }
    diag[i] = ss / N;
    if (diag[i] > 0) measured[i] = 1;
    else diag[i] = Math.max(fallback(i), 1e-12);
  }
  return { N, n, x, diag, measured };
}

/** Standardised errors (unit mean square per measured column; 0 elsewhere). */
function standardised(e: Errors): Float64Array {
  const xs = new Float64Array(e.x.length);
  for (let i = 0; i < e.n; i++) {
    if (!e.measured[i]) continue;
    const s = 1 / Math.sqrt(e.diag[i]);
    for (let t = 0; t < e.N; t++) xs[t * e.n + i] = e.x[t * e.n + i] * s;
  }
  return xs;
}

/**
 * The shrinkage intensity λ (hts `shrink.estim`, target the diagonal): the summed estimated
 * variance of the off-diagonal sample correlations over their summed squares, in [0, 1].
 * Computed through the N × N Gram matrix, in O(N² n).
 */
export function shrinkageIntensity(e: Errors): number {
  const { N, n } = e;
  if (N < 2) return 1;
  const xs = standardised(e);
  // Σ_i,j Σ_t a_ti a_tj with a = xs², and its diagonal.
  let sumA2 = 0;
  let diagA = 0;
  for (let t = 0; t < N; t++) {
    let row = 0;
    for (let i = 0; i < n; i++) { const a = xs[t * n + i] ** 2; row += a; diagA += a * a; }
    sumA2 += row * row;
  }
  // ‖XsᵀXs‖²_F = ‖Xs Xsᵀ‖²_F, and the diagonal Σ_i (Σ_t xs²)².
  let gram = 0;
  for (let t = 0; t < N; t++) {
    for (let u = t; u < N; u++) {
      let g = 0;
      for (let i = 0; i < n; i++) g += xs[t * n + i] * xs[u * n + i];
      gram += (u === t ? 1 : 2) * g * g;
    }
  }
  let diagG = 0;
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let t = 0; t < N; t++) c += xs[t * n + i] ** 2;
    diagG += c * c;
  }
  const v = ((sumA2 - diagA) - (gram - diagG) / N) / (N * (N - 1));
  const d = (gram - diagG) / (N * N);
  if (!(d > 0)) return 1;
  return Math.min(1, Math.max(0, v / d));
}

/** C y: per aggregate, its value minus the sum of its series. */
function incoherence(h: HierarchyShape, y: ArrayLike<number>, out: Float64Array): void {
  h.members.forEach((m, j) => {
    let s = y[h.bottoms + j];
    for (const b of m) s -= y[b];
    out[j] = s;
  });
}

/** Cᵀ v, added into out (n). */
function addTransposed(h: HierarchyShape, v: ArrayLike<number>, out: Float64Array, sign = 1): void {
  h.members.forEach((m, j) => {
    out[h.bottoms + j] += sign * v[j];
    for (const b of m) out[b] -= sign * v[j];
  });
}

export interface Reconciler {
  /** Reconciled copy of y (length n). */
  reconcile(y: ArrayLike<number>): Float64Array;
  readonly kind: 'dense' | 'diagonal-cg';
}

/** Cholesky factor (lower, row-major) of a symmetric positive definite m × m matrix, with a small ridge if it needs one. */
function cholesky(a: Float64Array, m: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < m; i++) trace += a[i * m + i];
  for (let attempt = 0; attempt < 6; attempt++) {
    const ridge = attempt === 0 ? 0 : (trace / m) * 10 ** (attempt - 12);
    const l = new Float64Array(m * m);
    let ok = true;
    for (let i = 0; i < m && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let s = a[i * m + j] + (i === j ? ridge : 0);
        for (let k = 0; k < j; k++) s -= l[i * m + k] * l[j * m + k];
        if (i === j) {
          if (!(s > 0)) { ok = false; break; }
          l[i * m + i] = Math.sqrt(s);
        } else l[i * m + j] = s / l[j * m + j];
      }
    }
    if (ok) return l;
  }
  throw new Error('reconciliation: C W Cᵀ is not positive definite');
}

function cholSolve(l: Float64Array, m: number, b: Float64Array): Float64Array {
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) { let s = b[i]; for (let k = 0; k < i; k++) s -= l[i * m + k] * y[k]; y[i] = s / l[i * m + i]; }
  for (let i = m - 1; i >= 0; i--) { let s = y[i]; for (let k = i + 1; k < m; k++) s -= l[k * m + i] * y[k]; y[i] = s / l[i * m + i]; }
  return y;
}

/**
 * MinT with W = λ·D + (1 − λ)·EᵀE/N (λ = 1: WLS), dense: G = W Cᵀ (n × m) and the Cholesky
 * factor of C G (m × m) are built once, then each vector costs O(n·m).
 */
export function denseReconciler(h: HierarchyShape, e: Errors, lambda: number): Reconciler {
  const { n, N } = e;
  const m = h.members.length;
  const G = new Float64Array(n * m);
  const xc = new Float64Array(N);
  h.members.forEach((mem, j) => {
    const agg = h.bottoms + j;
    // λ D c_j
    G[agg * m + j] += lambda * e.diag[agg];
    for (const b of mem) G[b * m + j] -= lambda * e.diag[b];
    if (lambda >= 1) return;
    // (1 − λ)/N · Eᵀ (E c_j)
    for (let t = 0; t < N; t++) {
      let s = e.x[t * n + agg];
      for (const b of mem) s -= e.x[t * n + b];
      xc[t] = s * ((1 - lambda) / N);
    }
    for (let t = 0; t < N; t++) {
      const c = xc[t];
      if (c === 0) continue;
      const row = t * n;
      for (let i = 0; i < n; i++) G[i * m + j] += e.x[row + i] * c;
    }
  });
  const M = new Float64Array(m * m);
  h.members.forEach((mem, k) => {
    const agg = h.bottoms + k;
    for (let j = 0; j < m; j++) {
      let s = G[agg * m + j];
      for (const b of mem) s -= G[b * m + j];
      M[k * m + j] = s;
    }
  });
  // Symmetrise against rounding before factoring.
  for (let i = 0; i < m; i++) for (let j = 0; j < i; j++) { const v = (M[i * m + j] + M[j * m + i]) / 2; M[i * m + j] = v; M[j * m + i] = v; }
  const L = cholesky(M, m);
  const r = new Float64Array(m);
  return {
    kind: 'dense',
    reconcile(y) {
      incoherence(h, y, r);
      const x = cholSolve(L, m, r);
      const out = Float64Array.from(y);
      for (let i = 0; i < n; i++) {
        let s = 0;
        const row = i * m;
        for (let j = 0; j < m; j++) s += G[row + j] * x[j];
        out[i] -= s;
      }
      return out;
    },
  };
}

/** WLS (W = D) for any size: (C D Cᵀ) x = C y by Jacobi-preconditioned conjugate gradients, never a matrix. */
export function diagonalReconciler(h: HierarchyShape, diag: Float64Array): Reconciler {
  const m = h.members.length;
  const pre = new Float64Array(m);
  h.members.forEach((mem, j) => { let s = diag[h.bottoms + j]; for (const b of mem) s += diag[b]; pre[j] = 1 / s; });
  const tmp = new Float64Array(h.n);
  const apply = (v: Float64Array, out: Float64Array): void => {
    tmp.fill(0);
    addTransposed(h, v, tmp);
    for (let i = 0; i < h.n; i++) tmp[i] *= diag[i];
    incoherence(h, tmp, out);
  };
  return {
    kind: 'diagonal-cg',
    reconcile(y) {
      const b = new Float64Array(m);
      incoherence(h, y, b);
      const x = new Float64Array(m);
      const r = Float64Array.from(b);
      const z = r.map((v, j) => v * pre[j]);
      const p = Float64Array.from(z);
      const ap = new Float64Array(m);
      let rz = r.reduce((a, v, j) => a + v * z[j], 0);
      const b2 = b.reduce((a, v) => a + v * v, 0);
      for (let it = 0; it < 500 && rz > 0; it++) {
        apply(p, ap);
        const alpha = rz / p.reduce((a, v, j) => a + v * ap[j], 0);
        let rr = 0;
        for (let j = 0; j < m; j++) { x[j] += alpha * p[j]; r[j] -= alpha * ap[j]; z[j] = r[j] * pre[j]; rr += r[j] * r[j]; }
        if (rr <= 1e-24 * b2) break;
        const next = r.reduce((a, v, j) => a + v * z[j], 0);
        const beta = next / rz;
        rz = next;
        for (let j = 0; j < m; j++) p[j] = z[j] + beta * p[j];
      }
      tmp.fill(0);
      addTransposed(h, x, tmp);
      const out = Float64Array.from(y);
      for (let i = 0; i < h.n; i++) out[i] -= diag[i] * tmp[i];
      return out;
    },
  };
}

/**
 * Joint standard normal draws across the series with the shrunk correlation
 * λ·I + (1 − λ)·R̂ (R̂ from the standardised errors), in factor form:
 * z = √λ·ε + √((1 − λ)/N)·Xsᵀ η, ε ~ N(0, I_n), η ~ N(0, I_N). O(n·N) per draw.
 */
export function correlatedNormals(e: Errors, lambda: number): (normal: () => number, out: Float64Array) => void {
  const xs = standardised(e);
  const { N, n } = e;
  const a = Math.sqrt(lambda);
  const b = Math.sqrt((1 - lambda) / N);
  const eta = new Float64Array(N);
  return (normal, out) => {
    for (let t = 0; t < N; t++) eta[t] = normal();
    for (let i = 0; i < n; i++) {
      if (!e.measured[i]) { out[i] = normal(); continue; }
      let s = 0;
      for (let t = 0; t < N; t++) s += xs[t * n + i] * eta[t];
      out[i] = a * normal() + b * s;
    }
  };
}
