/**
 * Classical multiplicative decomposition (R's stats::decompose): a centred moving average of
 * one period as trend, and the mean ratio of data to trend at each position of the cycle as
 * the seasonal index, normalised to average 1.
 */
export function multiplicativeIndices(y: Float64Array, m: number): Float64Array {
  const n = y.length;
  const half = Math.floor(m / 2);
  const sum = new Float64Array(m);
  const count = new Float64Array(m);
  for (let i = half; i < n - half; i++) {
    let s: number;
    if (m % 2 === 0) {
      s = 0.5 * y[i - half] + 0.5 * y[i + half];
      for (let j = i - half + 1; j < i + half; j++) s += y[j];
    } else {
      s = 0;
      for (let j = i - half; j <= i + half; j++) s += y[j];
    }
    const trend = s / m;
    if (trend > 0) { sum[i % m] += y[i] / trend; count[i % m]++; }
  }
  const idx = new Float64Array(m);
  let mean = 0;
  for (let k = 0; k < m; k++) { idx[k] = count[k] > 0 ? sum[k] / count[k] : 1; mean += idx[k] / m; }
  for (let k = 0; k < m; k++) idx[k] /= mean;
  return idx;
}

/**
 * Is there seasonality at lag m? The test R's thetaf and the M4 Naive2 benchmark use: the
 * lag-m autocorrelation exceeds its 90% bound 1.645 · sqrt((1 + 2 Σ_{k<m} r_k²) / n).
 */
export function hasSeasonality(y: Float64Array, m: number): boolean {
  const n = y.length;
  if (m < 2 || n < 2 * m) return false;
  let mu = 0;
  for (let i = 0; i < n; i++) mu += y[i];
  mu /= n;
  let denom = 0;
  for (let i = 0; i < n; i++) denom += (y[i] - mu) ** 2;
  if (denom <= 0) return false;
  const acf = (k: number): number => {
    let s = 0;
    for (let i = k; i < n; i++) s += (y[i] - mu) * (y[i - k] - mu);
    return s / denom;
  };
  let ss = 0;
  for (let k = 1; k < m; k++) ss += acf(k) ** 2;
  return Math.abs(acf(m)) > 1.645 * Math.sqrt((1 + 2 * ss) / n);
}
