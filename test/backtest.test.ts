import { describe, expect, it } from 'vitest';
import { planWindows } from '../src/backtest/windows.js';
import { backtestSeries } from '../src/backtest/evaluate.js';
import { rankCandidates } from '../src/backtest/select.js';
import { CalibrationBuilder, seriesQuantiles } from '../src/backtest/conformal.js';
import { maseScale, pointScores, scaledPinball } from '../src/backtest/metrics.js';
import { forecastSeries } from '../src/forecast/series.js';
import type { SeriesTask } from '../src/forecast/types.js';
import { DEFAULT_CANDIDATES, modelByName } from '../src/models/library.js';
import { gaussian, rng } from './helpers/random.js';

const ctx = { season: 7, seasons: [7] };

describe('rolling-origin windows', () => {
  it('places K windows of h at the end, h apart', () => {
    expect(planWindows(200, 10, 3, [7]).origins).toEqual([170, 180, 190]);
  });

  it('moves windows closer rather than fit a seasonal model on less than two cycles', () => {
    // 130 weeks, 13 ahead, yearly season: origins must stay ≥ 104.
    expect(planWindows(130, 13, 3, [52]).origins).toEqual([105, 111, 117]);
  });

  it('has no window when the history is too short', () => {
    expect(planWindows(12, 13, 3, [52]).origins).toEqual([]);
  });
});

describe('metrics', () => {
  it('match the M4 definitions used by score.mjs', () => {
    const history = [10, 12, 11, 13];
    const scale = maseScale(history); // (2 + 1 + 2) / 3
    expect(scale).toBeCloseTo(5 / 3, 12);
    const s = pointScores([14, 15], [13, 17], scale, 1);
    expect(s.mase).toBeCloseTo(1.5 / scale, 12);
    expect(s.bias).toBeCloseTo(0.5 / scale, 12);
    // pinball at 0.9: under-forecast by 1 costs 0.9, over-forecast by 2 costs 0.2.
    expect(scaledPinball([14, 15], [[13, 17]], [0.9], 1)[0]).toBeCloseTo((0.9 + 0.2) / 2, 12);
  });
});

describe('selection', () => {
  const r = rng(1);
  const pattern = [20, 5, 5, 5, 5, 5, 30];
  const y = Float64Array.from({ length: 140 }, (_, i) => pattern[i % 7] + gaussian(r));
  const candidates = ['naive', 'snaive'] as const;
  const bt = backtestSeries(y, candidates.map(modelByName), ctx, 14, planWindows(140, 14, 3, [7]).origins);

  it('picks the better of two on a seasonal series', () => {
    const sel = rankCandidates(bt, 'mase', 1);
    expect(sel?.chosen).toEqual([1]);
    expect(sel!.errors[1]).toBeLessThan(sel!.errors[0]);
  });

  it('weights a combination towards the better model', () => {
    const sel = rankCandidates(bt, 'mase', 2)!;
    expect(sel.chosen).toEqual([1, 0]);
    expect(sel.weights[0]).toBeGreaterThan(0.8);
    expect(sel.weights[0] + sel.weights[1]).toBeCloseTo(1, 12);
  });
});

const task = (over: Partial<SeriesTask> = {}): SeriesTask => ({
  horizon: 14, season: 7, seasons: [7], windows: 3, metric: 'mase', combine: 3, candidates: DEFAULT_CANDIDATES, maxHistory: 1000, ...over,
});

