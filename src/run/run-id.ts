import { createHash } from 'node:crypto';
import { canonicalJson } from '../config/load.js';
import type { Config } from '../config/schema.js';

/**
 * The settings that change what is forecast. Where files go, how many threads, how big the
 * batches are, how the API is served, when jobs are scheduled and how many old runs are kept
 * must not change a single byte of output, so they are not part of a run's identity.
 */
export function forecastingSettings(cfg: Config): Omit<Config, 'out' | 'threads' | 'batchSize' | 'memoryLimit' | 'server' | 'schedule' | 'lifecycle' | 'retention' | 'webhook'> {
  const { out: _out, threads: _threads, batchSize: _batch, memoryLimit: _memory, server: _server, schedule: _schedule, lifecycle: _lifecycle, retention: _retention, webhook: _webhook, ...rest } = cfg;
  return rest;
}

/**
 * A run id is content-addressed: `<last data date>-<hash of input, settings, code, lineage>`,
 * where lineage says which registered model versions the run starts from. The same inputs,
 * config, code and registry state give the same id, and the same bytes; any change gives a
 * new id.
 */
export function makeRunId(lastDate: string, inputSha256: string, cfg: Config, code: string, lineage = ''): string {
  const h = createHash('sha256').update(inputSha256).update('\0').update(canonicalJson(forecastingSettings(cfg))).update('\0').update(code).update('\0').update(lineage).digest('hex');
  return `${lastDate.replaceAll('-', '')}-${h.slice(0, 10)}`;
}
