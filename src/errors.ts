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

/** `e` with the file it concerns: Node leaves the path out of write errors (a full disk), and the operator needs it. */
export function withPath(e: unknown, path: string): unknown {
  const err = e as NodeJS.ErrnoException;
  if (err instanceof Error && err.path === undefined) err.path = path;
  return e;
}

/** Failures of the machine rather than of shelfcast, which the operator fixes: disk full, read-only, no permission. */
const ENVIRONMENT_CODES: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
};
/** The same failures as DuckDB words them (it reports the OS error in its message, not as a code). */
const DUCKDB_ENVIRONMENT = /No space left on device|Disk quota exceeded|Read-only file system|Permission denied/;

/**
 * One line naming the file and what is wrong with the machine, when `e` is such a failure;
 * null for anything else (a bug, to be reported with its stack).
 */
export function environmentProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  const reason = typeof err?.code === 'string' ? ENVIRONMENT_CODES[err.code] : undefined;
  if (reason) return `cannot ${err.syscall ?? 'write'} ${err.path ?? '(unknown file)'}: ${reason} (${err.code})`;
  const message = errorMessage(e).split('\n')[0];
  return DUCKDB_ENVIRONMENT.test(message) ? message.replace(/^(FATAL |IO )?Error: /, '') : null;
}
