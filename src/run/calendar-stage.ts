import type { DuckDBConnection } from '@duckdb/node-api';
import type { Config } from '../config/schema.js';
import type { Ingested } from '../ingest/index.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import type { SeriesTask } from '../forecast/types.js';
import type { PeriodSplit } from '../backtest/report.js';
import { CalendarPlan, type PriorRow } from '../calendars/plan.js';
import { ClosurePlan } from '../calendars/closure-plan.js';
import { readFuture, type FutureInputs } from '../ingest/future.js';
import { resolve } from 'node:path';
import type { PeriodGrid } from '../calendars/features.js';

function grid(cfg: Config, ingested: Ingested, task: SeriesTask): PeriodGrid {
  return { firstDate: ingested.firstDate, stepDays: ingested.freq.days, periods: ingested.lastT + 1 + task.horizon, history: ingested.lastT + 1, weekLabel: cfg.calendars.weekLabel };
}

/** The longest seasonal cycle the models learn, when the data spans two of them. */
function learnedCycle(ingested: Ingested, task: SeriesTask): number | null {
  const longest = Math.max(...task.seasons.map(Math.round));
  return longest >= 2 && ingested.lastT + 1 >= 2 * longest ? longest : null;
}

/**
 * Build the run's calendar plan (or null when calendars are off) with pooled effects: the
 * `stored` ones of an earlier run, or estimated from the history before the backtest span, so
 * backtest scores are not flattered by effects learned from the periods they are measured on.
 */
export async function calendarStage(conn: DuckDBConnection, cfg: Config, ingested: Ingested, keys: SeriesKeys, task: SeriesTask, stored?: readonly PriorRow[] | null, future: FutureInputs | null = null): Promise<CalendarPlan | null> {
  if (!cfg.calendars.enabled) return null;
  const plan = CalendarPlan.build(cfg.calendars, grid(cfg, ingested, task), keys, learnedCycle(ingested, task));
  if (future) plan.useFuture(future);
  if (stored) {
    plan.usePriors(stored);
    return plan;
  }
  const span = task.windows * task.horizon;
  const cutoff = ingested.lastT + 1 - span > task.horizon ? ingested.lastT + 1 - span : ingested.lastT + 1;
  await plan.estimatePriors(conn, keys, cutoff);
  return plan;
}

/**
 * Holiday and event periods of each series' store, for backtest scores split into event
 * periods and the rest. Built from the calendars even when effects are switched off, so runs
 * with and without calendar effects are scored on the same periods.
 */
export function eventSplit(cfg: Config, ingested: Ingested, keys: SeriesKeys, task: SeriesTask): PeriodSplit {
  const plan = CalendarPlan.build(cfg.calendars, grid(cfg, ingested, task), keys, null);
  const byStore = new Map<string, Set<number>>();
  return {
    lastT: ingested.lastT,
    isEvent(sid, t) {
      const store = keys.store[sid];
      let set = byStore.get(store);
      if (!set) { set = plan.eventPeriods(store); byStore.set(store, set); }
      return set.has(t);
    },
  };
}

/** Every store's closures for the run: learned from its history, and what the input says. */
export async function closureStage(conn: DuckDBConnection, cfg: Config, ingested: Ingested, keys: SeriesKeys, task: SeriesTask, plan: CalendarPlan | null, future: FutureInputs | null = null): Promise<ClosurePlan> {
  return ClosurePlan.build(conn, keys, { firstDate: ingested.firstDate, stepDays: ingested.freq.days }, ingested.lastT, task.horizon, cfg.closures, plan, future);
}

/** The known future inputs of `input.future`, mapped to series and horizon periods. */
export async function futureStage(conn: DuckDBConnection, cfg: Config, ingested: Ingested, task: SeriesTask): Promise<FutureInputs | null> {
  return readFuture(conn, { ...cfg.input, future: cfg.input.future ? resolve(cfg.input.future) : undefined }, { firstDate: ingested.firstDate, stepDays: ingested.freq.days, endT: ingested.lastT, horizon: task.horizon });
}
