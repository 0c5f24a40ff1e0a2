/**
 * Worker thread that trains the global network (started once per retrain by
 * src/run/global-stage.ts, outside the forecast pool). Thin: it picks a TensorFlow.js backend
 * and calls trainOnRequest (src/forecast/train-network.ts); the weights go back as a transferred buffer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type * as TF from '@tensorflow/tfjs';
import { trainOnRequest, type TrainRequest } from '../src/forecast/train-network.js';

/**
 * tfjs-node when it is installed (never a dependency: its install downloads libtensorflow),
 * else the WebAssembly backend, else plain JavaScript.
 */
async function backend(): Promise<{ tf: typeof TF; name: string }> {
  const native = '@tensorflow/tfjs-node';
  try {
    const tf = (await import(native)) as typeof TF;
    return { tf, name: tf.getBackend() };
  } catch {
    const tf = await import('@tensorflow/tfjs');
    await import('@tensorflow/tfjs-backend-wasm');
    for (const name of ['wasm', 'cpu']) if (await tf.setBackend(name)) return { tf, name };
    throw new Error('no TensorFlow.js backend could be started');
  }
}

const req = workerData as TrainRequest;
const { tf, name } = await backend();
const trained = trainOnRequest(tf, req);
parentPort?.postMessage({ weights: trained.weights, losses: trained.losses, backend: name }, [trained.weights.buffer as ArrayBuffer]);
