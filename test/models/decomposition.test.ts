import { describe, expect, it } from 'vitest';
import { stl } from '../../src/models/decompose/stl.js';
import { mstl } from '../../src/models/decompose/mstl.js';
import { hasSeasonality, multiplicativeIndices } from '../../src/models/decompose/classical.js';
import { fitClassicTheta, fitTheta } from '../../src/models/theta.js';
import { MODEL_LIBRARY } from '../../src/models/library.js';
import { adida, imapa, aggregate } from '../../src/models/adida.js';
import { gaussian, rng } from '../helpers/random.js';

const ctx = (season: number) => ({ season, seasons: [season] });

describe('STL', () => {
  it('recovers a seasonal pattern and a trend, and the parts add up', () => {
    const r = rng(7);
    const pattern = [10, -4, 6, -8, 2, -9, 3];
    const y = Float64Array.from({ length: 140 }, (_, i) => 50 + 0.2 * i + pattern[i % 7] + 0.3 * gaussian(r));
    const d = stl(y, 7);
    for (let i = 0; i < y.length; i++) expect(d.trend[i] + d.seasonal[i] + d.remainder[i]).toBeCloseTo(y[i], 9);
    for (let i = 70; i < 77; i++) expect(Math.abs(d.seasonal[i] - pattern[i % 7])).toBeLessThan(0.6);
    expect(Math.abs(d.trend[100] - (50 + 0.2 * 100))).toBeLessThan(1);
  });

  it('MSTL separates a weekly and a yearly-like cycle', () => {
    const y = Float64Array.from({ length: 400 }, (_, i) => 100 + 5 * Math.sin((2 * Math.PI * i) / 7) + 20 * Math.sin((2 * Math.PI * i) / 50));
    const d = mstl(y, [7, 50]);
    expect(d.periods).toEqual([7, 50]);
    let err = 0;
    for (let i = 100; i < 300; i++) err += Math.abs(d.seasonals[1][i] - 20 * Math.sin((2 * Math.PI * i) / 50));
    expect(err / 200).toBeLessThan(1.5);
  });

  it('drops periods without two full cycles, as R\'s mstl does', () => {
    expect(mstl(new Float64Array(100).fill(1), [7, 365]).periods).toEqual([7]);
  });
});

describe('classical multiplicative decomposition', () => {
  it('finds indices that average 1 and the ACF test sees the season', () => {
    const y = Float64Array.from({ length: 48 }, (_, i) => (100 + i) * [0.8, 1.0, 1.2, 1.0][i % 4]);
    const idx = multiplicativeIndices(y, 4);
    expect(idx.reduce((a, b) => a + b, 0) / 4).toBeCloseTo(1, 12);
    expect(idx[2]).toBeCloseTo(1.2, 1);
    expect(hasSeasonality(y, 4)).toBe(true);
    const r = rng(3);
    expect(hasSeasonality(Float64Array.from({ length: 48 }, () => 100 + gaussian(r)), 4)).toBe(false);
  });
});

describe('Theta', () => {
  it('classic Theta forecasts a constant series as that constant', () => {
    const f = fitClassicTheta(new Float64Array(30).fill(12)).forecast(5);
    for (const v of f.mean) expect(v).toBeCloseTo(12, 6);
  });

  it('classic Theta carries half the regression slope as drift (Hyndman & Billah 2003)', () => {
    const r = rng(11);
    const y = Float64Array.from({ length: 200 }, (_, i) => 10 + 0.5 * i + gaussian(r));
    const f = fitClassicTheta(y);
    expect(f.params.drift).toBeCloseTo(0.25, 1);
    const pf = f.forecast(10);
    expect(pf.mean[9] - pf.mean[0]).toBeCloseTo(9 * f.params.drift, 9);
  });

  it('optimised Theta follows a trend at least as well as the classic one', () => {
    const r = rng(5);
    const y = Float64Array.from({ length: 120 }, (_, i) => 100 + 1.5 * i + 2 * gaussian(r));
    const truth = Array.from({ length: 12 }, (_, i) => 100 + 1.5 * (120 + i));
    const mae = (m: Float64Array): number => m.reduce((a, v, i) => a + Math.abs(v - truth[i]), 0) / 12;
    expect(mae(fitTheta(y).forecast(12).mean)).toBeLessThanOrEqual(mae(fitClassicTheta(y).forecast(12).mean) + 0.5);
    expect(fitTheta(y).params.theta).toBeGreaterThan(1.5);
  });

  it('thetaf takes a multiplicative season out and puts it back', () => {
    const pattern = [0.7, 1.3, 1.1, 0.9];
    const y = Float64Array.from({ length: 64 }, (_, i) => (200 + 2 * i) * pattern[i % 4]);
    const f = MODEL_LIBRARY.thetaf.fit(y, ctx(4));
    expect(f.label).toBe('mult-theta');
    const pf = f.forecast(4);
    for (let i = 0; i < 4; i++) expect(Math.abs(pf.mean[i] / ((200 + 2 * (64 + i)) * pattern[(64 + i) % 4]) - 1)).toBeLessThan(0.05);
  });

  it('stl-ets falls back to plain ETS, and says so, when the series is too short for its season', () => {
    const f = MODEL_LIBRARY['stl-ets'].fit(Float64Array.from({ length: 20 }, (_, i) => 5 + (i % 3)), ctx(52));
    expect(f.label).toMatch(/^ets-/);
  });
});

describe('ADIDA and IMAPA', () => {
  it('aggregates into buckets that end at the last period', () => {
    expect(Array.from(aggregate(Float64Array.from([1, 2, 3, 4, 5, 6, 7]), 3))).toEqual([9, 18]);
  });

  it('forecast the demand rate of a regular intermittent series', () => {
    const y = Float64Array.from({ length: 60 }, (_, i) => (i % 3 === 2 ? 6 : 0));
    expect(adida.fit(y, ctx(1)).forecast(3).mean[0]).toBeCloseTo(2, 6);
    expect(imapa.fit(y, ctx(1)).forecast(3).mean[0]).toBeGreaterThan(1.5);
    expect(imapa.fit(y, ctx(1)).forecast(3).mean[0]).toBeLessThan(2.5);
  });
});
