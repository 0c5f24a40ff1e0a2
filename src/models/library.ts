import type { Model } from './types.js';
import type { DemandClass } from './classify.js';
import { naive, seasonalNaive } from './naive.js';
import { movingAverage, seasonalAverage } from './average.js';
import { ets } from './ets/index.js';
import { optimisedTheta, theta } from './theta.js';
import { croston, crostonSba, tsb } from './croston.js';
import { adida, imapa } from './adida.js';
import { multiplicativeSplit, seasonallyAdjusted, stlSplit } from './seasonal-adjusted.js';
import { noNetwork } from './global/model.js';

/**
 * Every model shelfcast can select, by the name used in config files. Decomposition models
 * take the season out (STL/MSTL, or thetaf's multiplicative indices) and forecast the rest.
 * `global` is the network trained across all series (models/global/); a run that has one
 * gives each series its own instance (forecast/series.ts), and without one it fails as a
 * candidate, so selection passes it over.
 */
export const MODEL_LIBRARY = {
  naive,
  snaive: seasonalNaive,
  ma: movingAverage,
  smean: seasonalAverage,
  ets,
  theta,
  otm: optimisedTheta,
  'stl-ets': seasonallyAdjusted('stl', stlSplit, ets),
  'stl-theta': seasonallyAdjusted('stl', stlSplit, theta),
  'stl-otm': seasonallyAdjusted('stl', stlSplit, optimisedTheta),
  thetaf: seasonallyAdjusted('mult', multiplicativeSplit, theta),
  croston,
  'croston-sba': crostonSba,
  tsb,
  adida,
  imapa,
  global: noNetwork,
} as const satisfies Record<string, Model>;

export type ModelName = keyof typeof MODEL_LIBRARY;
export const MODEL_NAMES = Object.keys(MODEL_LIBRARY) as [ModelName, ...ModelName[]];

/** Candidates tried per demand class unless the config says otherwise. */
export const DEFAULT_CANDIDATES: Record<DemandClass, readonly ModelName[]> = {
  smooth: ['snaive', 'ets', 'theta', 'stl-ets', 'stl-otm', 'thetaf'],
  erratic: ['snaive', 'ets', 'theta', 'stl-ets', 'stl-otm', 'thetaf'],
  intermittent: ['croston-sba', 'tsb', 'adida', 'imapa', 'ma', 'smean'],
  lumpy: ['croston-sba', 'tsb', 'adida', 'imapa', 'ma', 'smean'],
};

export function modelByName(name: ModelName): Model {
  return MODEL_LIBRARY[name];
}