describe('stock-outs', () => {
  it('do not drag the forecast down: unobserved periods are not zero sales', () => {
    const r = rng(2);
    const y = Float64Array.from({ length: 120 }, () => 40 + 3 * gaussian(r));
    const censored = y.slice();
    const asZero = y.slice();
    for (let i = 114; i < 120; i++) { censored[i] = NaN; asZero[i] = 0; }
    const f = forecastSeries(censored, task());
    const g = forecastSeries(asZero, task());
    const mean = (a: Float64Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    expect(Math.abs(mean(f.point) - 40)).toBeLessThan(4);
    expect(mean(g.point)).toBeLessThan(mean(f.point) - 5);
  });
});

describe('conformal intervals', () => {
  it('cover close to nominal on simulated Gaussian series', () => {
    // 200 series: level + weekly pattern + Gaussian noise of varied size. Calibrate on
    // their backtests, then check the 80% band on 14 new periods drawn from the same process.
    const r = rng(42);
    const t = task({ combine: 2, candidates: { ...DEFAULT_CANDIDATES, smooth: ['snaive', 'theta', 'stl-otm'] } });
    const cal = new CalibrationBuilder(t.horizon, t.windows);
    const runs = Array.from({ length: 200 }, () => {
      const level = 50 + 50 * r();
      const noise = 2 + 8 * r();
      const draw = (i: number): number => level + 10 * Math.sin((2 * Math.PI * i) / 7) + noise * gaussian(r);
      const y = Float64Array.from({ length: 150 }, (_, i) => draw(i));
      const future = Array.from({ length: t.horizon }, (_, s) => draw(150 + s));
      const f = forecastSeries(y, t);
      if (f.kind !== 'selected') throw new Error(`expected a backtest selection, got ${f.kind}`);
      const unit = new Float64Array(t.horizon).fill(f.sd[0]);
      cal.add(f.cls, f.residuals, unit);
      return { f, future, unit };
    });
    const c = cal.build([0.1, 0.5, 0.9]);
    let inside = 0;
    let total = 0;
    for (const { f, future, unit } of runs) {
      const [lo, mid, hi] = seriesQuantiles(c, f.cls, f.point, f.sd, unit);
      future.forEach((v, s) => {
        if (v >= lo[s] && v <= hi[s]) inside++;
        total++;
        expect(lo[s]).toBeLessThanOrEqual(mid[s]);
        expect(mid[s]).toBeLessThanOrEqual(hi[s]);
      });
    }
    expect(inside / total).toBeGreaterThan(0.75);
    expect(inside / total).toBeLessThan(0.85);
  });

  it('are non-negative and ordered even for intermittent demand', () => {
    const cal = new CalibrationBuilder(3, 1);
    for (let i = 0; i < 100; i++) cal.add('lumpy', [i % 2 ? 5 : -5, 8, -8], [1, 1, 1]);
    const c = cal.build([0.05, 0.5, 0.95]);
    const qs = seriesQuantiles(c, 'lumpy', [0.5, 0.5, 0.5], [1, 1, 1], [1, 1, 1]);
    for (let s = 0; s < 3; s++) {
      expect(qs[0][s]).toBe(0);
      expect(qs[1][s]).toBe(0.5);
      expect(qs[2][s]).toBeGreaterThan(qs[1][s]);
    }
  });
});

describe('backtest windows', () => {
  it('fit the oldest window afresh and refit the later ones', () => {
    const calls: string[] = [];
    const model = {
      name: 'spy',
      fit(y: Float64Array) {
        calls.push(`fit ${y.length}`);
        const fitted = {
          label: 'spy', params: {},
          forecast: (h: number) => ({ mean: new Float64Array(h).fill(y[y.length - 1]), sd: new Float64Array(h).fill(1) }),
          refit: (y2: Float64Array) => { calls.push(`refit ${y2.length}`); return fitted; },
        };
        return fitted;
      },
    };
    backtestSeries(Float64Array.from({ length: 100 }, (_, i) => i), [model], ctx, 10, [70, 80, 90]);
    expect(calls).toEqual(['fit 70', 'refit 80', 'refit 90']);
  });
});

describe('stored selections', () => {
  it('refit within the registered structure instead of searching again', () => {
    const r = rng(5);
    const y = Float64Array.from({ length: 140 }, (_, i) => 100 + 0.5 * i + 10 * Math.sin((2 * Math.PI * i) / 7) + 2 * gaussian(r));
    const t = task({ combine: 1 });
    const fresh = forecastSeries(y, t);
    expect(fresh.kind === 'selected' && fresh.selection.labels.length).toBeGreaterThan(0);
    const reused = forecastSeries(y, t, undefined, undefined, { models: ['ets'], weights: [1], specs: [{ structure: 'ets-ANN', params: {} }], how: 'restore' });
    expect(reused.label).toBe('ets-ANN');
    expect(reused.kind).toBe('reused'); // no backtest on a reused selection
    const decomposed = forecastSeries(y, t, undefined, undefined, { models: ['stl-ets'], weights: [1], specs: [{ structure: 'stl-ets-AAdN', params: {} }], how: 'restore' });
    expect(decomposed.label).toBe('stl-ets-AAdN');
  });
});
