import type { FittedModel, Model } from '../types.js';
import { NETWORK_QUANTILES } from './layout.js';
import type { SeriesFeatures } from './features.js';
import type { NetworkRunner } from './network.js';

/** Gaussian z of the 90 % quantile: (q90 − q10) / (2 · 1.2816) is the spread the network's band implies. */
const Z90 = 1.2815515655446004;

/** A network with this series' inputs built for it (its slots differ per network: each has its own codes). */
export interface NetworkSeries {
  readonly runner: NetworkRunner;
  readonly features: SeriesFeatures;
}

/** The networks a series can be forecast with: the run's current one (null: none), and any registered one by version. */
export interface GlobalSeries {
  readonly current: NetworkSeries | null;
  /** The network trained before the backtest windows, which forecasts them (null: `current` does). */
  readonly backtest: NetworkSeries | null;
  byVersion(version: string): NetworkSeries | null;
}

/**
 * The global network as a Model: "fitting" on a history is building its inputs at the
 * history's end and running the network, so backtest windows, the final forecast and nightly
 * runs all go through the same contract as the local models. `offset`: where the history the
 * engine passes (a prefix of the series as models see it) starts in the series' input. The
 * fitted label is the network version, so series.csv, the registry and `explain` name it; a
 * registered version is run with the network it names, whatever the current one is (rollback).
 */
export function globalModel(series: GlobalSeries, offset: number): Model {
  const run = (net: NetworkSeries | null, y: Float64Array, what: string): FittedModel => {
    if (!net) throw new Error(`global: ${what}`);
    return forecastAt(net, offset + y.length);
  };
  // A history that stops before the data end is a backtest window: the network that never saw it forecasts it.
  const fitted = (y: Float64Array): NetworkSeries | null => {
    const current = series.current;
    return current && offset + y.length < current.features.n ? series.backtest ?? current : current;
  };
  return {
    name: 'global',
    fit: (y) => run(fitted(y), y, 'no trained network in this run'),
    restore: (spec, y) => run(series.byVersion(spec.structure), y, `network ${spec.structure} is not registered`),
    forward: (spec, y) => run(series.byVersion(spec.structure), y, `network ${spec.structure} is not registered`),
  };
}

/** The network's forecast from origin o (periods of the series' input before it). */
function forecastAt(net: NetworkSeries, o: number): FittedModel {
  const { level, fromPrior } = net.features.level(o, 0);
  if (!Number.isFinite(level)) throw new Error('global: no history and no similar series to take a level from');
  return {
    label: net.runner.net.version,
    params: {},
    forecast(h: number) {
      const Q = NETWORK_QUANTILES.length;
      const q = new Float64Array(h * Q);
      net.runner.predict(net.features, o, 0, level, fromPrior, h, q);
      const mean = new Float64Array(h);
      const sd = new Float64Array(h);
      for (let s = 0; s < h; s++) {
        mean[s] = level * Math.max(0, q[s * Q + 1]);
        sd[s] = (level * (q[s * Q + 2] - q[s * Q])) / (2 * Z90);
      }
      return { mean, sd };
    },
  };
}

/** What the library holds under `global` outside a run with a network: a candidate that fails, so selection passes it over. */
export const noNetwork: Model = {
  name: 'global',
  fit() { throw new Error('global: no trained network in this run'); },
};
