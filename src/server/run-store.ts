import { readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { z } from 'zod';
import { latestRunId, runsDir } from '../publish/atomic.js';
import { etagOfSha256, etagOfStat } from './etag.js';
import { HttpError } from './http-error.js';

/**
 * The published runs under OUT, read from disk on every request: a run that lands while the
 * server is up appears at once, and `latest` follows the link the publisher renames into
 * place. Only names from ARTIFACTS inside runs/<id>/ are ever opened, and each path is checked
 * again after symlinks are resolved, so nothing outside OUT can be served.
 */

/** The files of a run that may be served, with their media types. */
export const ARTIFACTS = {
  'manifest.json': 'application/json',
  'quality.json': 'application/json',
  'forecasts.csv': 'text/csv; charset=utf-8',
  'forecasts.parquet': 'application/vnd.apache.parquet',
  'series.csv': 'text/csv; charset=utf-8',
  'history.parquet': 'application/vnd.apache.parquet',
  'events.csv': 'text/csv; charset=utf-8',
  'rejects.csv': 'text/csv; charset=utf-8',
} as const;
export type ArtifactName = keyof typeof ARTIFACTS;

/** Shape of a run id: `<last data date>-<10 hex>`. */
export const RUN_ID = /^\d{8}-[0-9a-f]{10}$/;

export function isArtifact(name: string): name is ArtifactName {
  return Object.hasOwn(ARTIFACTS, name);
}

const FileEntry = z.looseObject({ bytes: z.number(), sha256: z.string(), rows: z.number().optional() });

/** What the server reads from manifest.json; other keys pass through untouched. */
const ManifestSchema = z.looseObject({
  run_id: z.string(),
  kind: z.string(),
  started_at: z.string(),
  finished_at: z.string(),
  duration_s: z.number(),
  code_version: z.string(),
  quantiles: z.array(z.number()),
  data: z.looseObject({
    frequency: z.string(),
    first_date: z.string(),
    last_date: z.string(),
    series: z.number(),
    horizon: z.number(),
  }),
  files: z.record(z.string(), FileEntry),
  rows: z.looseObject({ forecasts: z.number(), rejected: z.number() }),
  backtest: z.looseObject({ metric: z.string(), selected: z.looseObject({ mase: z.number().nullable().optional() }).nullable().optional() }).optional(),
  stage_seconds: z.record(z.string(), z.number()).optional(),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export interface Artifact {
  readonly name: ArtifactName;
  readonly path: string;
  readonly bytes: number;
  /** From the checksum the publisher recorded, or from size and time for a file it does not list. */
  readonly etag: string;
}

export class RunStore {
  readonly root: string;
  /** Parsed manifests by run id; a run folder is replaced only by an identical run, so the stat key suffices. */
  private readonly manifests = new Map<string, { key: string; manifest: Manifest }>();

  constructor(out: string) {
    this.root = resolve(out);
  }

  /** The manifest of every published run, newest first (by finish time). */
  list(): Manifest[] {
    let names: string[];
    try {
      names = readdirSync(runsDir(this.root));
    } catch {
      return [];
    }
    const runs: Manifest[] = [];
    for (const id of names) {
      const m = this.tryManifest(id);
      if (m) runs.push(m);
    }
    return runs.sort((a, b) => (a.finished_at === b.finished_at ? (a.run_id < b.run_id ? 1 : -1) : a.finished_at < b.finished_at ? 1 : -1));
  }

  latestId(): string | null {
    return latestRunId(this.root);
  }

  /** The concrete run id for an id or `latest`; 404 when there is no such run. */
  resolveId(id: string): string {
    const concrete = id === 'latest' ? this.latestId() : id;
    if (!concrete) throw new HttpError(404, 'no run has been published yet');
    if (!this.tryManifest(concrete)) throw new HttpError(404, `no run ${concrete}`);
    return concrete;
  }

  manifest(id: string): Manifest {
    const m = this.tryManifest(id);
    if (!m) throw new HttpError(404, `no run ${id}`);
    return m;
  }

  /** A servable file of a run; 404 when the run lacks it or it resolves outside OUT. */
  artifact(id: string, name: ArtifactName): Artifact {
    const found = this.safePath(join(runsDir(this.root), id, name));
    if (!found) throw new HttpError(404, `run ${id} has no ${name}`);
    const listed = this.manifest(id).files[name];
    const etag = listed && listed.bytes === found.bytes ? etagOfSha256(listed.sha256) : etagOfStat(found.bytes, found.mtimeMs);
    return { name, path: found.path, bytes: found.bytes, etag };
  }

  /** Like artifact(), but null for a file the run does not have (events.csv is optional). */
  optionalArtifact(id: string, name: ArtifactName): Artifact | null {
    return this.safePath(join(runsDir(this.root), id, name)) ? this.artifact(id, name) : null;
  }

  private tryManifest(id: string): Manifest | null {
    if (!RUN_ID.test(id)) return null;
    const file = this.safePath(join(runsDir(this.root), id, 'manifest.json'));
    if (!file) return null;
    const key = `${file.ino}:${file.mtimeMs}`;
    const hit = this.manifests.get(id);
    if (hit?.key === key) return hit.manifest;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file.path, 'utf8'));
    } catch {
      return null;
    }
    const parsed = ManifestSchema.safeParse(raw);
    if (!parsed.success) return null; // not a run this server understands: not listed
    this.manifests.set(id, { key, manifest: parsed.data });
    return parsed.data;
  }

  /** The real path of a regular file if it exists and lies inside OUT, else null. */
  private safePath(p: string): { path: string; bytes: number; ino: number; mtimeMs: number } | null {
    try {
      const real = realpathSync(p);
      const root = realpathSync(this.root);
      if (!real.startsWith(root + sep)) return null;
      const st = statSync(real);
      return st.isFile() ? { path: real, bytes: st.size, ino: st.ino, mtimeMs: st.mtimeMs } : null;
    } catch {
      return null;
    }
  }
}
