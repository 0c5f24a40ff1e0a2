import type * as TF from '@tensorflow/tfjs';
import { EVENTS_PER_PERIOD, NETWORK_QUANTILES, weightShapes, type NetworkShape } from './layout.js';
import type { TrainingSet } from './samples.js';

/**
 * Training of the global network in TensorFlow.js: the same function as network.ts's forward
 * pass, the multi-quantile (pinball) loss of MQ-CNN weighted into MASE's units, Adam with a
 * cosine-decayed step size. Deterministic for a seed: initial weights and the order of the
 * mini-batches come from a seeded generator, and the backends used here compute in a fixed
 * order. The embedding tables are read with `gather`, whose gradient the wasm backend lacks;
 * `embeddingBag` adds it (a scatter-add in JavaScript over the few rows a batch touches).
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

export function trainNetwork(tf: typeof TF, set: TrainingSet, shape: NetworkShape, settings: TrainSettings, random: () => number): Trained {
  const shapes = weightShapes(shape);
  const vars = initialWeights(shape, random).map((w, i) => tf.variable(tf.tensor2d(w, [shapes[i][1], shapes[i][2]]), true, shapes[i][0]));
  const byName = Object.fromEntries(shapes.map(([name], i) => [name, vars[i]])) as Record<string, TF.Variable>;
  const rows = set.target.length;
  const B = Math.min(settings.batch, rows);
  const steps = Math.max(1, Math.floor(rows / B));
  const total = steps * settings.epochs;
  const adam = vars.map((v) => ({ m: tf.variable(tf.zerosLike(v), false), v: tf.variable(tf.zerosLike(v), false) }));
  const Ds = set.sharedWidth;
  const Dt = set.stepWidth;
  const K = EVENTS_PER_PERIOD;
  const xs = new Float32Array(B * Ds);
  const xt = new Float32Array(B * Dt);
  const ids = [new Int32Array(B), new Int32Array(B), new Int32Array(B)];
  const ev = new Int32Array(B * K);
  const y = new Float32Array(B);
  const wt = new Float32Array(B);
  const order = Int32Array.from({ length: rows }, (_, i) => i);
  const losses: number[] = [];
  let t = 0;
  for (let epoch = 0; epoch < settings.epochs; epoch++) {
    shuffle(order, random);
    let sum = 0;
    for (let b = 0; b < steps; b++) {
      for (let r = 0; r < B; r++) {
        const row = order[b * B + r];
        const o = set.origin[row];
        xs.set(set.shared.subarray(o * Ds, (o + 1) * Ds), r * Ds);
        xt.set(set.step.subarray(row * Dt, (row + 1) * Dt), r * Dt);
        for (let k = 0; k < 3; k++) ids[k][r] = set.ids[o * 3 + k];
        ev.set(set.events.subarray(row * K, (row + 1) * K), r * K);
        y[r] = set.target[row];
        wt[r] = set.weight[row];
      }
      t++;
      const lr = settings.learningRate * 0.5 * (1 + Math.cos((Math.PI * (t - 1)) / total));
      const loss = tf.tidy(() => {
        const xsT = tf.tensor2d(xs, [B, Ds]);
        const xtT = tf.tensor2d(xt, [B, Dt]);
        const yT = tf.tensor1d(y);
        const wT = tf.tensor1d(wt);
        const f = (): TF.Scalar => {
          let a = tf.add(tf.matMul(xsT, byName.shared), tf.matMul(xtT, byName.step));
          a = tf.add(a, embeddingBag(tf, byName.store, ids[0], 1, false));
          a = tf.add(a, embeddingBag(tf, byName.sku, ids[1], 1, false));
          a = tf.add(a, embeddingBag(tf, byName.category, ids[2], 1, false));
          a = tf.add(a, embeddingBag(tf, byName.event, ev, K, true));
          const h1 = tf.relu(tf.add(a, byName.bias1));
          const h2 = tf.relu(tf.add(tf.matMul(h1, byName.dense2), byName.bias2));
          const z = tf.add(tf.matMul(h2, byName.out), byName.bias3);
          const [z0, z1, z2] = tf.split(z, 3, 1).map((c) => tf.reshape(c, [B]));
          const qs = [tf.sub(z0, tf.softplus(z1)), z0, tf.add(z0, tf.softplus(z2))];
          let l = tf.zeros([B]);
          NETWORK_QUANTILES.forEach((tau, k) => {
            const e = tf.sub(yT, qs[k]);
            l = tf.add(l, tf.maximum(tf.mul(tau, e), tf.mul(tau - 1, e)));
          });
          return tf.mean(tf.mul(l, wT)) as TF.Scalar;
        };
        const { value, grads } = tf.variableGrads(f, vars);
        vars.forEach((v, i) => {
          const g = grads[v.name];
          const st = adam[i];
          st.m.assign(tf.add(tf.mul(0.9, st.m), tf.mul(0.1, g)));
          st.v.assign(tf.add(tf.mul(0.999, st.v), tf.mul(0.001, tf.square(g))));
          const mHat = tf.div(st.m, 1 - 0.9 ** t);
          const vHat = tf.div(st.v, 1 - 0.999 ** t);
          v.assign(tf.sub(v, tf.mul(lr, tf.div(mHat, tf.add(tf.sqrt(vHat), 1e-7)))));
        });
        return value;
      });
      sum += loss.dataSync()[0];
      loss.dispose();
    }
    losses.push(sum / steps);
  }
  const parts = vars.map((v) => v.dataSync() as Float32Array);
  const weights = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) { weights.set(p, at); at += p.length; }
  for (const v of [...vars, ...adam.flatMap((s) => [s.m, s.v])]) v.dispose();
  return { weights, losses };
}

/**
 * Σ over each row's k slots of table[slot]: [rows, cols]. `skipPad`: slot 0 is padding (no
 * feature) and gets no gradient, so it stays the zero row it starts as.
 */
function embeddingBag(tf: typeof TF, table: TF.Variable, slots: Int32Array, k: number, skipPad: boolean): TF.Tensor2D {
  const rows = slots.length / k;
  const [n, cols] = table.shape as [number, number];
  const op = tf.customGrad((...args: (TF.Tensor | TF.GradSaveFunc)[]) => {
    const w = args[0] as TF.Tensor;
    const g = tf.gather(w, tf.tensor1d(slots, 'int32'));
    const value = k === 1 ? g : tf.sum(tf.reshape(g, [rows, k, cols]), 1);
    const gradFunc = (dy: TF.Tensor): TF.Tensor => {
      const d = dy.dataSync();
      const out = new Float32Array(n * cols);
      for (let r = 0; r < rows; r++) {
        for (let j = 0; j < k; j++) {
          const slot = slots[r * k + j];
          if (skipPad && slot === 0) continue;
          const o = slot * cols;
          const i = r * cols;
          for (let u = 0; u < cols; u++) out[o + u] += d[i + u];
        }
      }
      return tf.tensor2d(out, [n, cols]);
    };
    return { value: value as TF.Tensor2D, gradFunc };
  });
  return op(table) as TF.Tensor2D;
}

function shuffle(a: Int32Array, random: () => number): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const x = a[i];
    a[i] = a[j];
    a[j] = x;
  }
}
