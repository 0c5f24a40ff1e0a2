import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { openDuckDb, queryRows } from '../db/duckdb.js';
import { sha256File } from '../ingest/fingerprint.js';
import { openSource } from '../ingest/source.js';
import { createForecastPool, workerThreads, forecastAll } from '../forecast/pool.js';
import type { BatchResult } from '../forecast/wire.js';
import { CalibrationBuilder } from '../backtest/conformal.js';
import { assembleBatch, sliceSeries, type SeriesSlice } from '../plan/batch-slices.js';
import { readRecords, RecordWriter } from '../plan/records.js';
import { assignShards, seriesCost } from '../plan/shards.js';
import { createStaging, discardStaging } from '../publish/atomic.js';
import { createOutputFolder } from '../publish/output-folder.js';
import { lockOutput } from '../publish/recover.js';
import { registryMark, seriesKey, shardAssignment, storeShardAssignment, withState } from '../registry/state.js';
import { codeVersion } from '../version.js';
import { calibrateSeries, type PlacedResult, type TaggedBatch } from './forecast-stage.js';
import { prepareRun } from './prepare.js';
import { finishRun, type RunSummary } from './finish.js';
import { inSeriesOrder } from './publish-stage.js';
import type { RunKind, RunPlan } from './run-plan.js';
import { silentEvents, timedStages, type RunEvents } from './events.js';
import { faultPoint } from './fault.js';
import { throwIfStopped } from './stop.js';
import { webhookSecretOf } from '../publish/notify.js';

/**
 * One run split across machines: `plan` does what needs the whole data set once (ingest, the
 * quality gates, calendars, closures, which series reuse a version, the run id) and writes
 * each shard's worker batches into OUT/plans/<id>/; each shard forecasts its batches on its own
 * machine and writes its results beside them; `publish` checks every shard is there and
 * consistent, then calibrates, writes, registers and publishes exactly as a run on one machine
 * does (finish.ts), so the files are the same bytes.
 *
 * OUT/plans/<id>/
 *   plan.json                 the RunPlan, the shard count, the registry it was planned on
 *   files/                    quality.json, rejects.csv, history.parquet, events.csv
 *   shards/<i>/batches.bin    the shard's worker batches (records.ts)
 *   shards/<i>/results.bin    its results, written by `run --plan <id> --shard i/N`
 *   shards/<i>/done.json      written last: plan, shard, series, results checksum, code version
 */

interface PlanFile {
  readonly planId: string;
  readonly shards: number;
  readonly codeVersion: string;
  /** registry/state.ts registryMark when planned. */
  readonly registry: string;
  /** Series per shard, and their estimated cost. */
  readonly series: readonly number[];
  readonly cost: readonly number[];
  readonly plan: RunPlan;
}

interface ShardDone {
  readonly planId: string;
  readonly shard: number;
  readonly shards: number;
  readonly series: number;
  readonly sha256: string;
  readonly codeVersion: string;
}

export interface PlanSummary {
  readonly planId: string;
  readonly kind: RunKind;
  readonly shards: number;
  readonly series: readonly number[];
  readonly cost: readonly number[];
  readonly dir: string;
  readonly seconds: number;
}

const plansDir = (out: string): string => join(out, 'plans');
const planDir = (out: string, id: string): string => join(plansDir(out), id);
const shardDir = (out: string, id: string, k: number): string => join(planDir(out, id), 'shards', String(k));

