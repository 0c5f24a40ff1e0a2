/**
 * Promise.all that, when one task fails, waits for the others to finish before rethrowing the
 * first error. The caller's cleanup closes the DuckDB connection a sibling task may still be
 * querying, and closing it mid-query deadlocks the process instead of reporting the error.
 */
export async function allSettledOrThrow<T extends readonly unknown[]>(tasks: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(tasks);
  for (const r of results) if (r.status === 'rejected') throw r.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
