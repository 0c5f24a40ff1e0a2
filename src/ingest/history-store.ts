import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../errors.js';
import { sha256File } from './fingerprint.js';

/**
 * The output folder's own copy of the checked history (OUT/ingest/), so that a nightly run
 * checks only what the feed changed. It holds the rows as the row rules typed them, by
 * partition of PARTITION_DAYS days: a base file written by the last full ingest, delta files
 * with the partitions re-checked since, and manifest.json naming which file holds each
 * partition and its print (partition-prints.ts). Files are never changed once written: a run
 * writes new ones, then renames a new manifest over the old one, then removes what the new
 * manifest no longer names. A run killed at any point leaves a manifest whose files are all
 * there. Every read checks the binding (the code, DuckDB and the settings the rows depend on)
 * and each file's checksum; anything that does not match means a full ingest.
 */

const PartEntry = z.object({ rows: z.number(), h: z.string(), hp: z.string(), file: z.string() });
const Print = z.object({ rows: z.number(), h: z.string(), hp: z.string() });

export const StoreManifest = z.object({
  format: z.literal(1),
  binding: z.string(),
  /** Series ids of the base file: (sid, store_id, sku). */
  series: z.string(),
  /** Every file the store holds, with its sha256. */
  files: z.record(z.string(), z.string()),
  /** Latest day of any stored row: a row dated after it is a new day, not a restatement. */
  last_day: z.number(),
  /** A number per file, never reused: stored rows of a delta feed are told apart and kept in order by it. */
  seq: z.record(z.string(), z.number()),
  /** Where each stored partition's rows are, and their print. */
  parts: z.record(z.string(), PartEntry),
  /** The last feed read: its checksum and prints, so an unchanged file is not read again to print it. */
  feed: z.object({ sha256: z.string(), parts: z.record(z.string(), Print) }),
});
export type StoreManifest = z.infer<typeof StoreManifest>;

const MANIFEST = 'manifest.json';

export function historyStoreDir(out: string): string {
  return join(out, 'ingest');
}

/** What the stored rows depend on besides the feed itself, as one checksum. */
export function storeBinding(parts: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The manifest if it is there, matches `binding` and every file it names is intact; else why not. */
export async function openStore(dir: string, binding: string): Promise<{ manifest: StoreManifest } | { reason: string }> {
  const file = join(dir, MANIFEST);
  if (!existsSync(file)) return { reason: 'no stored history yet' };
  let manifest: StoreManifest;
  try {
    manifest = StoreManifest.parse(JSON.parse(readFileSync(file, 'utf8')));
  } catch (e) {
    return { reason: `the stored history's manifest is unreadable (${errorMessage(e).split('\n')[0].slice(0, 120)})` };
  }
  if (manifest.binding !== binding) return { reason: 'the code or the settings the checked rows depend on changed since the history was stored' };
  for (const [name, sha] of Object.entries(manifest.files)) {
    const path = join(dir, name);
    if (!existsSync(path) || (await sha256File(path)) !== sha) return { reason: `the stored file ${name} is missing or damaged` };
  }
  return { manifest };
}

/** A fresh file name in the store for a file of `kind` (base, delta, series). */
export function newStoreFile(dir: string, kind: string): string {
  mkdirSync(dir, { recursive: true });
  return `${kind}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.parquet`;
}

/**
 * Make `manifest` the store's: checksum the files it names that were just written, rename it
 * into place, then remove every other file of the folder (the replaced files, and any a killed
 * run left). Call under the output folder's lock.
 */
export async function commitStore(dir: string, manifest: Omit<StoreManifest, 'files'>, written: readonly string[], previous: StoreManifest | null): Promise<void> {
  const files: Record<string, string> = {};
  const names = new Set([manifest.series, ...Object.values(manifest.parts).map((p) => p.file)]);
  for (const name of names) files[name] = written.includes(name) ? await sha256File(join(dir, name)) : (previous?.files[name] ?? (await sha256File(join(dir, name))));
  const tmp = join(dir, `${MANIFEST}.tmp`);
  const seq = Object.fromEntries(Object.entries(manifest.seq).filter(([name]) => names.has(name)));
  writeFileSync(tmp, JSON.stringify({ ...manifest, seq, files }) + '\n');
  renameSync(tmp, join(dir, MANIFEST));
  for (const name of readdirSync(dir)) if (name !== MANIFEST && !names.has(name)) rmSync(join(dir, name), { force: true });
}

/** Remove files a killed or failed write left, keeping what the current manifest names. */
export function discardUnnamed(dir: string, keep: readonly string[]): void {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return;
  const named = new Set([MANIFEST, ...keep]);
  for (const name of readdirSync(dir)) if (!named.has(name)) rmSync(join(dir, name), { force: true });
}
