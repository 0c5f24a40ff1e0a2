import type { Config } from '../config/schema.js';
import type { Frequency } from '../ingest/frequency.js';
import type { SeriesTask } from '../forecast/types.js';
import { DEFAULT_CANDIDATES } from '../models/library.js';

function horizonFor(cfg: Config, freq: Frequency): number {
  return cfg.horizon ?? (freq.days === 7 ? 13 : 28);
}

/** Seasonal periods: the configured one, or a year of weeks; for days, a week and a year. */
function seasonsFor(cfg: Config, freq: Frequency): number[] {
  if (cfg.season !== undefined) return [cfg.season];
  return freq.days === 7 ? [52] : [7, 365];
}

/** Whether the run's reconciliation estimates W from one-step in-sample errors. */
export function insampleNeeded(cfg: Config): boolean {
  const h = cfg.hierarchy;
  return h.enabled && h.errors === 'insample' && (h.method === 'mint-shrink' || h.method === 'wls');
}

/** The settings every worker needs, derived once per run from config and data frequency. */
export function seriesTask(cfg: Config, freq: Frequency): SeriesTask {
  const seasons = seasonsFor(cfg, freq);
  return {
    horizon: horizonFor(cfg, freq),
    season: seasons[0],
    seasons,
    candidates: { ...DEFAULT_CANDIDATES, ...cfg.models.candidates },
    windows: cfg.models.windows,
    metric: cfg.models.metric,
    combine: cfg.models.combine,
    // Three of the longest cycles: enough for a seasonal decomposition and its backtest windows.
    maxHistory: cfg.models.maxHistory ?? Math.ceil(3 * Math.max(...seasons)),
    // The one-step in-sample errors only when a reconciliation estimates W from them.
    ...(insampleNeeded(cfg) ? { insample: cfg.hierarchy.insamplePeriods } : {}),
  };
}
