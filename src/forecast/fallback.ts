import { seasonalNaive } from '../models/naive.js';
import type { OpenForecast, SeriesForecast, SeriesTask } from './types.js';
import { errorLine, finite } from './fit-chosen.js';

type Base = Pick<SeriesForecast, 'cls' | 'scale' | 'rscale'>;

/**
 * What a series gets when its chosen models fail: seasonal naive; when that fails or
 * overflows too (values near the largest double), the median of the recent observations,
 * flat, which is finite for any finite input; with nothing at all, zeros.
 */
export function fallback(obs: Float64Array, task: SeriesTask, base: Base, why: string): OpenForecast {
  const h = task.horizon;
  const common = { ...base, effects: -1 };
  let reason = why;
  try {
    const fb = seasonalNaive.fit(obs, task).forecast(h);
    if (finite(fb)) {
      const point = fb.mean.map((v) => Math.max(0, v));
      return { ...common, kind: 'fallback', reason, label: 'snaive', point, sd: fb.sd, parts: [{ key: 'level', values: Float64Array.from(point) }] };
    }
    reason += '; snaive: non-finite values';
  } catch (e) {
    reason += `; snaive: ${errorLine(e)}`;
  }
  const level = recentMedian(obs, Math.max(28, 2 * task.season));
  if (Number.isFinite(level)) {
    const point = new Float64Array(h).fill(Math.max(0, level));
    return { ...common, kind: 'fallback', reason, label: 'median', point, sd: new Float64Array(h), parts: [{ key: 'level', values: Float64Array.from(point) }] };
  }
  return zeros(base, h, reason);
}

/** Zero demand, for a series with nothing observed (or nothing finite). */
export function zeros(base: Base, h: number, reason: string): OpenForecast {
  return { ...base, effects: -1, kind: 'zero', reason, label: 'zero', point: new Float64Array(h), sd: new Float64Array(h), parts: [] };
}

function recentMedian(y: Float64Array, span: number): number {
  const xs = Array.from(y.subarray(Math.max(0, y.length - span))).sort((a, b) => a - b);
  if (xs.length === 0) return NaN;
  const m = xs.length >> 1;
  return xs.length % 2 ? xs[m] : xs[m - 1] / 2 + xs[m] / 2;
}
