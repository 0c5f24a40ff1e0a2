/**
 * An error the user can act on: bad input, bad config, a missing file. The CLI prints its
 * message as one line and exits non-zero; anything else is a bug and gets a stack trace.
 */
export class UserError extends Error {
  override readonly name = 'UserError';
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
