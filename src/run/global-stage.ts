import type { DuckDBConnection } from '@duckdb/node-api';
import { queryOne } from '../db/duckdb.js';
import { backtestMinimum } from '../forecast/series.js';
import type { Config } from '../config/schema.js';
import type { Ingested } from '../ingest/index.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import { isoAddDays } from '../ingest/dates.js';
import type { CalendarPlan } from '../calendars/plan.js';
import type { ClosurePlan } from '../calendars/closure-plan.js';
import { PROMO_FEATURE } from '../calendars/features.js';
import type { SeriesTask } from '../forecast/types.js';
import type { GlobalTask } from '../forecast/global-batch.js';
import type { BatchGlobal } from '../forecast/wire.js';
import type { GlobalLayout } from '../models/global/layout.js';
import type { GlobalNetwork } from '../models/global/network.js';
import { readNetwork, writeNetwork, type RegisteredNetwork } from '../registry/networks.js';
import type { LiveVersion } from '../registry/state.js';
import { levelsAt, trainGlobal, type SeriesCodes, type TrainedNetwork } from './global-train.js';
import { peerProfiles, type PeerProfiles } from './global-peers.js';
import type { GlobalRecord, RunKind } from './run-plan.js';
import { UserError } from '../errors.js';

/** The run's global networks, encoded for the forecast workers. */
export interface GlobalPlan {
  readonly task: GlobalTask;
  /** The network the run forecasts with (candidate and cold start). */
  readonly current: GlobalNetwork;
  /** What this run trained (and wrote the folders of): the registry records them with the run. */
  readonly trained: { readonly networks: readonly (TrainedNetwork & { readonly dir: string })[]; readonly seconds: number } | null;
  forBatch(firstSid: number, count: number): BatchGlobal;
  /** What finishing the run needs of it, as plain data (RunPlan.global): the manifest's summary, the networks to register. */
  record(): GlobalRecord;
}

export interface GlobalInputs {
  readonly conn: DuckDBConnection;
  readonly cfg: Config;
  readonly kind: RunKind;
  readonly out: string;
  readonly ingested: Ingested;
  /** Every series of the run: those with history first (their DuckDB ids), then new items. */
  readonly keys: SeriesKeys;
  readonly withHistory: number;
  /** SKU → category (calendars.items and the new items' file). */
  readonly categories: ReadonlyMap<string, string>;
  readonly task: SeriesTask;
  readonly plan: CalendarPlan | null;
  readonly closures: ClosurePlan;
  readonly registered: readonly RegisteredNetwork[];
  readonly live: ReadonlyMap<string, LiveVersion>;
  readonly stop?: AbortSignal;
  readonly info: (line: string) => void;
  /** Set where the run cannot carry a network (a sharded plan): what it says when one would be used. */
  readonly refuse?: string;
}

/** Recent periods the network reads: a quarter of weeks, four weeks of days. */
const RECENT = { 1: 28, 7: 13 } as const;
const YEAR = { 1: 364, 7: 52 } as const;

/**
 * The global networks of a run. A retrain (or a run with no usable registered network) trains
 * two: one on the periods before the first backtest origin, which forecasts the backtest
 * windows, and one on every period, which makes the final forecasts (as the local models are
 * backtested on prefixes and refitted on the whole history). A nightly run predicts with the
 * newest registered pair and never trains. Networks that live model versions name are loaded too,
 * so a series rolled back to a version made with an older network gets that network. A run that
 * nothing in it would use a network for (networkUses) neither trains nor loads one: null.
 */
