import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withPath } from '../errors.js';
import { sha256File } from '../ingest/fingerprint.js';

export interface FileEntry {
  readonly bytes: number;
  readonly sha256: string;
  readonly rows?: number;
}

/** Size and checksum of each named file in `dir`, in the order given. */
export async function describeFiles(dir: string, files: Record<string, number | undefined>): Promise<Record<string, FileEntry>> {
  const out: Record<string, FileEntry> = {};
  for (const [name, rows] of Object.entries(files)) {
    const p = join(dir, name);
    out[name] = { bytes: statSync(p).size, sha256: await sha256File(p), ...(rows === undefined ? {} : { rows }) };
  }
  return out;
}

export function writeJson(path: string, value: unknown): void {
  try {
    writeFileSync(path, JSON.stringify(value, null, 2) + '\n');
  } catch (e) {
    throw withPath(e, path);
  }
}