/** `shelfcast plan`: prepare a run for `shards` machines. Holds the output folder's lock while it plans. */
export async function planRun(cfg: Config, kind: RunKind, shards: number, userEvents: RunEvents = silentEvents, now = new Date(), newState = false, fullIngest = false): Promise<PlanSummary> {
  if (!(Number.isInteger(shards) && shards >= 1)) throw new UserError(`--shards must be a whole number ≥ 1, got ${shards}`);
  const started = Date.now();
  const { events, stages } = timedStages(userEvents);
  const out = resolve(cfg.out);
  webhookSecretOf(cfg);
  createOutputFolder(out);
  const lock = await lockOutput(out, 'plan', (m) => events.info(m));
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  let dir: string | null = null;
  let done = false;
  try {
    const stage = (name: string): void => { faultPoint(name); lock.assertHeld(); events.stage(name); };
    const prepared = await prepareRun({
      cfg, kind, now, started, out, conn, source: openSource(cfg.input), newState, fullIngest, stage, info: (m) => events.info(m), stages,
      // Shards would each need the networks and the peer profiles; not built yet (README "Scale out").
      refuseGlobal: 'a sharded run (plan, shards, publish) cannot use the global network',
      stagingFor: (runId) => {
        dir = planDir(out, runId);
        // Planning the same run again replaces the plan (and the shards' parts of the old one).
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(join(dir, 'files'), { recursive: true });
        return join(dir, 'files');
      },
    });
    const { plan } = prepared;
    const planFolder = dir as unknown as string;
    stage('plan');
    const [previous, mark] = await withState(out, async (db) => [await shardAssignment(db, shards), await registryMark(db)] as const);
    const cost = await seriesCosts(conn, plan);
    const prev = Int32Array.from(plan.ledger.store, (s, sid) => previous.get(seriesKey(s, plan.ledger.sku[sid])) ?? -1);
    const shardOf = assignShards(cost, prev, shards);
    const writers = Array.from({ length: shards }, (_, k) => { mkdirSync(shardDir(out, plan.runId, k), { recursive: true }); return new RecordWriter(join(shardDir(out, plan.runId, k), 'batches.bin')); });
    const pending: { slices: SeriesSlice[]; sids: number[]; index: number }[] = Array.from({ length: shards }, () => ({ slices: [], sids: [], index: 0 }));
    const flush = async (k: number): Promise<void> => {
      const p = pending[k];
      if (p.slices.length === 0) return;
      await writers[k].write({ batch: assembleBatch(p.index++, p.slices), tag: Int32Array.from(p.sids) });
      p.slices = [];
      p.sids = [];
    };
    const series = new Array<number>(shards).fill(0);
    const load = new Array<number>(shards).fill(0);
    const bottoms = plan.ledger.store.length;
    // The hierarchy's aggregates come after every series: their histories are whole only then.
    let aggregateShard: Int32Array | null = null;
    for await (const { batch, tag } of prepared.batches) {
      if (!aggregateShard && tag.length > 0 && tag[0] >= bottoms) {
        // A worker batch holds series alike in what they carry: an aggregate reuses no version.
        for (let k = 0; k < shards; k++) await flush(k);
        aggregateShard = assignShards(prepared.aggregateCosts(), new Int32Array(plan.erp.aggregates).fill(-1), shards);
      }
      for (let i = 0; i < tag.length; i++) {
        const agg = tag[i] >= bottoms;
        const k = agg ? (aggregateShard as Int32Array)[tag[i] - bottoms] : shardOf[tag[i]];
        pending[k].slices.push(sliceSeries(batch, i));
        pending[k].sids.push(tag[i]);
        series[k]++;
        if (!agg) load[k] += cost[tag[i]];
        if (pending[k].slices.length >= cfg.batchSize) await flush(k);
      }
    }
    for (let k = 0; k < shards; k++) { await flush(k); await writers[k].close(); }
    const file: PlanFile = { planId: plan.runId, shards, codeVersion: codeVersion(), registry: mark, series, cost: load.map((x) => Math.round(x)), plan: { ...prepared.complete(), stageSeconds: stages() } };
    writeFileSync(join(planFolder, 'plan.json.tmp'), JSON.stringify(file));
    // Written last: a plan folder without plan.json is an interrupted plan.
    renameSync(join(planFolder, 'plan.json.tmp'), join(planFolder, 'plan.json'));
    done = true;
    return { planId: plan.runId, kind, shards, series, cost: file.cost, dir: planFolder, seconds: (Date.now() - started) / 1000 };
  } finally {
    if (!done && dir) rmSync(dir, { recursive: true, force: true });
    conn.closeSync();
    await lock.release();
  }
}

/** The cost of every series (shards.ts), from a cheap look at the cleaned history. */
async function seriesCosts(conn: DuckDBConnection, plan: RunPlan): Promise<Float64Array> {
  const rows = await queryRows<{ sid: number; periods: number; nz: number }>(conn, `
    SELECT sid, (max(t) - min(t) + 1)::INTEGER AS periods, count(*) FILTER (u > 0)::INTEGER AS nz FROM clean GROUP BY sid`);
  const cost = new Float64Array(plan.ledger.store.length);
  // Smooth and erratic series (a sale in most periods: ADI < 1.32, Syntetos–Boylan) carry the backtests' cost.
  for (const r of rows) cost[r.sid] = seriesCost(r.nz > 0 && r.periods / r.nz < 1.32, r.periods, plan.task.maxHistory, plan.ledger.reused[r.sid]);
  return cost;
}