export async function globalStage(g: GlobalInputs): Promise<GlobalPlan | null> {
  const gc = g.cfg.models.global;
  if (!gc.enabled) return null;
  const days = g.ingested.freq.days;
  const usable = (n: GlobalNetwork): boolean => n.layout.stepDays === days && n.layout.horizon === g.task.horizon;
  const codes = seriesCodes(g.keys, g.categories, g.withHistory);
  const loaded = new Map<string, GlobalNetwork>();
  const load = (r: RegisteredNetwork): GlobalNetwork | null => {
    const had = loaded.get(r.version);
    if (had) return had;
    try {
      const n = readNetwork(r.dir).network;
      loaded.set(r.version, n);
      return n;
    } catch (e) {
      g.info(`warning: network ${r.version} cannot be read (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); series that use it fall back to their other models`);
      return null;
    }
  };
  const named = new Set<string>();
  let namedVersions = 0;
  for (const v of g.live.values()) {
    const nets = (v.selection.labels ?? []).filter((l) => l.startsWith('global-'));
    if (nets.length) namedVersions++;
    for (const l of nets) named.add(l);
  }
  for (const r of g.registered) if (named.has(r.version)) load(r);

  let current: GlobalNetwork | null = null;
  let backtest: GlobalNetwork | null = null;
  let trained: GlobalPlan['trained'] = null;
  if (g.kind === 'run') {
    for (const r of g.registered) {
      if (r.role !== 'final') continue;
      const n = load(r);
      if (!n || !usable(n)) continue;
      current = n;
      // Series re-selected tonight are backtested with the retrain's backtest network: the final
      // one has learnt the periods their windows are scored on.
      const b = g.registered.find((x) => x.version === r.backtest_network);
      backtest = b ? load(b) : null;
      break;
    }
  }
  const featureNames = g.plan?.featureNames() ?? [];
  const uses = await networkUses(g, namedVersions, current !== null);
  if (g.refuse && uses.length > 0) throw new UserError(`${g.refuse}, and this run would use it (${uses.join('; ')}): forecast on one machine (shelfcast run or retrain), or set models.global.enabled to false`);
  // Nothing would use a network: none is trained, and a registered one is not loaded.
  if (uses.length === 0) return null;
  // Training reads every period; forecasts only the last year and the backtest span before the data end.
  const reach = YEAR[days] + (g.task.windows + 1) * g.task.horizon + RECENT[days] + 7;
  const peers = await peerProfiles(g.conn, g.keys, codes.category, g.ingested.lastT, current ? Math.max(0, g.ingested.lastT + 1 - reach) : 0);
  if (!current) {
    const base = baseLayout(g, codes, featureNames);
    const span = g.task.windows * g.task.horizon;
    const end = g.ingested.lastT + 1;
    // The backtest network only serves the `global` candidate: series forecast by the network
    // for want of history (cold start) have no backtest, and get the final one.
    const cutoff = isCandidate(g.task) && end - span > g.task.horizon + base.recent ? end - span : null;
    const dateOf = (t: number): string => isoAddDays(g.ingested.firstDate, t * days);
    g.info(`global: training networks on ${g.withHistory} series${cutoff === null ? '' : ` (backtest network: periods before ${dateOf(cutoff)})`}`);
    const encoding = encode([{ layout: base } as GlobalNetwork], featureNames, peers, g, -1);
    const t = await trainGlobal(g.conn, g.ingested, g.cfg.quality.gaps === 'zero' ? 0 : NaN, g.cfg.batchSize, g.task, g.plan, g.closures, codes, base, encoding, peers, cutoff, dateOf, gc, g.stop);
    const made = [t.final, ...(t.backtest ? [t.backtest] : [])].map((n) => ({ ...n, dir: writeNetwork(g.out, n.network, n.record) }));
    current = t.final.network;
    backtest = t.backtest?.network ?? null;
    trained = { networks: made, seconds: t.seconds };
    g.info(`global: ${current.version} trained in ${t.seconds.toFixed(1)} s (${t.final.record.rows} windows, ${t.final.record.backend})`);
  }
  const final = current;
  const others = [...loaded.values()].filter((n) => n.version !== final.version && n.version !== backtest?.version);
  const networks = [final, ...(backtest ? [backtest] : []), ...others];
  const task = encode(networks, featureNames, peers, g, backtest ? 1 : -1);
  const prior = await levelsAt(g.conn, g.ingested.lastT + 1, current.layout.recent, codes);
  const N = networks.length;
  const count = g.keys.store.length;
  const slots = new Int32Array(count * N * 3);
  const priors = new Float64Array(count);
  for (let sid = 0; sid < count; sid++) {
    networks.forEach((n, k) => slots.set(codes.slots(n.layout, sid), (sid * N + k) * 3));
    priors[sid] = prior.predict(g.keys.store[sid], g.keys.sku[sid], codes.category(g.keys.sku[sid]));
  }
  return {
    task,
    current: final,
    trained,
    forBatch: (firstSid, n) => ({ slots: slots.slice(firstSid * N * 3, (firstSid + n) * N * 3), prior: priors.slice(firstSid, firstSid + n), peer: peers.index.slice(firstSid, firstSid + n) }),
    record: () => ({
      summary: {
        network: final.version,
        backtest_network: backtest?.version ?? null,
        dir: `models/${final.version}`,
        trained: trained !== null,
        ...(trained ? { training: trained.networks.map((n) => n.record), seconds: trained.seconds } : {}),
        networks: networks.map((n) => n.version),
      },
      trained: (trained?.networks ?? []).map((n) => ({ version: n.network.version, dir: n.dir, record: n.record })),
    }),
  };
}

