import type { ArtifactName } from '../publish/artifacts.js';
import type { RunManifest } from '../publish/manifest.js';
import type { Artifact, RunStore } from '../publish/run-store.js';
import { HttpError } from './http-error.js';

/** The published runs as the routes ask for them: what is not there is a 404 that names it. */

/** The concrete run id for an id or `latest`. */
export function resolveRun(store: RunStore, id: string): string {
  const concrete = id === 'latest' ? store.latestId() : id;
  if (!concrete) throw new HttpError(404, 'no run has been published yet');
  if (!store.manifest(concrete)) throw new HttpError(404, `no run ${concrete}`);
  return concrete;
}

export function runManifest(store: RunStore, id: string): RunManifest {
  const m = store.manifest(id);
  if (!m) throw new HttpError(404, `no run ${id}`);
  return m;
}

export function runArtifact(store: RunStore, id: string, name: ArtifactName): Artifact {
  const a = store.artifact(id, name);
  if (!a) throw new HttpError(404, `run ${id} has no ${name}`);
  return a;
}
