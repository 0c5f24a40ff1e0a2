import { createHash } from 'node:crypto';
import { canonicalJson } from '../config/load.js';
import type { Config } from '../config/schema.js';

/**
 * The settings that change what is forecast. Where files go, how many threads, how big the
 * batches are and how the API is served must not change a single byte of output, so they are
 * not part of a run's identity.
 */
export function forecastingSettings(cfg: Config): Omit<Config, 'out' | 'threads' | 'batchSize' | 'server'> {
  const { out: _out, threads: _threads, batchSize: _batch, server: _server, ...rest } = cfg;
  return rest;
}

/**
 * A run id is content-addressed: `<last data date>-<hash of input, settings, code>`. The same
 * inputs, config and code give the same id, and the same bytes; any change gives a new id.
 */
export function makeRunId(lastDate: string, inputSha256: string, cfg: Config, code: string): string {
  const h = createHash('sha256').update(inputSha256).update('\0').update(canonicalJson(forecastingSettings(cfg))).update('\0').update(code).digest('hex');
  return `${lastDate.replaceAll('-', '')}-${h.slice(0, 10)}`;
}
