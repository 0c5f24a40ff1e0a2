import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { trainNetwork, initialWeights } from '../src/models/global/train.js';
import { EVENTS_PER_PERIOD, NETWORK_QUANTILES, weightShapes, type NetworkShape } from '../src/models/global/layout.js';
import { seededRandom } from '../src/models/global/random.js';
import type { TrainingSet } from '../src/models/global/samples.js';

/**
 * The training step written out (src/models/global/train.ts keeps the tables and Adam in
 * JavaScript for speed) against TensorFlow.js's own pieces: the tables read with `gather` and
 * differentiated by its autodiff, and `tf.train.adam`. Two epochs of one batch of every row
 * (the second step is where Adam's second moment and the cosine step size show).
 */
describe('a training step of the global network', () => {
  it('moves every weight as gather, autodiff and tf.train.adam do, untouched table rows and the padding row included', async () => {
    await tf.setBackend('cpu');
    const shape: NetworkShape = { shared: 5, step: 4, stores: 3, skus: 6, categories: 2, events: 4, hidden1: 8, hidden2: 4 };
    const rows = 12;
    const K = EVENTS_PER_PERIOD;
    const r = seededRandom(11);
    // SKU slots 4 and 5 never occur: their rows have no gradient.
    const set: TrainingSet = {
      sharedWidth: shape.shared,
      stepWidth: shape.step,
      shared: Float32Array.from({ length: rows * shape.shared }, () => r()),
      ids: Int32Array.from({ length: rows * 3 }, (_, i) => [i % 3, i % 4, i % 2][i % 3]),
      origin: Int32Array.from({ length: rows }, (_, i) => i),
      step: Float32Array.from({ length: rows * shape.step }, () => r()),
      events: Int32Array.from({ length: rows * K }, (_, i) => (i % 3 === 0 ? 0 : 1 + (i % 3))),
      target: Float32Array.from({ length: rows }, () => 2 * r()),
      weight: Float32Array.from({ length: rows }, () => 0.5 + r()),
    };
    const settings = { epochs: 2, batch: rows, learningRate: 0.01, seed: 3 };
    const tensors = tf.memory().numTensors;
    const trained = trainNetwork(tf, set, shape, settings, seededRandom(settings.seed));
    // Nothing left behind: a training worker runs thousands of steps.
    expect(tf.memory().numTensors).toBe(tensors);

    // The reference: the same loss on the same initial weights, every table a variable.
    const shapes = weightShapes(shape);
    const init = initialWeights(shape, seededRandom(settings.seed));
    const v = Object.fromEntries(shapes.map(([name, a, b], i) => [name, tf.variable(tf.tensor2d(init[i], [a, b]), true, `ref-${name}`)]));
    const col = (k: number) => tf.tensor1d(Int32Array.from({ length: rows }, (_, o) => set.ids[o * 3 + k]), 'int32');
    const loss = (): tf.Scalar => {
      const events = tf.tensor1d(set.events, 'int32');
      const pad = tf.tensor2d(Float32Array.from(set.events, (s) => (s > 0 ? 1 : 0)), [rows * K, 1]);
      const ev = tf.sum(tf.reshape(tf.mul(tf.gather(v.event, events), pad), [rows, K, shape.hidden1]), 1);
      let a = tf.add(tf.matMul(tf.tensor2d(set.shared, [rows, shape.shared]), v.shared), tf.matMul(tf.tensor2d(set.step, [rows, shape.step]), v.step));
      a = tf.add(tf.add(tf.add(tf.add(a, tf.gather(v.store, col(0))), tf.gather(v.sku, col(1))), tf.gather(v.category, col(2))), ev);
      const h1 = tf.relu(tf.add(a, v.bias1));
      const h2 = tf.relu(tf.add(tf.matMul(h1, v.dense2), v.bias2));
      const z = tf.add(tf.matMul(h2, v.out), v.bias3);
      const [z0, z1, z2] = tf.split(z, 3, 1).map((c) => tf.reshape(c, [rows]));
      const qs = [tf.sub(z0, tf.softplus(z1)), z0, tf.add(z0, tf.softplus(z2))];
      const y = tf.tensor1d(set.target);
      const l = NETWORK_QUANTILES.map((tau, k) => tf.maximum(tf.mul(tau, tf.sub(y, qs[k])), tf.mul(tau - 1, tf.sub(y, qs[k])))).reduce((s, x) => tf.add(s, x));
      return tf.mean(tf.mul(l, tf.tensor1d(set.weight)));
    };
    const adam = tf.train.adam(settings.learningRate, 0.9, 0.999, 1e-7);
    trained.losses.forEach((l, step) => {
      expect(l).toBeCloseTo(loss().dataSync()[0], 5);
      // The cosine schedule over two steps: the whole step size, then half of it.
      (adam as unknown as { learningRate: number }).learningRate = settings.learningRate * 0.5 * (1 + Math.cos((Math.PI * step) / 2));
      adam.minimize(loss, false, Object.values(v));
    });

    let at = 0;
    shapes.forEach(([name], i) => {
      const want = v[name].dataSync();
      const got = trained.weights.subarray(at, at + want.length);
      at += want.length;
      for (let j = 0; j < want.length; j++) expect(got[j], `${name}[${j}]`).toBeCloseTo(want[j], 6);
      // Rows without a gradient in the first step have no momentum yet, and none in the second.
      if (name === 'sku') for (let j = 4 * shape.hidden1; j < want.length; j++) expect(got[j]).toBe(init[i][j]);
      if (name === 'event') for (let j = 0; j < shape.hidden1; j++) expect(got[j]).toBe(0);
    });
    expect(at).toBe(trained.weights.length);
  });
});
