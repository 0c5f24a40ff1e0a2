import type { FixedSelection } from '../forecast/types.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import { seriesKey, type LiveVersion } from './state.js';

/**
 * Which series a run may forecast with their registered model version, and which it must
 * re-select by backtest. A retrain re-selects everything but pinned series; a nightly run
 * reuses a series' live version unless it has none, it is older than the retrain interval,
 * or drift was flagged. A pin always wins.
 */
export type Decision = 'pinned' | 'reused' | 'new' | 'stale' | 'drift' | 'retrain';

export interface ReusePlan {
  /** By series id: the selection to reuse, or undefined to select afresh. */
  readonly fixed: readonly (FixedSelection | undefined)[];
  readonly decisions: readonly Decision[];
  readonly counts: Readonly<Record<Decision, number>>;
}

export function planReuse(
  mode: 'run' | 'retrain',
  keys: SeriesKeys,
  live: ReadonlyMap<string, LiveVersion>,
  drift: ReadonlyMap<string, string>,
  now: Date,
  retrainAfterDays: number,
  /** 'extend': keep the registered parameters; 'refit': re-estimate them within the registered structure. */
  nightly: 'extend' | 'refit' = 'extend',
): ReusePlan {
  const counts: Record<Decision, number> = { pinned: 0, reused: 0, new: 0, stale: 0, drift: 0, retrain: 0 };
  const fixed: (FixedSelection | undefined)[] = [];
  const decisions: Decision[] = [];
  const maxAge = retrainAfterDays * 86400000;
  for (let sid = 0; sid < keys.store.length; sid++) {
    const key = seriesKey(keys.store[sid], keys.sku[sid]);
    const v = live.get(key);
    let d: Decision;
    if (v?.pinned) d = 'pinned';
    else if (mode === 'retrain') d = 'retrain';
    else if (!v) d = 'new';
    else if (drift.has(key)) d = 'drift';
    else if (now.getTime() - Date.parse(v.selected_at) > maxAge) d = 'stale';
    else d = 'reused';
    counts[d]++;
    decisions.push(d);
    const sel = v?.selection;
    const reuse = v && (d === 'pinned' || d === 'reused') && sel && sel.models.length > 0;
    fixed.push(reuse ? { models: sel.models, weights: sel.weights, specs: sel.models.map((_, k) => ({ structure: sel.labels?.[k] ?? '', params: sel.params[k] ?? {} })), how: nightly === 'extend' ? 'forward' : 'restore' } : undefined);
  }
  return { fixed, decisions, counts };
}
