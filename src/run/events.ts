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
