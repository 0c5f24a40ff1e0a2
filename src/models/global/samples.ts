import { EVENTS_PER_PERIOD, sharedWidth, stepWidth, type GlobalLayout } from './layout.js';
import type { SeriesFeatures } from './features.js';

/**
 * The training set of the global network: windows sampled across every series, each an origin
 * (its per-origin inputs, stored once) and some of the steps after it (a row each, with its
 * target in units of the level). Only targets before `cutoff` are used: the retrain's first
 * backtest origin, so that no backtest window is scored on a period the network learnt from.
 * Everything travels to the training worker as typed arrays.
 */
export interface TrainingSet {
  readonly sharedWidth: number;
  readonly stepWidth: number;
  /** [origin][sharedWidth] */
  readonly shared: Float32Array;
  /** [origin][store, sku, category] slots */
  readonly ids: Int32Array;
  /** [row] index of the row's origin */
  readonly origin: Int32Array;
  /** [row][stepWidth] */
  readonly step: Float32Array;
  /** [row][EVENTS_PER_PERIOD] calendar-feature slots, 0-padded */
  readonly events: Int32Array;
  /** [row] actual / level */
  readonly target: Float32Array;
  /** [row] level / the series' MASE scale (capped, mean 1): the loss is then in MASE's units */
  readonly weight: Float32Array;
}

export interface SamplingPlan {
  /** Origins drawn per series. */
  readonly origins: number;
  /** Steps used per origin (all of the horizon, or a random few when there are many series). */
  readonly steps: number;
  /** Share of origins whose history is cut to its last 0…2·recent periods: how a launch looks. */
  readonly launchShare: number;
  /** Share of rows whose SKU (store) is hidden: what the network does for a code it never saw. */
  readonly unknownSku: number;
  readonly unknownStore: number;
}

/** How many origins and steps per series give about `rows` rows. */
export function samplingPlan(series: number, horizon: number, rows: number): SamplingPlan {
  const perSeries = Math.max(1, rows / Math.max(1, series));
  const origins = Math.max(1, Math.min(64, Math.round(perSeries / horizon)));
  const steps = Math.max(1, Math.min(horizon, Math.round(perSeries / origins)));
  return { origins, steps, launchShare: 0.2, unknownSku: 0.1, unknownStore: 0.05 };
}

/** A weight this many times the median is capped: a flat series must not drown the rest. */
const WEIGHT_CAP = 20;

export class TrainingSetBuilder {
  private readonly shared: number[] = [];
  private readonly ids: number[] = [];
  private readonly origin: number[] = [];
  private readonly step: number[] = [];
  private readonly events: number[] = [];
  private readonly target: number[] = [];
  private readonly weight: number[] = [];
  private readonly xs: Float64Array;
  private readonly xt: Float64Array;
  private readonly ev = new Int32Array(EVENTS_PER_PERIOD);
  private origins = 0;

  constructor(private readonly layout: GlobalLayout, private readonly plan: SamplingPlan, private readonly random: () => number) {
    this.xs = new Float64Array(sharedWidth(layout));
    this.xt = new Float64Array(stepWidth(layout));
  }

