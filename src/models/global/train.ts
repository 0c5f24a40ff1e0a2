import type * as TF from '@tensorflow/tfjs';
import { EVENTS_PER_PERIOD, NETWORK_QUANTILES, weightShapes, type NetworkShape } from './layout.js';
import type { TrainingSet } from './samples.js';

/**
 * Training of the global network in TensorFlow.js: the same function as network.ts's forward
 * pass, the multi-quantile (pinball) loss of MQ-CNN weighted into MASE's units, Adam with a
 * cosine-decayed step size. Deterministic for a seed: initial weights and the order of the
 * mini-batches come from a seeded generator, and the backends used here compute in a fixed
 * order. The weights and Adam's moments live in JavaScript: the first layer's tables (store,
 * SKU, category, calendar features) are summed and their gradients scattered there, and Adam
 * runs as one fused loop; the wasm backend's `gather` has no gradient, and as tensor
 * operations the two cost more than all the matrix products of a step. The arithmetic is the
 * graph's, rounding included (see adamStep).
 */
export interface TrainSettings {
  readonly epochs: number;
  readonly batch: number;
  readonly learningRate: number;
  readonly seed: number;
}

export interface Trained {
  readonly weights: Float32Array;
  /** Mean training loss per epoch. */
  readonly losses: number[];
}

/** Glorot-uniform dense layers, small embeddings, zero pads and biases; the median starts at the level (1). */
export function initialWeights(shape: NetworkShape, random: () => number): Float32Array[] {
  return weightShapes(shape).map(([name, rows, cols]) => {
    const w = new Float32Array(rows * cols);
    if (name.startsWith('bias')) {
      if (name === 'bias3') { w[0] = 1; w[1] = -1; w[2] = -1; }
      return w;
    }
    const embedding = ['store', 'sku', 'category', 'event'].includes(name);
    const limit = embedding ? 0.05 : Math.sqrt(6 / (rows + cols));
    for (let i = 0; i < w.length; i++) w[i] = (2 * random() - 1) * limit;
    if (name === 'event') w.fill(0, 0, cols);
    return w;
  });
}

/** The tables of the first layer (one row per code or calendar feature): summed per row in JavaScript, never a tensor. */
const TABLES = ['store', 'sku', 'category', 'event'] as const;
/** The calendar features' table: several entries per row, and slot 0 is padding. */
const EVENT_TABLE = TABLES.indexOf('event');

/** A weight matrix with its Adam moments, in JavaScript; `g` its gradient of the step. */
interface Param {
  readonly name: string;
  readonly rows: number;
  readonly cols: number;
  readonly w: Float32Array;
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly g: Float32Array;
}

export function trainNetwork(tf: typeof TF, set: TrainingSet, shape: NetworkShape, settings: TrainSettings, random: () => number): Trained {
  const init = initialWeights(shape, random);
  const params: Param[] = weightShapes(shape).map(([name, rows, cols], i) => ({ name, rows, cols, w: init[i], m: new Float32Array(init[i].length), v: new Float32Array(init[i].length), g: new Float32Array(init[i].length) }));
  const byName = Object.fromEntries(params.map((p) => [p.name, p])) as Record<string, Param>;
  const tables = TABLES.map((name) => byName[name]);
  // The dense layers are variables of the graph; so is each table's rows for the batch
  // (`embedded`, one per table, added in the order the tables come: the sums round as they did
  // when the tables were gathered in the graph), whose gradient is scattered into the table.
  const layers = params.filter((p) => !(TABLES as readonly string[]).includes(p.name));
  // Made in a tidy, as every tensor whose data a variable takes: the tensor would be left behind.
  const vars = tf.tidy(() => Object.fromEntries(layers.map((p) => [p.name, tf.variable(tf.tensor2d(p.w, [p.rows, p.cols]), true, p.name)]))) as Record<string, TF.Variable>;
  const rows = set.target.length;
  const B = Math.min(settings.batch, rows);
  const H = shape.hidden1;
  const embedded = tf.tidy(() => TABLES.map((name) => tf.variable(tf.zeros([B, H]), true, `embedded-${name}`)));
  const steps = Math.max(1, Math.floor(rows / B));
  const total = steps * settings.epochs;
  const Ds = set.sharedWidth;
  const Dt = set.stepWidth;
  const batch = new Batch(set, B);
  const sums = TABLES.map(() => new Float32Array(B * H));
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const losses: number[] = [];
  let t = 0;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    shuffle(order, random);
    let sum = 0;
    for (let b = 0; b < steps; b++) {
      batch.fill(set, order.subarray(b * B, (b + 1) * B));
      const { xs, xt, y, wt } = batch;
      tables.forEach((p, k) => {
        sums[k].fill(0);
        batch.eachEntry(k, (r, slot) => addInto(sums[k], r * H, p.w, slot * H, H));
      });
      t++;
      const lr = settings.learningRate * 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / total));
      const out = tf.tidy(() => {
        embedded.forEach((e, k) => e.assign(tf.tensor2d(sums[k], [B, H])));
        const xsT = tf.tensor2d(xs, [B, Ds]);
        const xtT = tf.tensor2d(xt, [B, Dt]);
        const yT = tf.tensor1d(y);
        const wT = tf.tensor1d(wt);
        const f = (): TF.Scalar => {
          const a = embedded.reduce<TF.Tensor>((acc, e) => tf.add(acc, e), tf.add(tf.matMul(xsT, vars.shared), tf.matMul(xtT, vars.step)));
          const h1 = tf.relu(tf.add(a, vars.bias1));
          const h2 = tf.relu(tf.add(tf.matMul(h1, vars.dense2), vars.bias2));
          const z = tf.add(tf.matMul(h2, vars.out), vars.bias3);
          const [z0, z1, z2] = tf.split(z, 3, 1).map((c) => tf.reshape(c, [B]));
          const qs = [tf.sub(z0, tf.softplus(z1)), z0, tf.add(z0, tf.softplus(z2))];
          let l = tf.zeros([B]);
          NETWORK_QUANTILES.forEach((tau, k) => {
            const e = tf.sub(yT, qs[k]);
            l = tf.add(l, tf.maximum(tf.mul(tau, e), tf.mul(tau - 1, e)));
          });
          return tf.mean(tf.mul(l, wT)) as TF.Scalar;
        };
        return tf.variableGrads(f, [...Object.values(vars), ...embedded]);
      });
      // Read outside the tidy: it would walk the returned arrays element by element.
      sum += out.value.dataSync()[0];
      const grads = Object.fromEntries(Object.entries(out.grads).map(([name, g]) => [name, g.dataSync() as Float32Array]));
      tf.dispose([out.value, ...Object.values(out.grads)]);
      for (const p of layers) p.g.set(grads[p.name]);
      tables.forEach((p, k) => {
        const dE = grads[`embedded-${p.name}`];
        p.g.fill(0);
        batch.eachEntry(k, (r, slot) => addInto(p.g, slot * H, dE, r * H, H));
      });
      for (const p of params) adamStep(p, lr, t);
      tf.tidy(() => { for (const p of layers) vars[p.name].assign(tf.tensor2d(p.w, [p.rows, p.cols])); });
    }
    losses.push(sum / steps);
  }
  const weights = new Float32Array(params.reduce((a, p) => a + p.w.length, 0));
  let at = 0;
  for (const p of params) { weights.set(p.w, at); at += p.w.length; }
  for (const v of [...Object.values(vars), ...embedded]) v.dispose();
  return { weights, losses };
}

