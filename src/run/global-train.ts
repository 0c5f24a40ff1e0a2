import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { GlobalConfig } from '../config/schema.js';
import { exactSum, queryRows } from '../db/duckdb.js';
import type { Ingested } from '../ingest/index.js';
import { readSeriesBatches, type SeriesKeys } from '../ingest/series-reader.js';
import type { CalendarPlan } from '../calendars/plan.js';
import type { ClosurePlan } from '../calendars/closure-plan.js';
import type { SeriesTask } from '../forecast/types.js';
import { seriesInput, type GlobalTask } from '../forecast/global-batch.js';
import { SeriesFeatures } from '../models/global/features.js';
import { networkShape, type GlobalLayout } from '../models/global/layout.js';
import type { GlobalNetwork } from '../models/global/network.js';
import { PriorLevels } from '../models/global/prior-level.js';
import { seededRandom } from '../models/global/random.js';
import { samplingPlan, TrainingSetBuilder, type TrainingSet } from '../models/global/samples.js';
import type { TrainRequest } from '../forecast/train-network.js';
import { networkVersion, type TrainingRecord } from '../registry/networks.js';
import type { PeerProfiles } from './global-peers.js';

/** What the training pass needs to know about the run's series. */
export interface SeriesCodes {
  readonly keys: SeriesKeys;
  /** Category of each SKU ('' when unknown). */
  readonly category: (sku: string) => string;
  /** Series with history (the first ids); the rest are new items. */
  readonly withHistory: number;
  /** Store, SKU and category slots of series `sid` in a network's vocabulary (0: a code it does not know). */
  slots(layout: GlobalLayout, sid: number): [number, number, number];
}

/** Recent mean of every series with history as of period `at` (exclusive), for the prior level (an exact sum: the same bits on every run). */
export async function levelsAt(conn: DuckDBConnection, at: number, recent: number, codes: SeriesCodes): Promise<PriorLevels> {
  const rows = await queryRows<{ sid: number; level: number }>(conn, `SELECT sid, ${exactSum('u')}::DOUBLE / count(*) AS level FROM clean WHERE t >= ${at - recent} AND t < ${at} AND NOT unobserved AND NOT closed GROUP BY sid`);
  const level = new Float64Array(codes.withHistory).fill(NaN);
  for (const r of rows) level[r.sid] = r.level;
  return new PriorLevels(Array.from(level, (l, sid) => ({ store: codes.keys.store[sid], sku: codes.keys.sku[sid], category: codes.category(codes.keys.sku[sid]), logLevel: l > 0 ? Math.log(l) : NaN })));
}

/**
 * Sample the training sets, one per cutoff, in one pass: every series streamed from DuckDB
 * (with its calendar features and closures, exactly as the forecast stage will see it), windows
 * drawn from the periods before each cutoff.
 */
async function trainingSets(conn: DuckDBConnection, ingested: Ingested, gapValue: number, batchSize: number, task: SeriesTask, plan: CalendarPlan | null, closures: ClosurePlan, codes: SeriesCodes, base: GlobalLayout, encoding: GlobalTask, peers: PeerProfiles, cutoffs: readonly number[], cfg: GlobalConfig): Promise<{ set: TrainingSet; layout: GlobalLayout; origins: number }[]> {
  const priors = await Promise.all(cutoffs.map((c) => levelsAt(conn, c, base.recent, codes)));
  const builders = cutoffs.map((_, k) => new TrainingSetBuilder(base, samplingPlan(codes.withHistory, task.horizon, cfg.samples), seededRandom(cfg.seed + k)));
  for await (const read of readSeriesBatches(conn, { lastT: ingested.lastT, gapValue, batchSize })) {
    const { batch, firstSid } = read;
    const events = plan?.forBatch(read, codes.keys, ingested.lastT);
    const closed = closures.forBatch(read, codes.keys);
    for (let i = 0; i < batch.offsets.length - 1; i++) {
      const sid = firstSid + i;
      const y = batch.values.subarray(batch.offsets[i], batch.offsets[i + 1]);
      const calendar = events ? { t: events.t.subarray(events.offsets[i], events.offsets[i + 1]), f: events.f.subarray(events.offsets[i], events.offsets[i + 1]) } : undefined;
      const input = seriesInput(encoding, 0, codes.slots(base, sid), NaN, peers.index[sid], y, calendar, closed.t.subarray(closed.offsets[i], closed.offsets[i + 1]));
      const features = new SeriesFeatures(input, base, task.horizon);
      builders.forEach((b, k) => b.add(features, cutoffs[k] - input.t0, priors[k].leaveOneOut(sid)));
    }
  }
  return builders.map((b) => {
    const built = b.build();
    return { ...built, origins: built.set.shared.length / built.set.sharedWidth };
  });
}

