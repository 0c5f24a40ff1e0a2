import { join } from 'node:path';
import { UserError } from '../errors.js';
import { NEW_STATE_HINT, STATE_FILE } from '../registry/state.js';
import { RunStore } from './run-store.js';

/**
 * A registry that has recorded no run while runs/ holds published ones was deleted or replaced
 * by an empty file. Carrying on would restart every series at v1, so that one version number
 * names two different models across the published runs: the operator decides (`acknowledged`
 * is `--new-state`).
 */
export function assertStateNotLost(out: string, registeredRuns: number, acknowledged: boolean): void {
  if (acknowledged || registeredRuns > 0) return;
  const published = new RunStore(out).ids().length;
  if (published === 0) return;
  throw new UserError(`${join(out, STATE_FILE)} is missing or empty, but ${published} published run${published === 1 ? ' is' : 's are'} in ${join(out, 'runs')}: restore it from a backup, or ${NEW_STATE_HINT}`);
}
