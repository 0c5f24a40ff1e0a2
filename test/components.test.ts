import { describe, expect, it } from 'vitest';
import { forecastSeries } from '../src/forecast/series.js';
import type { SeriesTask } from '../src/forecast/types.js';
import type { SeriesEvents } from '../src/models/events.js';
import { DEFAULT_CANDIDATES, MODEL_NAMES } from '../src/models/library.js';
import { rng } from './helpers/random.js';

// Why this forecast (issue 17): every forecast splits into additive parts that sum to it at
// every step, whichever models were combined, with calendar effects converted from factors to
// units and closed periods at 0. Here on one series per model and on a combination; the
// published components.parquet of whole runs is checked in test/workbench-api.test.ts.

const task = (over: Partial<SeriesTask> = {}): SeriesTask => ({
  horizon: 21, season: 7, seasons: [7, 365], candidates: DEFAULT_CANDIDATES, windows: 2, metric: 'mase', combine: 5, maxHistory: 1095, ...over,
});

/** 400 days with a weekly pattern, a trend and an event every 50 days that doubles sales. */
function series(): { y: Float64Array; events: SeriesEvents } {
  const r = rng(3);
  const week = [1.1, 0.9, 0.95, 1, 1.05, 1.4, 1.3];
  const n = 400;
  const t: number[] = [];
  for (let d = 20; d < n + 21; d += 50) t.push(d);
  t.push(n + 5); // an event ahead, inside the horizon
  t.sort((a, b) => a - b);
  const y = Float64Array.from({ length: n }, (_, i) => (40 + 0.02 * i) * week[i % 7] * (t.includes(i) ? 2 : 1) + 3 * (r() - 0.5));
  return { y, events: { t: Int32Array.from(t), f: new Int32Array(t.length), prior: Float64Array.of(NaN), priorWeight: 1, baselineStep: 7 } };
}

function sumOfParts(parts: readonly { values: Float64Array }[], h: number): Float64Array {
  const s = new Float64Array(h);
  for (const p of parts) for (let i = 0; i < h; i++) s[i] += p.values[i];
  return s;
}

describe('forecast components', () => {
  it('add up to the point forecast for every model on its own', () => {
    const { y } = series();
    for (const name of MODEL_NAMES) {
      const f = forecastSeries(y, task({ candidates: { smooth: [name], erratic: [name], intermittent: [name], lumpy: [name] }, combine: 1 }));
      const s = sumOfParts(f.parts ?? [], 21);
      for (let i = 0; i < 21; i++) expect(s[i], `${name} step ${i + 1}`).toBeCloseTo(f.point[i], 8);
    }
  });

  it('add up for a combination with a calendar effect and a closure, which makes every part 0', () => {
    const { y, events } = series();
    const closed = Int32Array.of(y.length + 10);
    const f = forecastSeries(y, task(), undefined, events, undefined, closed);
    expect(f.label).toMatch(/^combo\(/);
    const parts = f.parts ?? [];
    const s = sumOfParts(parts, 21);
    for (let i = 0; i < 21; i++) expect(s[i]).toBeCloseTo(f.point[i], 8);
    // The event ahead (step 6) is a part of its own, in units, about as big as the rest of that day.
    const event = parts.find((p) => p.key === 'event:0');
    expect(event).toBeDefined();
    expect(event!.values[5]).toBeGreaterThan(0.5 * (f.point[5] - event!.values[5]));
    expect(event!.values[4]).toBe(0);
    // Seasonal cycles and level/trend are parts too; the closed day is 0 in every one.
    expect(parts.map((p) => p.key)).toEqual(expect.arrayContaining(['level', 'season:7']));
    expect(f.point[10]).toBe(0);
    for (const p of parts) expect(p.values[10]).toBe(0);
    // The members' weighted forecasts add up to the combination too, and the weights to 1.
    const members = f.members ?? [];
    expect(members.length).toBeGreaterThan(1);
    expect(members.reduce((a, m) => a + m.weight, 0)).toBeCloseTo(1, 12);
    const m = sumOfParts(members, 21);
    for (let i = 0; i < 21; i++) if (i !== 10) expect(m[i]).toBeCloseTo(f.point[i], 6);
  });
});
