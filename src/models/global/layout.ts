/**
 * The shape of the global network's inputs, fixed when it is trained and stored with its
 * weights, so that a nightly run (or a rollback to an older network) builds exactly the inputs
 * the network was trained on. Pure data: no I/O.
 */
export interface GlobalLayout {
  /** Days per period of the run grid (1: daily, 7: weekly). */
  readonly stepDays: 1 | 7;
  /** Periods ahead the network was trained for (the step input is s / horizon). */
  readonly horizon: number;
  /** Recent periods the network sees (scaled by their mean, the series' level). */
  readonly recent: number;
  /** Periods in a year on this grid, a whole number of weeks (52 or 364) so weekdays line up. */
  readonly year: number;
  /** Day number (days since 1970-01-01) of the run grid's period 0. */
  readonly epochDay: number;
  /** Calendar features by name (the slot of feature i is i + 1; 0 is none). */
  readonly events: readonly string[];
  /** Store, SKU and category codes (slot of code i is i + 1; 0 is an unknown code). */
  readonly stores: readonly string[];
  readonly skus: readonly string[];
  readonly categories: readonly string[];
  /** Mean and standard deviation of the log level over the training samples (the level input is standardised). */
  readonly logLevelMean: number;
  readonly logLevelSd: number;
}

/** Calendar features of one target period the network looks at; more are dropped (a period rarely has more). */
export const EVENTS_PER_PERIOD = 4;

/** Scaled values are capped: one absurd week must not dominate a window. */
export const MAX_SCALED = 10;

/** Quantile levels the network predicts directly (MQ-CNN's multi-quantile loss); the median is the point forecast. */
export const NETWORK_QUANTILES = [0.1, 0.5, 0.9] as const;

/** Width of the per-origin input vector. */
export function sharedWidth(l: GlobalLayout): number {
  return 3 * l.recent + 3;
}

/** Width of the per-step input vector. */
export function stepWidth(l: GlobalLayout): number {
  return 2 + 6 + (l.stepDays === 1 ? 7 + 4 : 0) + 8 + 6 + 5;
}

/** The name of the promotion feature among the calendar features (calendars/features.ts: PROMO_FEATURE). */
export const PROMO_EVENT = 'promo';

/** Sizes of the network's layers; the weights are stored in this order (see network.ts). */
export interface NetworkShape {
  readonly shared: number;
  readonly step: number;
  readonly stores: number;
  readonly skus: number;
  readonly categories: number;
  readonly events: number;
  readonly hidden1: number;
  readonly hidden2: number;
}

export function networkShape(l: GlobalLayout, hidden1: number, hidden2: number): NetworkShape {
  return {
    shared: sharedWidth(l),
    step: stepWidth(l),
    stores: l.stores.length + 1,
    skus: l.skus.length + 1,
    categories: l.categories.length + 1,
    events: l.events.length + 1,
    hidden1,
    hidden2,
  };
}

/** Names and shapes of the weight tensors, in storage order. */
export function weightShapes(s: NetworkShape): [string, number, number][] {
  return [
    ['shared', s.shared, s.hidden1],
    ['step', s.step, s.hidden1],
    ['store', s.stores, s.hidden1],
    ['sku', s.skus, s.hidden1],
    ['category', s.categories, s.hidden1],
    ['event', s.events, s.hidden1],
    ['bias1', 1, s.hidden1],
    ['dense2', s.hidden1, s.hidden2],
    ['bias2', 1, s.hidden2],
    ['out', s.hidden2, NETWORK_QUANTILES.length],
    ['bias3', 1, NETWORK_QUANTILES.length],
  ];
}
