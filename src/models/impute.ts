/**
 * Fill unobserved periods (NaN: stock-outs, or gaps when gap filling is set to "missing") so
 * that models see demand, not lost sales. Interior runs are interpolated linearly between the
 * observed neighbours; a trailing run carries the last observation. Leading unobserved periods
 * are dropped: a series starts at its first observation.
 */
export function imputeUnobserved(y: Float64Array): Float64Array {
  let start = 0;
  while (start < y.length && Number.isNaN(y[start])) start++;
  const out = y.slice(start);
  let prev = -1;
  for (let i = 0; i < out.length; i++) {
    if (Number.isNaN(out[i])) continue;
    if (prev >= 0 && i - prev > 1) {
      const a = out[prev];
      const b = out[i];
      for (let j = prev + 1; j < i; j++) out[j] = a + ((b - a) * (j - prev)) / (i - prev);
    }
    prev = i;
  }
  if (prev >= 0) for (let j = prev + 1; j < out.length; j++) out[j] = out[prev];
  return out;
}
