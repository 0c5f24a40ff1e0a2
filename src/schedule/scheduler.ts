import { Cron } from 'croner';
import type { ScheduleConfig } from '../config/schema.js';
import { errorMessage } from '../errors.js';

/**
 * The long-lived scheduler: fires the nightly run and the weekly retrain on their cron
 * times (in the stores' time zone), catches up a run missed while it was down, never
 * overlaps two jobs, and on stop lets a job in progress finish. Time comes from a Clock so
 * tests can drive weeks in milliseconds.
 */
export type JobKind = 'run' | 'retrain';

export interface Clock {
  now(): Date;
  /** Resolve after `ms`, or early (without error) when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

export interface SchedulerDeps {
  readonly clock: Clock;
  /** Do the job; a thrown error is logged and the schedule goes on. */
  execute(kind: JobKind, at: Date): Promise<void>;
  /** When a job of this kind last started (from the state database), or null. */
  lastStart(kind: JobKind): Promise<Date | null>;
  log(message: string): void;
}

/** How far back a missed job is looked for. */
const CATCH_UP_DAYS = 8;

export class Scheduler {
  private readonly crons: Record<JobKind, Cron>;

  constructor(cfg: ScheduleConfig, private readonly deps: SchedulerDeps) {
    const make = (pattern: string, key: string): Cron => {
      try {
        return new Cron(pattern, { timezone: cfg.timezone, paused: true });
      } catch (e) {
        throw new Error(`schedule.${key} "${pattern}": ${errorMessage(e)}`);
      }
    };
    this.crons = { run: make(cfg.run, 'run'), retrain: make(cfg.retrain, 'retrain') };
  }

  /** The next time each job fires after `from`. */
  next(kind: JobKind, from: Date): Date {
    const d = this.crons[kind].nextRun(from);
    if (!d) throw new Error(`schedule.${kind} never fires`);
    return d;
  }

  /** The last time a job should have fired at or before `now` (within the catch-up window). */
  previous(kind: JobKind, now: Date): Date | null {
    let t = this.crons[kind].nextRun(new Date(now.getTime() - CATCH_UP_DAYS * 86400000));
    let last: Date | null = null;
    while (t && t.getTime() <= now.getTime()) {
      last = t;
      t = this.crons[kind].nextRun(t);
    }
    return last;
  }

  /** A job that should have fired while nothing ran it: the retrain first, since it also forecasts. */
  async missed(now: Date): Promise<JobKind | null> {
    for (const kind of ['retrain', 'run'] as const) {
      const due = this.previous(kind, now);
      if (!due) continue;
      const last = await this.deps.lastStart(kind);
      if (!last || last.getTime() < due.getTime()) return kind;
    }
    return null;
  }

  /** Run until `signal` aborts; a job in progress when it does is allowed to finish. */
  async start(signal: AbortSignal): Promise<void> {
    const { clock, log } = this.deps;
    const catchUp = await this.missed(clock.now());
    if (catchUp) {
      log(`catching up a missed ${catchUp}`);
      await this.fire(catchUp);
    }
    while (!signal.aborted) {
      const now = clock.now();
      const upcoming = (['retrain', 'run'] as const).map((kind) => ({ kind, at: this.next(kind, now) })).sort((a, b) => a.at.getTime() - b.at.getTime());
      const { kind, at } = upcoming[0];
      log(`next: ${kind} at ${at.toISOString()}`);
      await clock.sleep(at.getTime() - now.getTime(), signal);
      if (signal.aborted) break;
      await this.fire(kind);
    }
    log('scheduler stopped');
  }

  private async fire(kind: JobKind): Promise<void> {
    const at = this.deps.clock.now();
    this.deps.log(`${kind} starting at ${at.toISOString()}`);
    try {
      await this.deps.execute(kind, at);
      this.deps.log(`${kind} finished`);
    } catch (e) {
      this.deps.log(`${kind} failed: ${errorMessage(e)}`);
    }
  }
}
