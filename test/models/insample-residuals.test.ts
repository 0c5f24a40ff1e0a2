import { describe, expect, it } from 'vitest';
import { forecastBatch } from '../../src/forecast/batch.js';
import type { ModelResolver, SeriesTask } from '../../src/forecast/types.js';
import { MODEL_LIBRARY, modelByName, type ModelName } from '../../src/models/library.js';
import { etsFilter } from '../../src/models/ets/filter.js';
import type { FitContext, FittedModel } from '../../src/models/types.js';
import { gaussian, rng } from '../helpers/random.js';

// One-step in-sample errors (FittedModel.residuals), what MinT's W is estimated from (issue 18).

const r = rng(3);
const m = 12;
const y = Float64Array.from({ length: 60 }, (_, t) => 50 + 0.3 * t + 8 * Math.sin((2 * Math.PI * t) / m) + 3 * gaussian(r));
const ctx: FitContext = { season: m, seasons: [m] };

describe('one-step in-sample errors', () => {
  it('are y_t minus the one-step forecast: ETS the filter\'s errors, seasonal naive y_t − y_{t−m}', () => {
    const fitted = MODEL_LIBRARY.ets.fit(y, ctx);
    const e = fitted.residuals?.();
    expect(e?.length).toBe(y.length);
    const sn = MODEL_LIBRARY.snaive.fit(y, ctx).residuals?.();
    expect(Number.isNaN(sn![m - 1])).toBe(true);
    expect(sn![m]).toBeCloseTo(y[m] - y[0], 12);
    expect(sn![59]).toBeCloseTo(y[59] - y[47], 12);
  });

  it('ETS: the sum of squares is the filter\'s SSE at the fitted parameters', () => {
    const fitted = MODEL_LIBRARY.ets.fit(y, { season: 1, seasons: [] });
    const p = fitted.params;
    const form = { error: 'A', trend: fitted.label.slice(5, -1) as 'N' | 'A' | 'Ad', season: 'N' } as const;
    const e = fitted.residuals!();
    const f = etsFilter(y, form, 1, { alpha: p.alpha, beta: p.beta, gamma: p.gamma, phi: p.phi, l0: p.l0, b0: p.b0, s0: new Float64Array(0) }, new Float64Array(1));
    expect(e.reduce((a, v) => a + v * v, 0)).toBeCloseTo(f.sse, 6);
  });

  it('every model of the defaults has them, wrappers on the history\'s scale, except the aggregating ones', () => {
    for (const name of ['naive', 'snaive', 'ma', 'ets', 'theta', 'otm', 'stl-ets', 'stl-theta', 'stl-otm', 'thetaf', 'croston', 'croston-sba', 'tsb'] as ModelName[]) {
      const e = modelByName(name).fit(y, ctx).residuals?.();
      expect(e?.length, name).toBe(y.length);
      const tail = Array.from(e!.subarray(30));
      expect(tail.every(Number.isFinite), name).toBe(true);
      // One-step errors of a sensible model are of the noise's size (sd 3), not of the level's (50).
      const rms = Math.sqrt(tail.reduce((a, v) => a + v * v, 0) / tail.length);
      expect(rms, name).toBeLessThan(15);
    }
    for (const name of ['adida', 'imapa', 'smean'] as ModelName[]) expect(modelByName(name).fit(y, ctx).residuals, name).toBeUndefined();
  });

  it('thetaf: the base model\'s errors brought back to the history\'s scale, not the deseasonalised one\'s', () => {
    const positive = y.map((v) => v + 20);
    const e = MODEL_LIBRARY.thetaf.fit(positive, ctx).residuals!();
    const plain = MODEL_LIBRARY.theta.fit(positive, ctx).residuals!();
    expect(e.length).toBe(positive.length);
    expect(Array.from(e)).not.toEqual(Array.from(plain));
    // Same size as the plain model's on the same history (indices near 1), not 1/index off.
    const rms = (a: Float64Array) => Math.sqrt(a.subarray(13).reduce((s, v) => s + v * v, 0) / (a.length - 13));
    expect(rms(e) / rms(plain)).toBeGreaterThan(0.3);
    expect(rms(e) / rms(plain)).toBeLessThan(3);
  });
});

describe('BatchResult.insample', () => {
  const task: SeriesTask = { horizon: 4, season: m, seasons: [m], windows: 2, metric: 'mase', combine: 2, maxHistory: 1000, candidates: { smooth: ['ets', 'snaive'], erratic: ['ets', 'snaive'], intermittent: ['tsb'], lumpy: ['tsb'] }, insample: 40 };
  const short = y.subarray(0, 30);
  const values = new Float64Array(y.length + short.length);
  values.set(y);
  values.set(short, y.length);
  const batch = { index: 0, offsets: Int32Array.of(0, y.length, y.length + short.length), values };

  it('holds the last N periods of the selection\'s one-step errors, a combination\'s weighted, aligned to the end', () => {
    const res = forecastBatch({ batch, task });
    expect(res.insample?.length).toBe(2 * 40);
    const sel = JSON.parse(res.selections[0]) as { models: ModelName[]; weights: number[] };
    expect(sel.models.length).toBe(2);
    // The weighted members' errors, refitted here on the same history.
    const expected = new Float64Array(40);
    sel.models.forEach((name, k) => {
      const e = modelByName(name).fit(y, task).residuals!();
      for (let t = 0; t < 40; t++) expected[t] += sel.weights[k] * e[y.length - 40 + t];
    });
    // ETS's final fit searches its forms as the library's fit does; allow for its reselect.
    for (let t = 0; t < 40; t++) expect(res.insample![t]).toBeCloseTo(expected[t], 4);
    // A series shorter than N: NaN before its first period.
    expect(Number.isNaN(res.insample![40 + 9])).toBe(true);
    expect(Number.isFinite(res.insample![40 + 39])).toBe(true);
  });

  it('is absent unless the task asks for it', () => {
    const { insample: _, ...plain } = task;
    expect(forecastBatch({ batch, task: plain }).insample).toBeUndefined();
  });

  it('takes seasonal naive\'s errors for a member without its own', () => {
    // The model's fits, and the fits they refit or reselect, without their residuals.
    const strip = (f: FittedModel): FittedModel => {
      const { residuals: _r, refit, reselect, ...rest } = f;
      return { ...rest, ...(refit ? { refit: (v, c) => strip(refit(v, c)) } : {}), ...(reselect ? { reselect: (v, c) => strip(reselect(v, c)) } : {}) };
    };
    const noResiduals: ModelResolver = (name) => {
      const base = modelByName(name);
      return { name: base.name, fit: (v, c) => strip(base.fit(v, c)) };
    };
    const res = forecastBatch({ batch, task: { ...task, combine: 1, candidates: { ...task.candidates, smooth: ['ets'], erratic: ['ets'] } } }, noResiduals);
    expect(res.insample![39]).toBeCloseTo(y[59] - y[47], 10);
  });
});
