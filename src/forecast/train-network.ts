import type * as TF from '@tensorflow/tfjs';
import { trainNetwork, type TrainSettings } from '../models/global/train.js';
import { seededRandom } from '../models/global/random.js';
import type { TrainingSet } from '../models/global/samples.js';
import type { NetworkShape } from '../models/global/layout.js';

/** What the global network's training worker (workers/train-global.ts) is handed: the training set, the network's shape, the optimiser settings. */
export interface TrainRequest {
  readonly set: TrainingSet;
  readonly shape: NetworkShape;
  readonly settings: TrainSettings;
}

/** Train on a request, seeded by its settings: the same request gives the same weights on the same backend. */
export function trainOnRequest(tf: typeof TF, req: TrainRequest): { weights: Float32Array; losses: number[] } {
  return trainNetwork(tf, req.set, req.shape, req.settings, seededRandom(req.settings.seed));
}
