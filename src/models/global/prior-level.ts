/**
 * The level of a series that has no history of its own (a new item, a new store), from what
 * similar series sell: log level ≈ overall + store effect + SKU effect (or, for a SKU never
 * seen, its category's effect), each effect shrunk towards 0 by one pseudo-observation and
 * estimated by alternating means. Pure; the series' levels come from the caller.
 */
export interface LevelObservation {
  readonly store: string;
  readonly sku: string;
  readonly category: string;
  /** Log of the series' recent mean (NaN: none, left out). */
  readonly logLevel: number;
}

const SHRINK = 1;
const ROUNDS = 8;

export class PriorLevels {
  private readonly mu: number;
  private readonly storeEffect = new Map<string, number>();
  private readonly skuSum = new Map<string, { sum: number; n: number }>();
  private readonly categoryEffect = new Map<string, number>();

  constructor(private readonly obs: readonly LevelObservation[]) {
    const used = obs.filter((o) => Number.isFinite(o.logLevel));
    this.mu = used.length ? used.reduce((a, o) => a + o.logLevel, 0) / used.length : NaN;
    const sku = new Map<string, number>();
    for (let r = 0; r < ROUNDS; r++) {
      const s = group(used, (o) => o.store, (o) => o.logLevel - this.mu - (sku.get(o.sku) ?? 0));
      this.storeEffect.clear();
      for (const [k, g] of s) this.storeEffect.set(k, g.sum / (g.n + SHRINK));
      const k2 = group(used, (o) => o.sku, (o) => this.residual(o));
      sku.clear();
      this.skuSum.clear();
      for (const [k, g] of k2) { sku.set(k, g.sum / (g.n + SHRINK)); this.skuSum.set(k, g); }
    }
    for (const [k, g] of group(used, (o) => o.category, (o) => this.residual(o))) this.categoryEffect.set(k, g.sum / (g.n + SHRINK));
  }

  /** Log level of a series with the overall level and its store taken out. */
  private residual(o: LevelObservation): number {
    return o.logLevel - this.mu - (this.storeEffect.get(o.store) ?? 0);
  }

  /** Predicted log level of a (store, SKU, category) (NaN when nothing was observed at all). */
  predict(store: string, sku: string, category: string): number {
    return this.mu + (this.storeEffect.get(store) ?? 0) + this.itemEffect(sku, category, null);
  }

  /**
   * The prediction for observation i as if it had not been seen (its own SKU effect without its
   * own value), so that a network learning to trust this prior in training is not shown a
   * level its own sales made.
   */
  leaveOneOut(i: number): number {
    const o = this.obs[i];
    return this.mu + (this.storeEffect.get(o.store) ?? 0) + this.itemEffect(o.sku, o.category, Number.isFinite(o.logLevel) ? this.residual(o) : null);
  }

  private itemEffect(sku: string, category: string, without: number | null): number {
    const g = this.skuSum.get(sku);
    const n = g ? g.n - (without === null ? 0 : 1) : 0;
    if (g && n > 0) return (g.sum - (without ?? 0)) / (n + SHRINK);
    return this.categoryEffect.get(category) ?? 0;
  }
}

function group(obs: readonly LevelObservation[], key: (o: LevelObservation) => string, value: (o: LevelObservation) => number): Map<string, { sum: number; n: number }> {
  const out = new Map<string, { sum: number; n: number }>();
  for (const o of obs) {
    const k = key(o);
    const g = out.get(k) ?? { sum: 0, n: 0 };
    g.sum += value(o);
    g.n++;
    out.set(k, g);
  }
  return out;
}
