import { UserError } from '../errors.js';

/** A run stopped on request (SIGTERM, SIGINT) at a safe point. */
export class RunStopped extends UserError {}

/** Before the run registers anything, a stop discards it: nothing is published. */
export function throwIfStopped(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RunStopped(`stopped by ${String(signal.reason)}; nothing published`);
}

/**
 * SIGTERM and SIGINT abort `signal` (its reason is the signal's name) so a run can stop at
 * its next safe point; the handlers go with the first signal, so a second one kills at once.
 */
export function abortOnSignals(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const dispose = (): void => { for (const s of signals) process.off(s, onSignal); };
  function onSignal(name: NodeJS.Signals): void {
    dispose();
    controller.abort(name);
  }
  for (const s of signals) process.on(s, onSignal);
  return { signal: controller.signal, dispose };
}
