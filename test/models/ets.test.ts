import { describe, expect, it } from 'vitest';
import { ets, candidateForms, fitAutoEts, RULED_OUT_AICC, searchEts } from '../../src/models/ets/index.js';
import { MODEL_LIBRARY } from '../../src/models/library.js';
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

describe('reselect (the final fit after the backtest windows)', () => {
  const pattern = [0, 10, 20, 5, -5, -15, -15];
  const ctx = { season: 7, seasons: [7] };
  const seasonal = (n: number, seed: number): Float64Array => {
    const r = rng(seed);
    return Float64Array.from({ length: n }, (_, i) => 200 + 0.2 * i + pattern[i % 7] + 2 * gauss(r));
  };
  const code = (f: { error: string; trend: string; season: string }): string => `${f.error}${f.trend}${f.season}`;

  it('rules out the forms more than RULED_OUT_AICC behind the best, never the best', () => {
    const y = seasonal(150, 4);
    const s = searchEts(y, 7, candidateForms(y, 7));
    expect(s.ruledOut.has(code(s.best.form))).toBe(false);
    // A strong weekly pattern: no non-seasonal form comes near.
    for (const f of candidateForms(y, 7)) if (f.season === 'N') expect(s.ruledOut.has(code(f))).toBe(true);
    expect(RULED_OUT_AICC).toBe(10);
  });

  it('searches the longer history among the forms not ruled out: the fresh search when the winner is among them', () => {
    const y = seasonal(210, 9);
    const first = ets.fit(y.subarray(0, 150), ctx);
    const kept = candidateForms(y, 7).filter((f) => !searchEts(y.subarray(0, 150), 7, candidateForms(y.subarray(0, 150), 7)).ruledOut.has(code(f)));
    const again = first.reselect!(y, ctx);
    const restricted = fitAutoEts(y, 7, kept);
    expect(again.label).toBe(`ets-${code(restricted.form)}`);
    expect(again.params.aicc).toBe(restricted.aicc);
    const fresh = ets.fit(y, ctx);
    expect(again.label).toBe(fresh.label);
    expect(again.params).toEqual(fresh.params);
  });

  it('is carried through refits and the decomposition wrapper', () => {
    const y = seasonal(900, 5);
    const model = MODEL_LIBRARY['stl-ets'];
    const ctx2 = { season: 7, seasons: [7, 365] };
    const w1 = model.fit(y.subarray(0, 800), ctx2);
    const w2 = w1.refit!(y.subarray(0, 850), ctx2);
    expect(typeof w2.reselect).toBe('function');
    const final = w2.reselect!(y, ctx2);
    expect(final.label).toMatch(/^stl-ets-/);
    expect(final.forecast(7).mean.every(Number.isFinite)).toBe(true);
  });
});
