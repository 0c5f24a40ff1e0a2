import { describe, expect, it } from 'vitest';
import { forecastBatch } from '../src/forecast/batch.js';
import { forecastSeries } from '../src/forecast/series.js';
import type { ModelResolver, SeriesTask } from '../src/forecast/types.js';
import { modelByName } from '../src/models/library.js';
import type { Model } from '../src/models/types.js';

const task: SeriesTask = {
  horizon: 7,
  season: 7,
  seasons: [7],
  windows: 2,
  metric: 'mase',
  combine: 1,
  maxHistory: 1000,
  candidates: { smooth: ['ets'], erratic: ['ets'], intermittent: ['tsb'], lumpy: ['tsb'] },
};
const weekly = Float64Array.from({ length: 35 }, (_, i) => [3, 5, 8, 5, 4, 9, 12][i % 7]);

const throwing: Model = { name: 'broken', fit: () => { throw new Error('singular matrix'); } };
const nonFinite: Model = {
  name: 'overflow',
  fit: () => ({ label: 'overflow', params: {}, forecast: (h) => ({ mean: new Float64Array(h).fill(Infinity), sd: new Float64Array(h) }) }),
};
/** Every model resolves to `m`, except seasonal naive, the fallback. */
const only = (m: Model): ModelResolver => (name) => (name === 'snaive' ? modelByName('snaive') : m);

describe('fallback', () => {
  it('replaces a model that throws with seasonal naive and says why', () => {
    const f = forecastSeries(weekly, task, only(throwing));
    expect(f.label).toBe('snaive');
    expect(f.kind === 'fallback' && f.reason).toBe('ets: singular matrix');
    expect(Array.from(f.point)).toEqual([3, 5, 8, 5, 4, 9, 12]);
  });

  it('replaces a model that returns non-finite numbers', () => {
    const f = forecastSeries(weekly, task, only(nonFinite));
    expect(f.label).toBe('snaive');
    expect(f.kind === 'fallback' && f.reason).toBe('overflow produced non-finite values');
  });

  it('keeps the rest of the batch on its own models', () => {
    // A model that chokes on one series (the one holding 999) and fits the others.
    const picky: Model = { name: 'picky', fit: (y, ctx) => { if (y.includes(999)) throw new Error('cannot fit'); return modelByName('ets').fit(y, ctx); } };
    const flaky: ModelResolver = (name) => (name === 'snaive' ? modelByName('snaive') : picky);
    const values = Float64Array.from([...weekly, ...weekly.slice(0, 28)]);
    values[3] = 999;
    const res = forecastBatch({ batch: { index: 0, offsets: Int32Array.from([0, 35, 63]), values }, task }, flaky);
    expect(res.failures.map((f) => f.series)).toEqual([0]);
    expect(res.failures[0].reason).toBe('ets: cannot fit');
    expect(res.labels[res.labelIds[0]]).toBe('snaive');
    expect(res.labels[res.labelIds[1]]).toMatch(/^ets-/);
  });
});
