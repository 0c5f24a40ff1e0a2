import type { LifecycleConfig } from '../config/schema.js';
import type { RealisedRow } from './realised.js';

/**
 * Is a series drifting? Either its realised error has outrun what its backtest promised by
 * more than the margin, or its demand has moved: the mean of the new actuals is more than
 * `shiftThreshold` standard errors from the mean of the history it was fitted on.
 */
export function driftReason(r: RealisedRow, cfg: LifecycleConfig): string | null {
  if (r.points < cfg.minPoints) return null;
  if (r.mase !== null && r.backtest_mase !== null && r.backtest_mase > 0 && r.mase > r.backtest_mase * (1 + cfg.driftMargin)) {
    return `realised MASE ${r.mase.toFixed(3)} > backtest ${r.backtest_mase.toFixed(3)} × ${(1 + cfg.driftMargin).toFixed(2)}`;
  }
  if (r.history_mean !== null && r.history_sd !== null && r.history_sd > 0) {
    const z = (r.actual_mean - r.history_mean) / (r.history_sd / Math.sqrt(r.points));
    if (Math.abs(z) > cfg.shiftThreshold) return `demand shifted: mean ${r.actual_mean.toFixed(2)} vs ${r.history_mean.toFixed(2)} in history (z = ${z.toFixed(1)})`;
  }
  return null;
}
