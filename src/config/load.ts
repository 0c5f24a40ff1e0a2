import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { UserError, errorMessage } from '../errors.js';
import { CheckedConfigSchema, type Config } from './schema.js';

/** A value from a command-line flag, applied over the file at a dotted key such as `input.path`. */
export type Overrides = Record<string, unknown>;

function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const k of keys.slice(0, -1)) {
    const next = node[k];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[k] = {};
    node = node[k] as Record<string, unknown>;
  }
  node[keys[keys.length - 1]] = value;
}

function getPath(source: unknown, path: readonly PropertyKey[]): unknown {
  let node = source;
  for (const k of path) {
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<PropertyKey, unknown>)[k];
  }
  return node;
}

/** One line per problem: the key, the value found, and what is allowed. */
function describe(issue: z.core.$ZodIssue, raw: unknown, origin: string, flags: Set<string>): string {
  const key = issue.path.join('.') || '(top level)';
  const where = flags.has(key) ? `flag for ${key}` : `${origin}: ${key}`;
  if (issue.code === 'unrecognized_keys') {
    return `${origin}: unknown key ${issue.keys.map((k) => (issue.path.length ? `${key}.${k}` : k)).join(', ')} (check the spelling; see shelfcast --help)`;
  }
  const value = getPath(raw, issue.path);
  const shown = value === undefined ? 'missing' : JSON.stringify(value);
  return `${where} = ${shown}: ${issue.message.replace(/^Invalid (input|option): /, '')}`;
}

/** Parse and validate a config object; throws a UserError naming every bad key. */
export function parseConfig(raw: unknown, origin = 'config', overrides: Overrides = {}): Config {
  const merged: Record<string, unknown> = structuredClone((raw ?? {}) as Record<string, unknown>);
  if (typeof merged !== 'object' || Array.isArray(merged)) throw new UserError(`${origin}: expected a JSON object at the top level`);
  // `"$schema": "…/shelfcast.schema.json"` lets an editor check the file; it is not a setting.
  delete merged.$schema;
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) setPath(merged, k, v);
  const parsed = CheckedConfigSchema.safeParse(merged);
  if (!parsed.success) {
    const flags = new Set(Object.keys(overrides).filter((k) => overrides[k] !== undefined));
    throw new UserError(`invalid configuration: ${parsed.error.issues.map((i) => describe(i, merged, origin, flags)).join('; ')}`);
  }
  const cfg = parsed.data;
  const levels = [...new Set([...cfg.quantiles, 0.5])].sort((a, b) => a - b);
  return { ...cfg, quantiles: levels };
}

/**
 * The config file a command reads: `--config`, else SHELFCAST_CONFIG, else `./shelfcast.json`
 * when there is one, else none (every key at its default).
 */
export function findConfigFile(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | undefined {
  if (flag) return flag;
  if (env.SHELFCAST_CONFIG) return env.SHELFCAST_CONFIG;
  const local = join(cwd, 'shelfcast.json');
  return existsSync(local) ? local : undefined;
}

/**
 * Read the config file (found as findConfigFile says) and apply flag overrides. The output
 * folder is `--out`, else SHELFCAST_OUT, else the file's `out`.
 */
export function loadConfig(flag: string | undefined, overrides: Overrides = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const file = findConfigFile(flag, env);
  if (overrides.out === undefined && env.SHELFCAST_OUT) overrides = { ...overrides, out: env.SHELFCAST_OUT };
  if (!file) return parseConfig({}, 'defaults', overrides);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserError(`cannot read config file ${file}: ${errorMessage(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new UserError(`config file ${file} is not valid JSON: ${errorMessage(e)}`);
  }
  return parseConfig(raw, file, overrides);
}

/** A stable hash of the effective configuration, for the manifest and the run id. */
export function configHash(cfg: object): string {
  return createHash('sha256').update(canonicalJson(cfg)).digest('hex');
}

/** JSON with object keys sorted, so equal configs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}
