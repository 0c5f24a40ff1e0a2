import type { FittedModel, Model } from './types.js';

/**
 * Intermittent-demand models: Croston (classic and the Syntetos–Boylan bias-corrected SBA)
 * and Teunter–Syntetos–Babai (TSB). Each gives a flat per-period demand rate.
 *
 * Croston smooths the non-zero demand sizes z and the intervals p between them, both with
 * the same alpha, and forecasts z/p; SBA scales that by (1 - alpha/2) to remove Croston's
 * upward bias. TSB smooths the probability of demand every period instead of the interval,
 * so the forecast decays towards zero when an item stops selling (obsolescence).
 */

function flat(label: string, params: Record<string, number>, level: number, sigma: number, alpha: number, residuals: () => Float64Array): FittedModel {
  return {
    label,
    residuals,
    params: { ...params, level, sigma },
    forecast(h) {
      const mean = new Float64Array(h).fill(level);
      const sd = new Float64Array(h);
      for (let i = 0; i < h; i++) sd[i] = sigma * Math.sqrt(1 + i * alpha * alpha);
      return { mean, sd };
    },
  };
}

/** One pass of Croston's recursions; returns the final rate and the in-sample one-step RMSE (`errors`: each one-step error, NaN up to the first demand). */
function crostonPass(y: Float64Array, alpha: number, errors?: Float64Array): { rate: number; rmse: number } {
  errors?.fill(NaN);
  let first = -1;
  for (let i = 0; i < y.length; i++) if (y[i] > 0) { first = i; break; }
  if (first < 0) return { rate: 0, rmse: 0 };
  let z = y[first];
  let p = first + 1;
  let q = 1;
  let sse = 0;
  let count = 0;
  for (let i = first + 1; i < y.length; i++) {
    const e = y[i] - z / p;
    sse += e * e;
    count++;
    if (errors) errors[i] = e;
    if (y[i] > 0) {
      z += alpha * (y[i] - z);
      p += alpha * (q - p);
      q = 1;
    } else {
      q++;
    }
  }
  return { rate: z / p, rmse: count > 0 ? Math.sqrt(sse / count) : 0 };
}

function fitCroston(y: Float64Array, variant: 'classic' | 'sba', alpha = 0.1): FittedModel {
  if (y.length === 0) throw new Error('croston: empty series');
  const { rate, rmse } = crostonPass(y, alpha);
  const level = variant === 'sba' ? rate * (1 - alpha / 2) : rate;
  // One-step errors of the forecast as published (SBA: the debiased rate).
  const residuals = (): Float64Array => {
    const e = new Float64Array(y.length);
    crostonPass(y, alpha, e);
    if (variant === 'sba') for (let i = 0; i < e.length; i++) if (Number.isFinite(e[i])) e[i] = y[i] - (y[i] - e[i]) * (1 - alpha / 2);
    return e;
  };
  return flat(variant === 'sba' ? 'croston-sba' : 'croston', { alpha }, level, rmse, alpha, residuals);
}

/** One pass of TSB at given smoothing constants (alpha: size, beta: probability): the final rate and the in-sample SSE. */
export function tsbPass(y: Float64Array, alpha: number, beta: number, errors?: Float64Array): { level: number; sse: number } {
  // Start from the whole-history averages so a short series is not dominated by its first value.
  let nz = 0;
  let sum = 0;
  for (let i = 0; i < y.length; i++) if (y[i] > 0) { nz++; sum += y[i]; }
  let prob = nz / y.length;
  let size = nz > 0 ? sum / nz : 0;
  let sse = 0;
  for (let i = 0; i < y.length; i++) {
    const e = y[i] - prob * size;
    sse += e * e;
    if (errors) errors[i] = e;
    if (y[i] > 0) {
      prob += beta * (1 - prob);
      size += alpha * (y[i] - size);
    } else {
      prob -= beta * prob;
    }
  }
  return { level: prob * size, sse };
}

const TSB_GRID = [0.02, 0.05, 0.1, 0.2, 0.3];

function fitTsb(y: Float64Array): FittedModel {
  if (y.length === 0) throw new Error('tsb: empty series');
  let best = { alpha: 0.1, beta: 0.1, level: 0, sse: Infinity };
  for (const alpha of TSB_GRID) {
    for (const beta of TSB_GRID) {
      const r = tsbPass(y, alpha, beta);
      if (r.sse < best.sse) best = { alpha, beta, ...r };
    }
  }
  const rmse = Math.sqrt(best.sse / y.length);
  const residuals = (): Float64Array => { const e = new Float64Array(y.length); tsbPass(y, best.alpha, best.beta, e); return e; };
  return flat('tsb', { alpha: best.alpha, beta: best.beta }, best.level, rmse, Math.max(best.alpha, best.beta), residuals);
}

export const croston: Model = { name: 'croston', fit: (y) => fitCroston(y, 'classic') };
export const crostonSba: Model = { name: 'croston-sba', fit: (y) => fitCroston(y, 'sba') };
export const tsb: Model = { name: 'tsb', fit: (y) => fitTsb(y) };
