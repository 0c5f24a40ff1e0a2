import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { acquireLock, type Lock } from '../registry/lock.js';
import { STATE_FILE, publishedRun, withState } from '../registry/state.js';
import { LATEST_TMP, latestRunId, promote, runDir, stagingRoot, switchLatest } from './atomic.js';
import { readManifest, RunManifest } from './manifest.js';

/** What recovery reads of a staged manifest: which run it is and the sizes of its files. */
const StagedManifest = RunManifest.pick({ run_id: true, files: true });

/**
 * Take the output folder's lock and put right what a killed or failed command left, before
 * writing anything. The rule: the run the registry says was published (state `published`,
 * written in the transaction that registered it) is the one `latest` shows. A command killed
 * after registering its run but before switching `latest` is finished here, from its staging
 * folder if it had not been renamed into runs/ yet; one killed earlier registered nothing, and
 * its staging is removed. Under the lock no other command is writing, so every staging folder
 * and temporary link left in OUT belongs to a dead command.
 */
export async function lockOutput(out: string, command: string, log: (message: string) => void = () => {}): Promise<Lock> {
  const lock = await acquireLock(out, command);
  try {
    await recoverOutput(out, log);
    return lock;
  } catch (e) {
    await lock.release();
    throw e;
  }
}

async function recoverOutput(out: string, log: (message: string) => void): Promise<void> {
  const registered = existsSync(join(out, STATE_FILE)) ? await withState(out, publishedRun) : null;
  // An older registry has no `published` row: then `latest` itself says which run it meant.
  const target = registered ?? latestRunId(out);
  if (target && !existsSync(runDir(out, target))) {
    const copy = completeStaging(out, target);
    if (copy) {
      promote(out, copy, target);
      log(`recovered run ${target} from ${copy}: it was registered by a command that did not finish publishing it`);
    }
  }
  if (target && existsSync(runDir(out, target)) && latestRunId(out) !== target) {
    switchLatest(out, target);
    log(`pointed latest at run ${target}, the run last registered`);
  }
  removeLeftovers(out, log);
}

/** A staging copy of `runId` whose manifest (written last) is there and whose files all have the sizes it lists. */
function completeStaging(out: string, runId: string): string | null {
  for (const name of list(stagingRoot(out))) {
    if (!name.startsWith(`${runId}-`)) continue;
    const dir = join(stagingRoot(out), name);
    try {
      const manifest = readManifest(dir, StagedManifest);
      if (manifest?.run_id === runId && Object.entries(manifest.files).every(([file, f]) => statSync(join(dir, file)).size === f.bytes)) return dir;
    } catch {
      // No manifest yet, or a file missing: this copy was still being written when its command died.
    }
  }
  return null;
}

function removeLeftovers(out: string, log: (message: string) => void): void {
  const staged = list(stagingRoot(out));
  if (staged.length) log(`removed ${staged.length} staging folder(s) left by commands that did not finish: ${staged.join(', ')}`);
  rmSync(stagingRoot(out), { recursive: true, force: true });
  for (const name of list(out)) if (name.startsWith(LATEST_TMP)) rmSync(join(out, name), { force: true });
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
