import { SeriesFeatures, type GlobalSeriesInput } from '../models/global/features.js';
import { NetworkRunner, type GlobalNetwork } from '../models/global/network.js';
import type { GlobalSeries, NetworkSeries } from '../models/global/model.js';
import type { BatchGlobal } from './wire.js';

/**
 * The global networks on the wire: what every forecast worker needs to run them (once per
 * request), and per batch the integer codes of each series' store, SKU and category in each
 * network's vocabulary. Series identities stay on the main thread, as for the local models.
 */
export interface GlobalTask {
  /** [0]: the run's current network (a candidate, and the cold-start forecaster); the others: older ones live versions name (rollback). */
  readonly networks: readonly GlobalNetwork[];
  /** Index in `networks` of the one that forecasts backtest windows (trained before them); -1: the current one does. */
  readonly backtest: number;
  /** Per network: the run's calendar-feature id → the network's slot (0: a feature it does not know). */
  readonly eventSlots: readonly Int32Array[];
  /** The run's id of the promotion feature (-1: none). */
  readonly promoFeature: number;
  /** The data end on the run grid: every series ends there. */
  readonly lastT: number;
  readonly horizon: number;
  /** What similar series did (run/global-peers.ts): profiles of `peerLength` periods, shared by the workers, not copied. */
  readonly peers: Float32Array;
  readonly peerLength: number;
}

/** A series' calendar features as the batch carries them: periods from its first value, run feature ids. */
export interface SeriesCalendar {
  readonly t: Int32Array;
  readonly f: Int32Array;
}

/** The inputs of one series for network `k`, from its values, calendar features and closures. */
export function seriesInput(task: GlobalTask, k: number, slots: ArrayLike<number>, prior: number, peer: number, y: Float64Array, calendar: SeriesCalendar | undefined, closed: Int32Array | undefined): GlobalSeriesInput {
  const map = task.eventSlots[k];
  const eventT: number[] = [];
  const eventSlot: number[] = [];
  const promoT: number[] = [];
  if (calendar) {
    for (let e = 0; e < calendar.t.length; e++) {
      const f = calendar.f[e];
      if (f === task.promoFeature) promoT.push(calendar.t[e]);
      else if (map[f] > 0) { eventT.push(calendar.t[e]); eventSlot.push(map[f]); }
    }
  }
  return {
    y,
    eventT: Int32Array.from(eventT),
    eventSlot: Int32Array.from(eventSlot),
    promoT: Int32Array.from(promoT),
    closedT: closed ?? new Int32Array(0),
    t0: task.lastT + 1 - y.length,
    store: slots[0],
    sku: slots[1],
    category: slots[2],
    priorLogLevel: prior,
    peers: peer >= 0 ? task.peers.subarray(peer * task.peerLength, (peer + 1) * task.peerLength) : null,
  };
}

/** One runner per network version and worker: its scratch buffers are reused across series. */
const runners = new Map<string, NetworkRunner>();

function runnerFor(net: GlobalNetwork): NetworkRunner {
  let r = runners.get(net.version);
  if (!r) { r = new NetworkRunner(net); runners.set(net.version, r); }
  return r;
}

/** Series i of a batch as the global model sees it: its inputs are built for a network only when that network is asked for. */
export function seriesGlobal(task: GlobalTask, batch: BatchGlobal, i: number, y: Float64Array, calendar: SeriesCalendar | undefined, closed: Int32Array | undefined): GlobalSeries {
  const N = task.networks.length;
  const built = new Map<number, NetworkSeries>();
  const forNetwork = (k: number): NetworkSeries => {
    let s = built.get(k);
    if (!s) {
      const net = task.networks[k];
      const input = seriesInput(task, k, batch.slots.subarray((i * N + k) * 3, (i * N + k) * 3 + 3), batch.prior[i], batch.peer[i], y, calendar, closed);
      s = { runner: runnerFor(net), features: new SeriesFeatures(input, net.layout, task.horizon) };
      built.set(k, s);
    }
    return s;
  };
  return {
    get current() { return N > 0 ? forNetwork(0) : null; },
    get backtest() { return task.backtest >= 0 ? forNetwork(task.backtest) : null; },
    byVersion(version) {
      const k = task.networks.findIndex((n) => n.version === version);
      return k >= 0 ? forNetwork(k) : null;
    },
  };
}