  /**
   * Sample one series. `cutoff`: first period (counted from the series' y[0]) the network may
   * not learn from; `leaveOutPrior`: the series' prior log level without its own sales (for
   * the launch samples that have no history at all).
   */
  add(f: SeriesFeatures, cutoff: number, leaveOutPrior: number): void {
    const scale = maseScale(f, cutoff);
    if (!(scale > 0)) return;
    const first = f.firstObserved + 1;
    const last = Math.min(cutoff, f.n) - 1;
    if (last < first) return;
    const h = this.layout.horizon;
    const L = this.layout.recent;
    // Forecasts are made from the end of a long history, which has a year behind it: origins
    // are drawn from where the series has one (launches come from the cut histories below).
    const yearOn = last - first > this.layout.year ? first + this.layout.year : first;
    for (let r = 0; r < this.plan.origins; r++) {
      const launch = this.random() < this.plan.launchShare;
      const from = launch ? first : yearOn;
      const o = from + Math.floor(this.random() * (last - from + 1));
      const visibleFrom = launch ? o - Math.floor(this.random() * (2 * L + 1)) : 0;
      const lv = launch && visibleFrom >= o ? { level: Math.exp(leaveOutPrior), fromPrior: true } : f.level(o, visibleFrom);
      if (!(lv.level > 0) || !Number.isFinite(lv.level)) continue;
      const w = lv.level / scale;
      f.shared(o, visibleFrom, lv.level, lv.fromPrior, this.xs, 0);
      const originIndex = this.origins;
      let rows = 0;
      for (const s of this.pickSteps(h)) {
        const j = o + s - 1;
        if (j >= cutoff) continue;
        const y = f.value(j, 0);
        if (Number.isNaN(y) || f.isClosed(j)) continue;
        f.step(o, s, visibleFrom, lv.level, this.xt, 0);
        f.stepEvents(o, s, this.ev, 0);
        for (const v of this.xt) this.step.push(v);
        for (const v of this.ev) this.events.push(v);
        this.origin.push(originIndex);
        this.target.push(y / lv.level);
        this.weight.push(w);
        rows++;
      }
      if (rows === 0) continue;
      for (const v of this.xs) this.shared.push(v);
      const hide = (p: number, slot: number): number => (this.random() < p ? 0 : slot);
      this.ids.push(hide(this.plan.unknownStore, f.input.store), hide(this.plan.unknownSku, f.input.sku), f.input.category);
      this.origins++;
    }
  }

  private pickSteps(h: number): number[] {
    const all = Array.from({ length: h }, (_, i) => i + 1);
    if (this.plan.steps >= h) return all;
    for (let i = 0; i < this.plan.steps; i++) {
      const j = i + Math.floor(this.random() * (h - i));
      [all[i], all[j]] = [all[j], all[i]];
    }
    return all.slice(0, this.plan.steps);
  }

  /** The training set, and the layout with the level input standardised over its origins. */
  build(): { set: TrainingSet; layout: GlobalLayout } {
    const D = sharedWidth(this.layout);
    const col = 3 * this.layout.recent;
    const shared = Float32Array.from(this.shared);
    // Standardise the log level over the sampled origins (the builder wrote it raw: mean 0, sd 1).
    let s1 = 0;
    let s2 = 0;
    const n = this.origins;
    for (let i = 0; i < n; i++) { const v = shared[i * D + col]; s1 += v; s2 += v * v; }
    const mean = n ? s1 / n : 0;
    const sd = n ? Math.sqrt(Math.max(s2 / n - mean * mean, 0)) || 1 : 1;
    for (let i = 0; i < n; i++) shared[i * D + col] = (shared[i * D + col] - mean) / sd;
    const layout: GlobalLayout = { ...this.layout, logLevelMean: this.layout.logLevelMean + mean * this.layout.logLevelSd, logLevelSd: sd * this.layout.logLevelSd };
    return {
      layout,
      set: {
        sharedWidth: D,
        stepWidth: stepWidth(this.layout),
        shared,
        ids: Int32Array.from(this.ids),
        origin: Int32Array.from(this.origin),
        step: Float32Array.from(this.step),
        events: Int32Array.from(this.events),
        target: Float32Array.from(this.target),
        weight: normalisedWeights(this.weight),
      },
    };
  }
}

/** Mean absolute one-step change of the observed history before `cutoff` (MASE's denominator). */
function maseScale(f: SeriesFeatures, cutoff: number): number {
  let s = 0;
  let c = 0;
  for (let t = 1; t < Math.min(cutoff, f.n); t++) {
    const a = f.value(t - 1, 0);
    const b = f.value(t, 0);
    if (!Number.isNaN(a) && !Number.isNaN(b)) { s += Math.abs(b - a); c++; }
  }
  return c > 0 ? s / c : NaN;
}

function normalisedWeights(w: readonly number[]): Float32Array {
  const sorted = [...w].sort((a, b) => a - b);
  const cap = WEIGHT_CAP * (sorted[sorted.length >> 1] ?? 1);
  const capped = w.map((x) => Math.min(x, cap));
  const mean = capped.reduce((a, b) => a + b, 0) / Math.max(1, capped.length);
  return Float32Array.from(capped, (x) => x / (mean || 1));
}
