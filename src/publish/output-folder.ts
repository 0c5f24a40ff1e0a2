import { mkdirSync } from 'node:fs';
import { UserError, errorMessage } from '../errors.js';

/**
 * Create the output folder (and its parents). Node reports a recursive mkdir under a
 * read-only parent as ENOENT, which reads like a bug, so the failure is said in plain words.
 */
export function createOutputFolder(out: string): void {
  try {
    mkdirSync(out, { recursive: true });
  } catch (e) {
    throw new UserError(`cannot create output folder ${out}: check that its parent exists and is writable (${errorMessage(e)})`);
  }
}
