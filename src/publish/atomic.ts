import { chmodSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync, existsSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Publishing is two renames: a run is written into a private staging folder, renamed to
 * `runs/<run_id>` when complete, and then the `latest` link is replaced by renaming a new link
 * over it. A reader sees either the old run or the new one, never a half-written file, and
 * nothing renames a published run folder away, so `latest` never dangles.
 */

export function runsDir(out: string, kind = 'runs'): string {
  return join(out, kind);
}

export function runDir(out: string, runId: string, kind = 'runs'): string {
  return join(runsDir(out, kind), runId);
}

/** Where runs are written before they are published; everything in it is private to the lock holder. */
export function stagingRoot(out: string): string {
  return join(out, '.staging');
}

/** A fresh staging folder inside the output folder (same filesystem, so renames are atomic). */
export function createStaging(out: string, runId: string): string {
  const staging = stagingRoot(out);
  mkdirSync(staging, { recursive: true });
  return mkdtempSync(join(staging, `${runId}-`));
}

/** Move a finished staging folder to <kind>/<run_id> (default runs/), unless that run is already there. */
export function promote(out: string, staging: string, runId: string, kind = 'runs'): string {
  const target = runDir(out, runId, kind);
  mkdirSync(runsDir(out, kind), { recursive: true });
  if (existsSync(target)) {
    // Same run id means same inputs, settings, code and model versions, so the same files: the
    // published copy stays, since swapping it out even for a moment leaves `latest` dangling.
    discardStaging(staging);
  } else {
    chmodSync(staging, 0o755); // mkdtemp makes it private; a published run is for everyone who can read OUT
    renameSync(staging, target);
    removeIfEmpty(dirname(staging));
  }
  return target;
}

/** The prefix of the temporary links switchLatest renames over `latest`. */
export const LATEST_TMP = '.latest-';

/** Point `latest` at runs/<run_id> atomically (relative link, so the folder can move). */
export function switchLatest(out: string, runId: string): void {
  const link = join(out, 'latest');
  const tmp = join(out, `${LATEST_TMP}${process.pid}-${Date.now()}`);
  symlinkSync(join('runs', runId), tmp, 'dir');
  renameSync(tmp, link);
}

/** The run id `latest` points at, if any. */
export function latestRunId(out: string): string | null {
  try {
    return readlinkSync(join(out, 'latest')).split(/[\\/]/).pop() ?? null;
  } catch {
    return null;
  }
}

export function discardStaging(staging: string): void {
  rmSync(staging, { recursive: true, force: true });
  removeIfEmpty(dirname(staging));
}

function removeIfEmpty(dir: string): void {
  try {
    if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  } catch {
    // Another run may be staging at the same moment; leaving the folder is harmless.
  }
}
