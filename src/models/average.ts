import type { Model } from './types.js';

/**
 * Averaging baselines. The moving average forecasts the mean of the last `window` periods;
 * the seasonal average forecasts each position of the cycle by its mean over the last few
 * cycles, which is seasonal naive with the noise of a single year averaged out.
 */

export const movingAverage: Model = {
  name: 'ma',
  fit(y, ctx) {
    const n = y.length;
    if (n === 0) throw new Error('ma: empty series');
    const window = Math.min(n, Math.max(4, Math.round(ctx.season)));
    let s = 0;
    for (let i = n - window; i < n; i++) s += y[i];
    const level = s / window;
    // Spread: one-step errors of the same rolling mean over the history.
    let se = 0;
    let cnt = 0;
    let roll = 0;
    for (let i = 0; i < n; i++) {
      if (i >= window) { const e = y[i] - roll / window; se += e * e; cnt++; }
      roll += y[i] - (i >= window ? y[i - window] : 0);
    }
    const sigma = cnt > 0 ? Math.sqrt(se / cnt) : 0;
    return {
      label: 'ma',
      params: { window, level, sigma },
      forecast: (h) => ({ mean: new Float64Array(h).fill(level), sd: new Float64Array(h).fill(sigma * Math.sqrt(1 + 1 / window)) }),
      // The same rolling mean's one-step errors, NaN for the first window.
      residuals() {
        const e = new Float64Array(n).fill(NaN);
        let r = 0;
        for (let i = 0; i < n; i++) {
          if (i >= window) e[i] = y[i] - r / window;
          r += y[i] - (i >= window ? y[i - window] : 0);
        }
        return e;
      },
    };
  },
};

const CYCLES = 3;

export const seasonalAverage: Model = {
  name: 'smean',
  fit(y, ctx) {
    const n = y.length;
    const m = Math.max(1, Math.round(ctx.season));
    const cycles = Math.min(CYCLES, Math.floor(n / m));
    if (cycles < 1 || m < 2) throw new Error('smean: needs a full season of history');
    const phase = new Float64Array(m);
    for (let c = 1; c <= cycles; c++) for (let k = 0; k < m; k++) phase[k] += y[n - c * m + k] / cycles;
    // Spread: how far each of those cycles strayed from the average.
    let se = 0;
    for (let c = 1; c <= cycles; c++) for (let k = 0; k < m; k++) se += (y[n - c * m + k] - phase[k]) ** 2;
    const sigma = cycles > 1 ? Math.sqrt(se / (cycles * m - m)) * Math.sqrt(1 + 1 / cycles) : Math.sqrt(se / m) || 0;
    return {
      label: 'smean',
      params: { cycles, sigma },
      forecast(h) {
        const mean = new Float64Array(h);
        for (let i = 0; i < h; i++) mean[i] = phase[i % m];
        return { mean, sd: new Float64Array(h).fill(sigma) };
      },
    };
  },
};