/**
 * A plan id, or `latest`: the newest complete plan in the folder, for deployments whose steps
 * cannot pass the id along (three Kubernetes Jobs applied one after another).
 */
export function resolvePlanId(out: string, planId: string): string {
  if (planId !== 'latest') return planId;
  const dir = plansDir(out);
  const plans = existsSync(dir) ? readdirSync(dir).filter((d) => existsSync(join(dir, d, 'plan.json'))) : [];
  if (plans.length === 0) throw new UserError(`no plan in ${dir}; run \`shelfcast plan\` first`);
  return plans.map((d) => ({ d, t: statSync(join(dir, d, 'plan.json')).mtimeMs })).sort((a, b) => b.t - a.t || (a.d < b.d ? 1 : -1))[0].d;
}

function readPlan(out: string, id: string): PlanFile {
  const planId = resolvePlanId(out, id);
  const file = join(planDir(out, planId), 'plan.json');
  if (!existsSync(file)) throw new UserError(`no plan ${planId} in ${plansDir(out)}${existsSync(plansDir(out)) ? ` (plans there: ${readdirSync(plansDir(out)).join(', ') || 'none'})` : ''}; run \`shelfcast plan\` first`);
  const plan = JSON.parse(readFileSync(file, 'utf8')) as PlanFile;
  if (plan.codeVersion !== codeVersion()) throw new UserError(`plan ${planId} was made by ${plan.codeVersion}, this is ${codeVersion()}: every step of a sharded run must run the same code; plan again`);
  return plan;
}

/** "i/N" (or JOB_COMPLETION_INDEX and JOB_COMPLETION_COUNT, as a Kubernetes Indexed Job sets them): the shard, counted from 0. */
export function parseShard(text: string | undefined, env: NodeJS.ProcessEnv = process.env): { shard: number; shards: number } {
  const spec = text ?? (env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETION_COUNT !== undefined ? `${env.JOB_COMPLETION_INDEX}/${env.JOB_COMPLETION_COUNT}` : undefined);
  const m = spec ? /^(\d+)\/(\d+)$/.exec(spec.trim()) : null;
  if (!m) throw new UserError(`--shard must be i/N (0 ≤ i < N), or set JOB_COMPLETION_INDEX and JOB_COMPLETION_COUNT; got ${spec ?? 'neither'}`);
  const shard = Number(m[1]);
  const shards = Number(m[2]);
  if (!(shards >= 1 && shard < shards)) throw new UserError(`--shard ${spec}: the shard must be 0 … ${shards - 1}`);
  return { shard, shards };
}

/**
 * `shelfcast run --plan <id> --shard i/N`: forecast one shard's series and write its results
 * into the plan. No lock: each shard writes only its own folder, and nothing is visible to
 * readers until `publish`. A rerun replaces the shard's results.
 */
export async function runShard(cfg: Config, planId: string, spec: { shard: number; shards: number }, events: RunEvents = silentEvents, stop?: AbortSignal): Promise<{ series: number; seconds: number }> {
  const started = Date.now();
  const out = resolve(cfg.out);
  const plan = readPlan(out, planId);
  if (spec.shards !== plan.shards) throw new UserError(`plan ${plan.planId} has ${plan.shards} shards, not ${spec.shards}`);
  const dir = shardDir(out, plan.planId, spec.shard);
  // The old result is void from the start, so that a publish never pairs it with a new one.
  rmSync(join(dir, 'done.json'), { force: true });
  const pool = createForecastPool(workerThreads(cfg.threads));
  const halt = (): void => { void pool.destroy(); };
  stop?.addEventListener('abort', halt, { once: true });
  const tmp = join(dir, 'results.bin.tmp');
  const writer = new RecordWriter(tmp);
  let series = 0;
  try {
    events.stage('forecast');
    const total = plan.series[spec.shard];
    events.progress(0, total);
    await forecastAll(pool, readRecords<TaggedBatch>(join(dir, 'batches.bin')), plan.plan.task, async (result, sids) => {
      await writer.write({ result, sids });
      series += sids.length;
      events.progress(series, total);
      faultPoint('shard-batch');
    }, plan.plan.calendarTask ? { calendar: plan.plan.calendarTask } : {});
    await writer.close();
    throwIfStopped(stop);
    const results = join(dir, 'results.bin');
    renameSync(tmp, results);
    const done: ShardDone = { planId: plan.planId, shard: spec.shard, shards: plan.shards, series, sha256: await sha256File(results), codeVersion: codeVersion() };
    writeFileSync(join(dir, 'done.json.tmp'), JSON.stringify(done));
    renameSync(join(dir, 'done.json.tmp'), join(dir, 'done.json'));
    return { series, seconds: (Date.now() - started) / 1000 };
  } catch (e) {
    throwIfStopped(stop);
    throw e;
  } finally {
    stop?.removeEventListener('abort', halt);
    rmSync(tmp, { force: true });
    await pool.destroy();
  }
}

