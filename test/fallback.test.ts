import { describe, expect, it } from 'vitest';
import { forecastBatch } from '../src/forecast/batch.js';
import { forecastSeries, type ModelChooser } from '../src/forecast/series.js';
import type { Model } from '../src/models/types.js';

const task = { horizon: 7, season: 7, levels: [0.1, 0.5, 0.9] };
const weekly = Float64Array.from({ length: 35 }, (_, i) => [3, 5, 8, 5, 4, 9, 12][i % 7]);

const throwing: Model = { name: 'broken', fit: () => { throw new Error('singular matrix'); } };
const nonFinite: Model = {
  name: 'overflow',
  fit: () => ({ label: 'overflow', params: {}, forecast: (h) => ({ mean: new Float64Array(h).fill(Infinity), sd: new Float64Array(h) }) }),
};

describe('fallback', () => {
  it('replaces a model that throws with seasonal naive and says why', () => {
    const f = forecastSeries(weekly, task, () => throwing);
    expect(f.label).toBe('snaive');
    expect(f.fallback).toBe('singular matrix');
    expect(Array.from(f.point)).toEqual([3, 5, 8, 5, 4, 9, 12]);
  });

  it('replaces a model that returns non-finite numbers', () => {
    const f = forecastSeries(weekly, task, () => nonFinite);
    expect(f.label).toBe('snaive');
    expect(f.fallback).toBe('overflow produced non-finite values');
  });

  it('keeps the rest of the batch on its own models', () => {
    const choose: ModelChooser = (_p, n) => (n === 35 ? throwing : ({ name: 'ok', fit: (y) => ({ label: 'ok', params: {}, forecast: (h) => ({ mean: new Float64Array(h).fill(y[0]), sd: new Float64Array(h).fill(1) }) }) } as Model));
    const values = Float64Array.from([...weekly, ...weekly.slice(0, 28)]);
    const res = forecastBatch({ batch: { index: 0, offsets: Int32Array.from([0, 35, 63]), values }, task }, choose);
    expect(res.failures).toEqual([{ series: 0, reason: 'singular matrix' }]);
    expect(res.labels[res.labelIds[0]]).toBe('snaive');
    expect(res.labels[res.labelIds[1]]).toBe('ok');
  });
});