/** The compiled training worker (see forecast/pool.ts for why it always comes from dist/). */
function workerFile(): string {
  const sibling = fileURLToPath(new URL('../../workers/train-global.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL('../../dist/workers/train-global.js', import.meta.url));
}

/** Train in a worker thread of its own; `stop` terminates it. */
function trainInWorker(req: TrainRequest, stop?: AbortSignal): Promise<{ weights: Float32Array; losses: number[]; backend: string }> {
  const s = req.set;
  const transfer = [s.shared, s.ids, s.origin, s.step, s.events, s.target, s.weight].map((a) => a.buffer as ArrayBuffer);
  const worker = new Worker(workerFile(), { workerData: req, transferList: transfer });
  const kill = (): void => { void worker.terminate(); };
  stop?.addEventListener('abort', kill, { once: true });
  return new Promise<{ weights: Float32Array; losses: number[]; backend: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the global-model training worker exited (code ${code}) before it finished`)));
  }).finally(() => { stop?.removeEventListener('abort', kill); void worker.terminate(); });
}

export interface TrainedNetwork {
  readonly network: GlobalNetwork;
  readonly record: TrainingRecord;
}

export interface TrainedNetworks {
  /** Trained on every period: the final forecasts (the local models are refitted on the full history too). */
  readonly final: TrainedNetwork;
  /** Trained on the periods before the first backtest origin: the backtest windows' forecasts (null: no backtest span). */
  readonly backtest: TrainedNetwork | null;
  /** Wall time of sampling and training (kept out of the records: an artifact is the same bytes on a rerun). */
  readonly seconds: number;
}

/**
 * Train the run's networks, each in a worker thread of its own (at the same time: the forecast
 * pool is idle meanwhile), and name each by its content. The backtest network never sees a
 * period a backtest window is scored on; the final one learns from all of them, as the local
 * models' final fits do.
 */
export async function trainGlobal(conn: DuckDBConnection, ingested: Ingested, gapValue: number, batchSize: number, task: SeriesTask, plan: CalendarPlan | null, closures: ClosurePlan, codes: SeriesCodes, base: GlobalLayout, encoding: GlobalTask, peers: PeerProfiles, cutoff: number | null, dateOf: (t: number) => string, cfg: GlobalConfig, stop?: AbortSignal): Promise<TrainedNetworks> {
  const started = Date.now();
  const end = ingested.lastT + 1;
  const cutoffs = cutoff === null ? [end] : [end, cutoff];
  const sets = await trainingSets(conn, ingested, gapValue, batchSize, task, plan, closures, codes, base, encoding, peers, cutoffs, cfg);
  const nets = await Promise.all(sets.map(async ({ set, layout, origins }, k) => {
    if (set.target.length === 0) throw new Error(`no training windows before ${dateOf(cutoffs[k])}`);
    const shape = networkShape(layout, cfg.hidden[0], cfg.hidden[1]);
    const rows = set.target.length;
    const out = await trainInWorker({ set, shape, settings: { epochs: cfg.epochs, batch: cfg.batch, learningRate: cfg.learningRate, seed: cfg.seed + k } }, stop);
    const network: GlobalNetwork = { version: networkVersion(layout, shape, out.weights), layout, shape, weights: out.weights };
    const record: TrainingRecord = { role: k === 0 ? 'final' : 'backtest', backend: out.backend, cutoff_date: dateOf(cutoffs[k]), rows, origins, series: codes.withHistory, epochs: cfg.epochs, seed: cfg.seed + k, losses: out.losses.map((l) => Number(l.toPrecision(6))) };
    return { network, record };
  }));
  const backtest = nets[1] ?? null;
  const final = { ...nets[0], record: { ...nets[0].record, ...(backtest ? { backtest_network: backtest.network.version } : {}) } };
  return { final, backtest, seconds: (Date.now() - started) / 1000 };
}
