import type { Config } from '../config/schema.js';
import type { InputFingerprint } from '../ingest/fingerprint.js';
import type { ResolvedColumns, SourceFormat } from '../ingest/source.js';
import type { QualityReport } from '../ingest/quality.js';
import type { SeriesTask } from '../forecast/types.js';
import type { CalendarTask } from '../forecast/wire.js';
import type { Decision, ReusePlan } from '../registry/reuse.js';
import { seriesKey, type LiveVersion } from '../registry/state.js';
import type { PriorRow } from '../calendars/plan.js';
import type { RunManifest } from '../publish/manifest.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import type { Override } from '../publish/overrides.js';
import type { EventKind } from '../calendars/catalog.js';
import type { TrainingRecord } from '../registry/networks.js';
import type { NewItems } from '../ingest/new-items.js';
import type { ItemRow } from '../calendars/items.js';

export type RunKind = 'run' | 'retrain';

/** The global network of a run, as finishing it needs it: the manifest's `global`, and the networks it trained (to register). */
export interface GlobalRecord {
  readonly summary: NonNullable<RunManifest['global']>;
  readonly trained: readonly { readonly version: string; readonly dir: string; readonly record: TrainingRecord }[];
}

/** The registered version a series starts from: what publishing its row needs of it. */
export interface PreviousVersion {
  readonly version: number;
  readonly backtest_mase: number | null;
  readonly backtest_rmsse: number | null;
  readonly backtest_bias: number | null;
}

/**
 * What publishing needs to know of every series besides its forecast, by series id: its keys,
 * why it was (re)selected, the version it starts from and whether this run reuses it, and the
 * rule that closes its store. Plain data, so that a sharded run's publish reads it from the plan.
 */
export interface SeriesLedger {
  readonly store: readonly string[];
  readonly sku: readonly string[];
  readonly decisions: readonly Decision[];
  readonly previous: readonly (PreviousVersion | null)[];
  readonly reused: readonly boolean[];
  /** By store: the rule that closes it ('' or absent: never closed). */
  readonly closures: Readonly<Record<string, string>>;
}

export function makeLedger(keys: SeriesKeys, reuse: ReusePlan, live: ReadonlyMap<string, LiveVersion>, closureRule: (store: string) => string): SeriesLedger {
  const previous = keys.store.map((store, sid): PreviousVersion | null => {
    const v = live.get(seriesKey(store, keys.sku[sid]));
    return v ? { version: v.version, backtest_mase: v.backtest_mase, backtest_rmsse: v.backtest_rmsse, backtest_bias: v.backtest_bias } : null;
  });
  const closures: Record<string, string> = {};
  for (const store of new Set(keys.store)) {
    const rule = closureRule(store);
    if (rule) closures[store] = rule;
  }
  return { store: keys.store, sku: keys.sku, decisions: reuse.decisions, previous, reused: reuse.fixed.map((f) => f !== undefined), closures };
}

/**
 * The series too short for a backtest that have peers (the same SKU in other stores, long
 * enough for a backtest, selling over the same periods), as plain data for the RunPlan: found
 * before the forecast, applied once every peer is forecast (run/launch-peers.ts), so a sharded
 * run's publish does the same as a run on one machine.
 */
export interface LaunchPeers {
  /** The short series, ascending. */
  readonly sids: readonly number[];
  /** Each one's mean over its observed periods. */
  readonly level: readonly number[];
  /** Its peers: peers[offsets[k] … offsets[k + 1]), ascending, each with its mean over the same periods. */
  readonly offsets: readonly number[];
  readonly peers: readonly number[];
  readonly peerLevel: readonly number[];
}

/**
 * Everything a run decided before its series are forecast, as plain data: what the forecast
 * files, the manifest and the registry record need once the results are in. A run on one
 * machine keeps it in memory; `shelfcast plan` writes it for the shards and `publish`.
 */
export interface RunPlan {
  readonly kind: RunKind;
  readonly runId: string;
  readonly codeVersion: string;
  /** When the run started (wall clock), and the run's own time (`now`: a scheduler or test may set it). */
  readonly startedAt: string;
  readonly now: string;
  /** The run's configuration, without the server's settings (tokens never reach a plan). */
  readonly config: Omit<Config, 'server'>;
  readonly input: { readonly path: string; readonly name: string; readonly format: SourceFormat; readonly columns: ResolvedColumns; readonly fingerprint: InputFingerprint };
  readonly report: QualityReport;
  readonly warnings: readonly string[];
  readonly task: SeriesTask;
  readonly calendarTask: CalendarTask | null;
  readonly dates: readonly string[];
  readonly ledger: SeriesLedger;
  readonly pins: RunManifest['model_versions']['pins'];
  /** Series flagged as drifting, by seriesKey: the reason (what exceptions.csv reports). */
  readonly drift: Readonly<Record<string, string>>;
  /** The planners' overrides active for this run, oldest first. */
  readonly overrides: readonly Override[];
  /** What names the parts in components.parquet: the calendar features, and each event's kind by name. */
  readonly components: { readonly features: readonly string[]; readonly eventKinds: Readonly<Record<string, EventKind>> };
  /** The registered calibration a nightly run keeps (JSON of calibrationToJson), or null: this run calibrates. */
  readonly storedCalibration: string | null;
  /** Pooled calendar effects this run estimated, to register with its calibration (null: kept from the last retrain, or no calendars). */
  readonly priors: readonly PriorRow[] | null;
  readonly calendars: RunManifest['calendars'];
  /** Which calendar the stores follow, e.g. "US (default) 4 stores", or "off". */
  readonly calendarSummary: string;
  readonly closures: RunManifest['closures'];
  readonly future: RunManifest['future'];
  /** The run's global network (null: it has none). */
  readonly global: GlobalRecord | null;
  /** input.newItems as read (null: not given). New items are series after those with history in the ledger. */
  readonly newItems: NewItems['report'] | null;
  /** What the ERP outputs, the hierarchy and lead-time demand need (issue 18; run/erp-stage.ts). */
  readonly erp: {
    /** The region of every store of the run, the items-table row of every SKU of it, and whether the items table has categories. */
    readonly tables: { readonly regions: Readonly<Record<string, string>>; readonly items: Readonly<Record<string, ItemRow>>; readonly categories: boolean };
    /**
     * Per series id '1' where the history is whole units sold a few at a time (erp-stage.ts
     * SeriesObserver), else '0'; learned as the series stream to the workers, so '' in the plan
     * prepareRun returns and filled in by Prepared.complete().
     */
    readonly counts: string;
    /** Aggregate series of the hierarchy, forecast after the series with ids from ledger.store.length on; 0 without hierarchy.enabled. */
    readonly aggregates: number;
  };
  /** Series too short for a backtest forecast from their peers' forecasts at publish (`models.coldStart: peers`; null: none). */
  readonly launches: LaunchPeers | null;
  /** Rows of the files written before the forecast (history.parquet, events.csv), and what history.parquet was made from (its print in the manifest). */
  readonly preparedRows: { readonly history: number; readonly events: number | null; readonly historyPrint?: string };
  readonly stageSeconds: Readonly<Record<string, number>>;
}
