/** How a long command reports what it is doing, without knowing whether a terminal is attached. */
export interface RunEvents {
  /** A stage begins (e.g. "ingest", "forecast", "publish"). */
  stage(name: string): void;
  /** Progress within the current stage. */
  progress(done: number, total: number): void;
  /** A line worth telling the user. */
  info(message: string): void;
}

export const silentEvents: RunEvents = { stage() {}, progress() {}, info() {} };

/** Wraps events to time each stage, for the manifest and the benchmarks. */
export function timedStages(inner: RunEvents): { events: RunEvents; stages: () => Record<string, number> } {
  const seconds: Record<string, number> = {};
  let current: { name: string; at: number } | null = null;
  const close = (): void => {
    if (current) seconds[current.name] = (seconds[current.name] ?? 0) + (Date.now() - current.at) / 1000;
  };
  return {
    events: {
      stage(name) {
        close();
        current = { name, at: Date.now() };
        inner.stage(name);
      },
      progress: (d, t) => inner.progress(d, t),
      info: (m) => inner.info(m),
    },
    stages: () => {
      close();
      current = current ? { name: current.name, at: Date.now() } : null;
      return { ...seconds };
    },
  };
}
