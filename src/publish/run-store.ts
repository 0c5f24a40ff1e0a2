import { existsSync, readFileSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { type ArtifactName, MANIFEST } from './artifacts.js';
import { latestRunId, runDir, runsDir } from './atomic.js';
import { readManifest, RUN_ID, type RunManifest } from './manifest.js';

/**
 * The published runs under OUT, as their readers see them: the server, monitor, explain and the
 * run's own checks. Read from disk on every call, so a run that lands meanwhile appears at once
 * and `latest` follows the link the publisher renames into place. Only registered artifact
 * names inside runs/<id>/ are ever opened, and each path is checked again after symlinks are
 * resolved, so nothing outside OUT is read.
 */

/** A file of a published run. */
export interface Artifact {
  readonly name: ArtifactName;
  readonly path: string;
  readonly bytes: number;
  readonly mtimeMs: number;
  /** The checksum the manifest lists for it, if it still has that size (null: not listed). */
  readonly sha256: string | null;
}

export class RunStore {
  readonly root: string;
  /** Parsed manifests by run id; a run folder is replaced only by an identical run, so the stat key suffices. */
  private readonly manifests = new Map<string, { key: string; manifest: RunManifest }>();

  constructor(out: string) {
    this.root = resolve(out);
  }

  /** Every folder in runs/ named like a run that holds a manifest, whether or not this version can read it. */
  ids(): string[] {
    let names: string[];
    try {
      names = readdirSync(runsDir(this.root));
    } catch {
      return [];
    }
    return names.filter((id) => RUN_ID.test(id) && existsSync(join(runDir(this.root, id), MANIFEST)));
  }

  /** The manifest of every published run this version reads, newest first (by finish time). */
  list(): RunManifest[] {
    const runs = this.ids().flatMap((id) => this.manifest(id) ?? []);
    return runs.sort((a, b) => (a.finished_at === b.finished_at ? (a.run_id < b.run_id ? 1 : -1) : a.finished_at < b.finished_at ? 1 : -1));
  }

  latestId(): string | null {
    return latestRunId(this.root);
  }

  /** The manifest of a run; null when there is no such run or its manifest is not one this version reads. */
  manifest(id: string): RunManifest | null {
    if (!RUN_ID.test(id)) return null;
    const file = this.safePath(join(runDir(this.root, id), MANIFEST));
    if (!file) return null;
    const key = `${file.ino}:${file.mtimeMs}`;
    const hit = this.manifests.get(id);
    if (hit?.key === key) return hit.manifest;
    const manifest = readManifest(runDir(this.root, id));
    if (manifest) this.manifests.set(id, { key, manifest });
    return manifest;
  }

  /** A file of a run; null when the run lacks it (events.csv is optional) or it resolves outside OUT. */
  artifact(id: string, name: ArtifactName): Artifact | null {
    const manifest = this.manifest(id);
    const found = manifest && this.safePath(join(runDir(this.root, id), name));
    if (!found) return null;
    const listed = manifest.files[name];
    return { name, path: found.path, bytes: found.bytes, mtimeMs: found.mtimeMs, sha256: listed && listed.bytes === found.bytes ? listed.sha256 : null };
  }

  /** What the last `shelfcast monitor` found (OUT/monitoring.json, monitor/monitor.ts), or null before the first. */
  monitoring(): unknown {
    const found = this.safePath(join(this.root, 'monitoring.json'));
    if (!found) return null;
    try {
      return JSON.parse(readFileSync(found.path, 'utf8')) as unknown;
    } catch {
      return null;
    }
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
