/**
 * Which shard forecasts which series: balanced by estimated cost, not by count (a smooth series
 * with a backtest costs some fifty times an intermittent one, BENCHMARKS.md), and stable from
 * night to night so that a series keeps its shard (its pod's caches and logs stay where they
 * were): series keep the shard they had; new ones go to the least loaded shard; only when that
 * leaves a shard carrying more than `maxImbalance` times the mean load is everything
 * rebalanced (longest processing time first). Deterministic: ties go to the lower index.
 */
export function assignShards(cost: Float64Array, previous: Int32Array, shards: number, maxImbalance = 1.25): Int32Array {
  const n = cost.length;
  const out = new Int32Array(n).fill(-1);
  const load = new Float64Array(shards);
  for (let sid = 0; sid < n; sid++) {
    const p = previous[sid];
    if (p >= 0 && p < shards) { out[sid] = p; load[p] += cost[sid]; }
  }
  const byCost = (sids: number[]): number[] => sids.sort((a, b) => cost[b] - cost[a] || a - b);
  const place = (sids: readonly number[]): void => {
    for (const sid of sids) {
      let best = 0;
      for (let k = 1; k < shards; k++) if (load[k] < load[best]) best = k;
      out[sid] = best;
      load[best] += cost[sid];
    }
  };
  place(byCost(Array.from({ length: n }, (_, s) => s).filter((s) => out[s] < 0)));
  const total = load.reduce((a, b) => a + b, 0);
  if (shards > 1 && total > 0 && Math.max(...load) > maxImbalance * (total / shards)) {
    load.fill(0);
    place(byCost(Array.from({ length: n }, (_, s) => s)));
  }
  return out;
}

/** Estimated cost of a series relative to others: its class's cost times the history the models see, far less when a registered version is reused. */
export function seriesCost(smooth: boolean, periods: number, maxHistory: number, reused: boolean): number {
  return (smooth ? 50 : 1) * Math.min(periods, maxHistory) * (reused ? 0.15 : 1);
}
