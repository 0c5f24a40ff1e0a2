import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { openDuckDb, whileStreaming } from '../db/duckdb.js';
import { openSource } from '../ingest/source.js';
import { createForecastPool, workerThreads } from '../forecast/pool.js';
import { createStaging, discardStaging } from '../publish/atomic.js';
import { lockOutput } from '../publish/recover.js';
import { createOutputFolder } from '../publish/output-folder.js';
import { webhookSecretOf } from '../publish/notify.js';
import { forecastStage } from './forecast-stage.js';
import { prepareRun } from './prepare.js';
import { finishRun, type RunSummary } from './finish.js';
import type { RunKind } from './run-plan.js';
import { silentEvents, timedStages, type RunEvents } from './events.js';
import { faultPoint } from './fault.js';
import { throwIfStopped } from './stop.js';

export type { RunKind } from './run-plan.js';
export type { RunSummary } from './finish.js';

export interface RunOptions {
  /** Start a new registry although runs are published (the operator lost state.duckdb; see registry/lost-state.ts). */
  readonly newState?: boolean;
  /** Check the whole feed, not only what changed since the stored history (`run --full`). */
  readonly fullIngest?: boolean;
  /** Aborted on SIGTERM/SIGINT: the run stops at its next safe point (see the function's notes). */
  readonly stop?: AbortSignal;
}

/**
 * One forecasting run on this machine: prepare (ingest and check the data, decide what is
 * reused, calendars), forecast every series on the worker pool, then finish (calibrate, write
 * the files, register, publish atomically). Holds the output folder's lock throughout. Throws
 * a UserError (nothing published) on bad input, and a RunStopped when `stop` aborts before
 * the run is registered; once it is registered, the run is published whatever `stop` says,
 * since `latest` must show the run the registry has.
 */
export async function runForecast(cfg: Config, userEvents: RunEvents = silentEvents, now = new Date(), kind: RunKind = 'run', options: RunOptions = {}): Promise<RunSummary> {
  const stop = options.stop;
  const started = Date.now();
  const { events, stages } = timedStages(userEvents);
  const out = resolve(cfg.out);
  // A webhook secret named but not set stops the run before any work: no notice goes out unsigned.
  const secret = webhookSecretOf(cfg);
  createOutputFolder(out);
  const lock = await lockOutput(out, kind, (m) => events.info(m));
  let staging: string | null = null;
  let registered = false;
  const conn = await openDuckDb(':memory:', { memory_limit: cfg.memoryLimit });
  const threads = workerThreads(cfg.threads);
  const pool = createForecastPool(threads);
  // Stopping fails the query or batch in progress, so the run reaches its error path now
  // rather than at the end of a stage that may take minutes.
  const halt = (): void => { conn.interrupt(); void pool.destroy(); };
  stop?.addEventListener('abort', halt, { once: true });
  const stage = (name: string): void => {
    faultPoint(name);
    throwIfStopped(stop);
    lock.assertHeld();
    events.stage(name);
  };
  const info = (m: string): void => events.info(m);
  try {
    const prepared = await prepareRun({
      cfg, kind, now, started, out, conn, source: openSource(cfg.input), newState: options.newState === true, fullIngest: options.fullIngest, stage, info, stages, stop,
      stagingFor: (runId) => (staging = createStaging(out, runId)),
    });
    const { plan } = prepared;
    stage('forecast');
    // Series ids: those with history, then new items (plan.ledger), then the hierarchy's aggregates.
    const series = plan.ledger.store.length;
    const { results, calibration } = await whileStreaming(conn, cfg.memoryLimit, () =>
      forecastStage(pool, prepared.batches, plan.task, plan.calendarTask, events, series, series + plan.erp.aggregates, prepared.global?.task));
    return await finishRun({
      out, conn, staging: prepared.staging, threads, stage, stages, info, secret,
      beforeRegistering: () => { throwIfStopped(stop); lock.assertHeld(); },
      registered: () => { registered = true; staging = null; },
    }, prepared.complete(), results, calibration);
  } catch (e) {
    // Before the run is registered, what fails once it was stopping (an interrupted query, a
    // destroyed worker) is the stop, and what fails once its lease was lost (the new holder
    // removes this run's staging) is the lost lease.
    if (!registered) {
      throwIfStopped(stop);
      lock.assertHeld();
    }
    throw e;
  } finally {
    stop?.removeEventListener('abort', halt);
    if (staging && !registered) discardStaging(staging);
    await pool.destroy();
    conn.closeSync();
    await lock.release();
  }
}
