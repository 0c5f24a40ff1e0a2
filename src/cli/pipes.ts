/**
 * A reader that goes away (`shelfcast run | head -0`, a log shipper restarted) makes the next
 * write to stdout or stderr fail with EPIPE. Unhandled, that error kills the process wherever
 * it is, in the middle of a run, with the output folder's lock still held. The command
 * instead carries on without that stream: the run finishes (or fails) as it would have, its
 * lock is released, and the exit code says how the work went, not whether anyone read it.
 */
export function survivePipeReadersLeaving(streams: readonly NodeJS.WriteStream[] = [process.stdout, process.stderr]): void {
  for (const stream of streams) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED') {
        // Later writes to the stream go nowhere instead of failing again.
        stream.write = ((_chunk: unknown, encoding?: unknown, cb?: unknown) => {
          const done = typeof encoding === 'function' ? encoding : cb;
          if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
          return true;
        }) as typeof stream.write;
        return;
      }
      throw e;
    });
  }
}