function isCandidate(task: SeriesTask): boolean {
  return Object.values(task.candidates).some((names) => names.includes('global'));
}

/**
 * What would use a network in this run, one phrase each (none: it neither trains nor loads one):
 * `global` a candidate, new items, live versions made with a network, or series too short for a
 * backtest (cold start) when the run has a network anyway (`registered`) or enough of them are
 * short to be worth training one (`models.global.coldStartShare`): a handful of short series
 * get the local models' rule rather than a minute of training.
 */
async function networkUses(g: GlobalInputs, named: number, registered: boolean): Promise<string[]> {
  const uses: string[] = [];
  if (isCandidate(g.task)) uses.push(`'global' is a candidate in models.candidates`);
  const fresh = g.keys.store.length - g.withHistory;
  if (fresh > 0) uses.push(`input.newItems lists ${fresh} new items`);
  if (named > 0) uses.push(`${named} live model versions were made with a global network`);
  const need = backtestMinimum(g.task);
  const short = (await queryOne<{ n: number }>(g.conn, `SELECT count(*)::INTEGER AS n FROM series_span WHERE ${Number.isFinite(need) ? `${g.ingested.lastT} - first_t + 1 < ${need}` : 'true'}`)).n;
  const share = g.withHistory > 0 ? short / g.withHistory : 0;
  if (short > 0 && (registered || uses.length > 0 || share >= g.cfg.models.global.coldStartShare)) {
    uses.push(`${short} of ${g.withHistory} series are too short for a backtest (cold start${registered || uses.length > 0 ? '' : `: at least models.global.coldStartShare ${g.cfg.models.global.coldStartShare}`})`);
  }
  return uses;
}

function baseLayout(g: GlobalInputs, codes: SeriesCodes, featureNames: readonly string[]): GlobalLayout {
  const days = g.ingested.freq.days;
  const sorted = (xs: Iterable<string>): string[] => [...new Set(xs)].filter((x) => x !== '').sort();
  const withHistory = (xs: readonly string[]): string[] => xs.slice(0, g.withHistory);
  return {
    stepDays: days,
    horizon: g.task.horizon,
    recent: RECENT[days],
    year: YEAR[days],
    epochDay: Math.round(Date.parse(`${g.ingested.firstDate}T00:00:00Z`) / 86400000),
    events: featureNames.filter((n) => n !== PROMO_FEATURE),
    // Only codes with history: a code first seen in a new item is "unknown" (slot 0), which
    // training teaches by hiding codes now and then; a slot of its own would be untrained.
    stores: sorted(withHistory(g.keys.store)),
    skus: sorted(withHistory(g.keys.sku)),
    categories: sorted(withHistory(g.keys.sku).map(codes.category)),
    logLevelMean: 0,
    logLevelSd: 1,
  };
}

/** What workers need to run `networks` on this run's grid and calendar features. */
function encode(networks: readonly GlobalNetwork[], featureNames: readonly string[], peers: PeerProfiles, g: GlobalInputs, backtest: number): GlobalTask {
  return {
    networks,
    backtest,
    eventSlots: networks.map((n) => {
      const slot = new Map(n.layout.events.map((name, i) => [name, i + 1]));
      return Int32Array.from(featureNames, (name) => slot.get(name) ?? 0);
    }),
    promoFeature: featureNames.indexOf(PROMO_FEATURE),
    lastT: g.ingested.lastT,
    horizon: g.task.horizon,
    peers: peers.data,
    peerLength: peers.length,
  };
}

function seriesCodes(keys: SeriesKeys, categories: ReadonlyMap<string, string>, withHistory: number): SeriesCodes {
  const vocab = new WeakMap<GlobalLayout, Map<string, number>[]>();
  const index = (xs: readonly string[]): Map<string, number> => new Map(xs.map((x, i) => [x, i + 1]));
  const category = (sku: string): string => categories.get(sku) ?? '';
  return {
    keys,
    withHistory,
    category,
    slots(layout, sid) {
      let v = vocab.get(layout);
      if (!v) { v = [index(layout.stores), index(layout.skus), index(layout.categories)]; vocab.set(layout, v); }
      return [v[0].get(keys.store[sid]) ?? 0, v[1].get(keys.sku[sid]) ?? 0, v[2].get(category(keys.sku[sid])) ?? 0];
    },
  };
}
