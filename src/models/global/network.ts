import { EVENTS_PER_PERIOD, NETWORK_QUANTILES, sharedWidth, stepWidth, weightShapes, type GlobalLayout, type NetworkShape } from './layout.js';
import type { SeriesFeatures } from './features.js';

/**
 * The trained global network as plain numbers, and its forward pass in JavaScript. Training
 * runs once per retrain in TensorFlow.js (workers/train-global.ts); forecasting runs here, in
 * every forecast worker, without TensorFlow: the network is small (two hidden layers), so a
 * plain loop is fast, and it gives the same numbers on every machine and thread count.
 *
 * First layer: the per-origin inputs, the per-step inputs, and one row of a table per store,
 * SKU, category and calendar feature of the target period (an embedding straight into the
 * hidden layer, the same as one-hot inputs). The per-origin part is computed once per origin
 * and shared by its steps. Outputs: the median and two softplus offsets, so the 10 % and 90 %
 * quantiles can never cross it.
 */
export interface GlobalNetwork {
  /** `global-<first 12 hex digits of the weights' sha256>`: the network version. */
  readonly version: string;
  readonly layout: GlobalLayout;
  readonly shape: NetworkShape;
  /** Every weight tensor of weightShapes(shape), row-major [input][unit], one after the other. */
  readonly weights: Float32Array;
}

export function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/** Offsets of each weight tensor in `weights`, by name. */
export function weightOffsets(shape: NetworkShape): Record<string, number> {
  const out: Record<string, number> = {};
  let at = 0;
  for (const [name, rows, cols] of weightShapes(shape)) { out[name] = at; at += rows * cols; }
  out.total = at;
  return out;
}

/** Runs one network over series, reusing its scratch buffers (one per worker). */
export class NetworkRunner {
  private readonly off: Record<string, number>;
  private readonly xs: Float64Array;
  private readonly xt: Float64Array;
  private readonly ev: Int32Array;
  private readonly base: Float64Array;
  private readonly h1: Float64Array;
  private readonly h2: Float64Array;
  private readonly z = new Float64Array(NETWORK_QUANTILES.length);

  constructor(readonly net: GlobalNetwork) {
    const s = net.shape;
    this.off = weightOffsets(s);
    if (this.off.total !== net.weights.length) throw new Error(`network ${net.version}: ${net.weights.length} weights, its shape needs ${this.off.total}`);
    this.xs = new Float64Array(sharedWidth(net.layout));
    this.xt = new Float64Array(stepWidth(net.layout));
    this.ev = new Int32Array(EVENTS_PER_PERIOD);
    this.base = new Float64Array(s.hidden1);
    this.h1 = new Float64Array(s.hidden1);
    this.h2 = new Float64Array(s.hidden2);
  }

  /**
   * Scaled quantiles (× level = units) for steps 1..h from origin o, into out[(s − 1) · 3 + q]
   * in the order of NETWORK_QUANTILES.
   */
  predict(f: SeriesFeatures, o: number, visibleFrom: number, level: number, fromPrior: boolean, h: number, out: Float64Array): void {
    const { weights: w, shape } = this.net;
    const H1 = shape.hidden1;
    const H2 = shape.hidden2;
    const Q = NETWORK_QUANTILES.length;
    const base = this.base;
    f.shared(o, visibleFrom, level, fromPrior, this.xs, 0);
    for (let u = 0; u < H1; u++) base[u] = w[this.off.bias1 + u];
    addRows(base, w, this.off.shared, this.xs, H1);
    addRow(base, w, this.off.store + f.input.store * H1, H1);
    addRow(base, w, this.off.sku + f.input.sku * H1, H1);
    addRow(base, w, this.off.category + f.input.category * H1, H1);
    for (let s = 1; s <= h; s++) {
      const h1 = this.h1;
      h1.set(base);
      f.step(o, s, visibleFrom, level, this.xt, 0);
      addRows(h1, w, this.off.step, this.xt, H1);
      f.stepEvents(o, s, this.ev, 0);
      for (const slot of this.ev) if (slot > 0) addRow(h1, w, this.off.event + slot * H1, H1);
      for (let u = 0; u < H1; u++) if (h1[u] < 0) h1[u] = 0;
      const h2 = this.h2;
      for (let v = 0; v < H2; v++) h2[v] = w[this.off.bias2 + v];
      for (let u = 0; u < H1; u++) {
        const a = h1[u];
        if (a === 0) continue;
        const row = this.off.dense2 + u * H2;
        for (let v = 0; v < H2; v++) h2[v] += a * w[row + v];
      }
      const z = this.z;
      for (let q = 0; q < Q; q++) z[q] = w[this.off.bias3 + q];
      for (let v = 0; v < H2; v++) {
        const a = h2[v];
        if (a <= 0) continue;
        const row = this.off.out + v * Q;
        for (let q = 0; q < Q; q++) z[q] += a * w[row + q];
      }
      const at = (s - 1) * Q;
      out[at + 1] = z[0];
      out[at] = z[0] - softplus(z[1]);
      out[at + 2] = z[0] + softplus(z[2]);
    }
  }
}

/** acc += Σ_i x[i] · W[i, :] for a row-major W at `off` (skipping zero inputs: most are). */
function addRows(acc: Float64Array, w: Float32Array, off: number, x: Float64Array, cols: number): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const row = off + i * cols;
    for (let u = 0; u < cols; u++) acc[u] += xi * w[row + u];
  }
}

function addRow(acc: Float64Array, w: Float32Array, off: number, cols: number): void {
  for (let u = 0; u < cols; u++) acc[u] += w[off + u];
}
