import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import type { BatchRequest } from './batch.js';
import { batchBuffers, type BatchResult, type SeriesBatch } from './wire.js';
import type { SeriesTask } from './types.js';

/**
 * The compiled worker. From `dist/` it sits beside this module's tree; when this module runs
 * from TypeScript sources (tests), the worker still comes from `dist/`, which `npm test` builds.
 */
function workerFile(): string {
  const sibling = fileURLToPath(new URL('../../workers/forecast.js', import.meta.url));
  if (existsSync(sibling)) return sibling;
  return fileURLToPath(new URL('../../dist/workers/forecast.js', import.meta.url));
}

/** Worker threads: the configured number (`threads`), else one per core. */
export function workerThreads(configured: number | undefined): number {
  return configured ?? availableParallelism();
}

export function createForecastPool(threads: number): Piscina {
  return new Piscina({ filename: workerFile(), minThreads: threads, maxThreads: threads, idleTimeout: 1000 });
}

export interface Positioned<T> {
  readonly batch: SeriesBatch;
  readonly tag: T;
}

/**
 * Send batches to the pool as transfers and hand results to `deliver` in batch order, so the
 * output is the same whatever the thread count. At most `maxInFlight` batches are with the
 * workers and at most `maxWaiting` finished ones wait for an earlier, slower batch: that
 * bounds memory however many series there are, while one slow batch does not idle the other
 * threads (which it would if a finished batch held its slot until delivered).
 */
export async function forecastAll<T>(
  pool: Piscina,
  batches: AsyncIterable<Positioned<T>>,
  task: SeriesTask,
  deliver: (result: BatchResult, tag: T) => Promise<void> | void,
  /** What every batch of the run shares besides the task: calendar settings, global networks. */
  shared: Pick<BatchRequest, 'calendar' | 'global'> = {},
  maxInFlight = pool.options.maxThreads * 2,
  maxWaiting = 64,
): Promise<void> {
  const done = new Map<number, { result: BatchResult; tag: T }>();
  let next = 0;
  let inFlight = 0;
  let failure: unknown = null;
  let wake: (() => void) | null = null;
  const signal = (): void => { const w = wake; wake = null; w?.(); };
  const running = new Set<Promise<void>>();

  const drain = async (): Promise<void> => {
    for (let ready = done.get(next); ready; ready = done.get(next)) {
      done.delete(next);
      next++;
      await deliver(ready.result, ready.tag);
    }
  };
  let delivering: Promise<void> = Promise.resolve();

  for await (const { batch, tag } of batches) {
    while ((inFlight >= maxInFlight || done.size >= maxWaiting) && !failure) await new Promise<void>((r) => { wake = r; });
    if (failure) break;
    inFlight++;
    const req: BatchRequest = { batch, task, ...shared };
    const p = (pool.run(req, { transferList: batchBuffers(batch) }) as Promise<BatchResult>)
      .then((result) => {
        inFlight--;
        done.set(result.index, { result, tag });
        signal();
        delivering = delivering.then(drain).then(signal);
        return delivering;
      }, (e: unknown) => { inFlight--; throw e; })
      .catch((e: unknown) => { failure ??= e; })
      .finally(() => { running.delete(p); signal(); });
    running.add(p);
  }
  await Promise.all([...running]);
  await delivering;
  if (failure) throw failure;
}
