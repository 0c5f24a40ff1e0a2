import { describe, expect, it } from 'vitest';
import { naive, seasonalNaive } from '../../src/models/naive.js';
import { croston, crostonSba, tsb } from '../../src/models/croston.js';
import { classifyDemand } from '../../src/models/classify.js';
import { imputeUnobserved } from '../../src/models/impute.js';

describe('seasonal naive', () => {
  it('forecasts a pure seasonal series exactly', () => {
    const pattern = [5, 9, 2, 7, 7, 3, 1];
    const y = Float64Array.from({ length: 70 }, (_, i) => pattern[i % 7]);
    const f = seasonalNaive.fit(y, { season: 7, seasons: [7] }).forecast(21);
    expect(Array.from(f.mean)).toEqual(Array.from({ length: 21 }, (_, i) => pattern[(70 + i) % 7]));
    expect(Array.from(f.sd).every((s) => s === 0)).toBe(true);
  });

  it('falls back to the last value when the series is shorter than a season', () => {
    const f = seasonalNaive.fit(Float64Array.from([1, 2, 3]), { season: 7, seasons: [7] }).forecast(3);
    expect(Array.from(f.mean)).toEqual([3, 3, 3]);
  });

  it('naive widens its spread with the square root of the horizon', () => {
    const y = Float64Array.from([1, 3, 2, 4, 3, 5]);
    const f = naive.fit(y, { season: 1, seasons: [] }).forecast(4);
    expect(f.sd[3] / f.sd[0]).toBeCloseTo(2, 10);
  });
});

describe('intermittent demand', () => {
  // Croston's method by hand: alpha 0.1, demand sizes 3, 5 at intervals 2, 3.
  const y = Float64Array.from([0, 3, 0, 0, 5, 0]);

  it('Croston smooths sizes and intervals separately', () => {
    // Start z = 3, p = 2 (first demand in period 2). At the demand of 5 after 3 periods:
    // z = 3 + 0.1 (5 - 3) = 3.2, p = 2 + 0.1 (3 - 2) = 2.1 → rate 3.2 / 2.1.
    const f = croston.fit(y, { season: 1, seasons: [] }).forecast(3);
    expect(f.mean[0]).toBeCloseTo(3.2 / 2.1, 12);
    expect(f.mean[2]).toBe(f.mean[0]);
  });

  it('SBA removes Croston\'s bias with the factor 1 - alpha/2', () => {
    const f = crostonSba.fit(y, { season: 1, seasons: [] }).forecast(1);
    expect(f.mean[0]).toBeCloseTo((3.2 / 2.1) * 0.95, 12);
  });

  it('TSB decays towards zero after demand stops', () => {
    const alive = Float64Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 6 : 0));
    const dead = Float64Array.from({ length: 90 }, (_, i) => (i < 60 && i % 3 === 0 ? 6 : 0));
    const fa = tsb.fit(alive, { season: 1, seasons: [] }).forecast(1).mean[0];
    const fd = tsb.fit(dead, { season: 1, seasons: [] }).forecast(1).mean[0];
    expect(fa).toBeGreaterThan(1.5);
    expect(fd).toBeLessThan(fa / 2);
  });
});

describe('demand classification', () => {
  it('follows the ADI / CV² quadrants', () => {
    expect(classifyDemand(Float64Array.from([10, 11, 9, 10, 12, 10])).cls).toBe('smooth');
    expect(classifyDemand(Float64Array.from([1, 30, 2, 40, 1, 25])).cls).toBe('erratic');
    expect(classifyDemand(Float64Array.from([0, 0, 5, 0, 0, 5, 0, 0, 6])).cls).toBe('intermittent');
    expect(classifyDemand(Float64Array.from([0, 0, 1, 0, 0, 40, 0, 0, 2])).cls).toBe('lumpy');
  });
});

describe('imputation of unobserved periods', () => {
  it('interpolates inside, carries at the end, drops leading gaps', () => {
    const out = imputeUnobserved(Float64Array.from([NaN, 2, NaN, NaN, 8, NaN]));
    expect(Array.from(out)).toEqual([2, 4, 6, 8, 8]);
  });
});