/**
 * One Adam step (β₁ 0.9, β₂ 0.999, ε 1e-7, bias-corrected) of every element, rows a batch did
 * not touch included, as the dense optimiser does. Fused in one loop (as tensor operations it
 * took a dozen passes over the SKU table per step), rounded to float32 after every operation
 * as those operations were, so a seed trains the same network bit for bit as before.
 */
function adamStep(p: Param, lr: number, t: number): void {
  const f = Math.fround;
  const b1 = f(0.9);
  const b1c = f(0.1);
  const b2 = f(0.999);
  const b2c = f(0.001);
  const eps = f(1e-7);
  const c1 = f(1 - 0.9 ** t);
  const c2 = f(1 - 0.999 ** t);
  const rate = f(lr);
  const { w, m, v, g } = p;
  for (let i = 0; i < w.length; i++) {
    const gi = g[i];
    const mi = (m[i] = f(f(b1 * m[i]) + f(b1c * gi)));
    const vi = (v[i] = f(f(b2 * v[i]) + f(b2c * f(gi * gi))));
    w[i] = f(w[i] - f(rate * f(f(mi / c1) / f(f(Math.sqrt(f(vi / c2))) + eps))));
  }
}

/** to[at..at+n) += from[from0..from0+n). */
function addInto(to: Float32Array, at: number, from: Float32Array, from0: number, n: number): void {
  for (let u = 0; u < n; u++) to[at + u] += from[from0 + u];
}

/** One mini-batch's inputs, in buffers reused from step to step. */
class Batch {
  readonly xs: Float32Array;
  readonly xt: Float32Array;
  readonly y: Float32Array;
  readonly wt: Float32Array;
  /** Per table (TABLES' order), the slot of each of the batch's entries: one per row, EVENTS_PER_PERIOD per row for the calendar features. */
  private readonly slots: Int32Array[];

  constructor(set: TrainingSet, size: number) {
    this.xs = new Float32Array(size * set.sharedWidth);
    this.xt = new Float32Array(size * set.stepWidth);
    this.y = new Float32Array(size);
    this.wt = new Float32Array(size);
    this.slots = TABLES.map((_, k) => new Int32Array(k === EVENT_TABLE ? size * EVENTS_PER_PERIOD : size));
  }

  fill(set: TrainingSet, rows: Int32Array): void {
    const Ds = set.sharedWidth;
    const Dt = set.stepWidth;
    const K = EVENTS_PER_PERIOD;
    rows.forEach((row, r) => {
      const o = set.origin[row];
      this.xs.set(set.shared.subarray(o * Ds, (o + 1) * Ds), r * Ds);
      this.xt.set(set.step.subarray(row * Dt, (row + 1) * Dt), r * Dt);
      for (let k = 0; k < 3; k++) this.slots[k][r] = set.ids[o * 3 + k];
      this.slots[EVENT_TABLE].set(set.events.subarray(row * K, (row + 1) * K), r * K);
      this.y[r] = set.target[row];
      this.wt[r] = set.weight[row];
    });
  }

  /**
   * Calls f(row, slot) for every entry of table k, in order. Not for slot 0 of the calendar
   * features, their padding, so its row stays the zero it starts as (slot 0 of the codes is the
   * unknown code, which training teaches by hiding codes now and then).
   */
  eachEntry(k: number, f: (row: number, slot: number) => void): void {
    const slots = this.slots[k];
    const events = k === EVENT_TABLE;
    const per = events ? EVENTS_PER_PERIOD : 1;
    for (let e = 0; e < slots.length; e++) {
      const slot = slots[e];
      if (events && slot === 0) continue;
      f(Math.floor(e / per), slot);
    }
  }
}

function shuffle(a: Int32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const x = a[i];
    a[i] = a[j];
    a[j] = x;
  }
}
