import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { UnusableInput, type QualityReport } from '../ingest/quality.js';
import type { RegisteredSource } from '../ingest/source.js';
import { writeRejects } from '../ingest/rejects.js';
import { sha256File } from '../ingest/fingerprint.js';
import { artifactPath } from '../publish/artifacts.js';
import { writeJson } from '../publish/manifest.js';
import { codeVersion } from '../version.js';
import { makeRunId } from './run-id.js';

/**
 * A run stopped by its data keeps what it found in `OUT/failed/<id>/`: rejects.csv and, when
 * the rules got that far, quality.json. Returns the rejects file's path.
 */
export async function keepFailed(conn: DuckDBConnection, source: RegisteredSource, dir: string, report: QualityReport | null): Promise<string> {
  mkdirSync(dir, { recursive: true });
  if (report) writeJson(artifactPath(dir, 'quality.json'), report);
  const rejects = artifactPath(dir, 'rejects.csv');
  await writeRejects(conn, source, rejects);
  return rejects;
}

/** An input none of whose rows is usable still leaves its rejects.csv, under `OUT/failed/unusable-<hash>/`, and says where. */
export async function failUnusable(e: unknown, conn: DuckDBConnection, out: string, inputPath: string, cfg: Config): Promise<never> {
  if (!(e instanceof UnusableInput)) throw e;
  const id = makeRunId('unusable', await sha256File(inputPath), cfg, codeVersion(), 'rejected');
  const rejects = await keepFailed(conn, e.source, join(out, 'failed', id), null);
  throw new UserError(`${e.message}; nothing published; see ${rejects}`);
}