/**
 * `shelfcast publish --plan <id>`: check that every shard finished, for this plan, with this
 * code, and that its results are the bytes it reported; then finish the run as one machine
 * would, and record the shard assignment for the next plan. A shard missing or inconsistent
 * stops it with one line naming the shard, and nothing is published.
 */
export async function publishPlan(cfg: Config, planId: string, userEvents: RunEvents = silentEvents, stop?: AbortSignal): Promise<RunSummary> {
  const { events, stages } = timedStages(userEvents);
  const out = resolve(cfg.out);
  const lock = await lockOutput(out, 'publish', (m) => events.info(m));
  let secret: string | null = null;
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  let staging: string | null = null;
  let registered = false;
  try {
    events.stage('check');
    const plan = readPlan(out, planId);
    secret = webhookSecretOf(plan.plan.config);
    for (let k = 0; k < plan.shards; k++) await checkShard(out, plan, k);
    const mark = await withState(out, registryMark);
    if (mark !== plan.registry) throw new UserError(`the registry changed since plan ${plan.planId} was made (another run was published or a version pinned); plan again`);
    events.stage('merge');
    const results: PlacedResult[] = [];
    const shardOf = new Int32Array(plan.plan.ledger.store.length);
    for (let k = 0; k < plan.shards; k++) {
      for await (const r of readRecords<{ result: BatchResult; sids: Int32Array }>(join(shardDir(out, plan.planId, k), 'results.bin'))) {
        results.push(r);
        for (const sid of r.sids) shardOf[sid] = k;
      }
    }
    // The calibration sees the series in series order, as on one machine.
    const calibration = new CalibrationBuilder(plan.plan.task.horizon, plan.plan.task.windows);
    for (const { result, i, sid } of inSeriesOrder(results)) if (sid < plan.plan.ledger.store.length) calibrateSeries(calibration, result, i, plan.plan.task);
    staging = createStaging(out, plan.planId);
    const files = join(planDir(out, plan.planId), 'files');
    for (const f of readdirSync(files)) copyFileSync(join(files, f), join(staging, f));
    const summary = await finishRun({
      out, conn, staging, threads: workerThreads(cfg.threads), stages, secret, info: (m) => events.info(m),
      stage: (name) => { throwIfStopped(stop); lock.assertHeld(); events.stage(name); },
      beforeRegistering: () => { throwIfStopped(stop); lock.assertHeld(); },
      registered: () => { registered = true; staging = null; },
    }, plan.plan, results, calibration);
    await withState(out, (db) => storeShardAssignment(db, plan.shards, plan.plan.ledger.store, plan.plan.ledger.sku, shardOf));
    rmSync(planDir(out, plan.planId), { recursive: true, force: true });
    return summary;
  } finally {
    if (staging && !registered) discardStaging(staging);
    conn.closeSync();
    await lock.release();
  }
}

async function checkShard(out: string, plan: PlanFile, k: number): Promise<void> {
  const dir = shardDir(out, plan.planId, k);
  const where = `shard ${k}/${plan.shards} of plan ${plan.planId}`;
  if (!existsSync(join(dir, 'done.json'))) throw new UserError(`${where} has not finished (no ${join(dir, 'done.json')}): run \`shelfcast run --plan ${plan.planId} --shard ${k}/${plan.shards}\`; nothing published`);
  const done = JSON.parse(readFileSync(join(dir, 'done.json'), 'utf8')) as ShardDone;
  if (done.planId !== plan.planId || done.shard !== k || done.shards !== plan.shards) throw new UserError(`${where}: its results are for shard ${done.shard}/${done.shards} of plan ${done.planId}; nothing published`);
  if (done.codeVersion !== plan.codeVersion) throw new UserError(`${where} ran ${done.codeVersion}, the plan ${plan.codeVersion}; nothing published`);
  if (done.series !== plan.series[k]) throw new UserError(`${where} forecast ${done.series} series of ${plan.series[k]}; nothing published`);
  if ((await sha256File(join(dir, 'results.bin'))) !== done.sha256) throw new UserError(`${where}: results.bin does not match its checksum; rerun the shard; nothing published`);
}
