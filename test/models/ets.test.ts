import { describe, expect, it } from 'vitest';
import { ets, candidateForms } from '../../src/models/ets/index.js';
import { fitEtsForm } from '../../src/models/ets/fit.js';
import { etsFilter } from '../../src/models/ets/filter.js';

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1664525 + 1013904223) % 4294967296;
    return s / 4294967296;
  };
}
const gauss = (r: () => number): number => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

describe('ETS recursions', () => {
  it('simple exponential smoothing matches the textbook update', () => {
    const y = Float64Array.from([10, 12, 11, 13]);
    const r = etsFilter(y, { error: 'A', trend: 'N', season: 'N' }, 1, { alpha: 0.5, beta: 0, gamma: 0, phi: 1, l0: 10, b0: 0, s0: new Float64Array(0) }, new Float64Array(1));
    // l = 10 → 10 → 11 → 11 → 12
    expect(r.level).toBeCloseTo(12, 12);
    expect(r.sse).toBeCloseTo(0 + 4 + 0 + 4, 12);
  });
});

describe('automatic ETS', () => {
  it('continues a linear trend', () => {
    const r = rng(1);
    const y = Float64Array.from({ length: 80 }, (_, i) => 100 + 2 * i + gauss(r) * 0.5);
    const f = ets.fit(y, { season: 1, seasons: [] });
    expect(f.label).toMatch(/^ets-.A/);
    const pf = f.forecast(10);
    expect(pf.mean[9]).toBeGreaterThan(100 + 2 * 89 - 6);
    expect(pf.mean[9]).toBeLessThan(100 + 2 * 89 + 6);
  });

  it('picks a seasonal form for a seasonal series and reproduces the pattern', () => {
    const r = rng(2);
    const pattern = [0, 10, 20, 5, -5, -15, -15];
    const y = Float64Array.from({ length: 140 }, (_, i) => 200 + pattern[i % 7] + gauss(r));
    const f = ets.fit(y, { season: 7, seasons: [7] });
    expect(f.label).toMatch(/^ets-..+[AM]$/);
    const pf = f.forecast(7);
    for (let i = 0; i < 7; i++) expect(Math.abs(pf.mean[i] - (200 + pattern[(140 + i) % 7]))).toBeLessThan(3);
  });

  it('widens intervals with the horizon for a random walk', () => {
    const r = rng(3);
    let level = 50;
    const y = Float64Array.from({ length: 120 }, () => (level += gauss(r)));
    const fit = fitEtsForm(y, { error: 'A', trend: 'N', season: 'N' }, 1);
    expect(fit).not.toBeNull();
    expect(fit!.params.alpha).toBeGreaterThan(0.7);
    const pf = ets.fit(y, { season: 1, seasons: [] }).forecast(9);
    expect(pf.sd[8]).toBeGreaterThan(pf.sd[0] * 2);
  });

  it('leaves out multiplicative forms for data with zeros', () => {
    const y = Float64Array.from({ length: 40 }, (_, i) => i % 5);
    expect(candidateForms(y, 7).every((f) => f.error === 'A' && f.season !== 'M')).toBe(true);
  });
});

describe('refit', () => {
  it('keeps the form and lands near a fresh fit of that form', () => {
    const r = rng(9);
    const pattern = [0, 10, 20, 5, -5, -15, -15];
    const y = Float64Array.from({ length: 210 }, (_, i) => 200 + 0.3 * i + pattern[i % 7] + 2 * gauss(r));
    const first = ets.fit(y.subarray(0, 150), { season: 7, seasons: [7] });
    const again = first.refit!(y, { season: 7, seasons: [7] });
    expect(again.label).toBe(first.label);
    const fresh = ets.fit(y, { season: 7, seasons: [7] });
    const a = again.forecast(7).mean;
    const b = fresh.forecast(7).mean;
    for (let i = 0; i < 7; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(4);
  });
});
