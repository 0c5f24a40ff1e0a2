/**
 * A test hook: with SHELFCAST_FAULT_AT=<point>, the process signals itself when it reaches that
 * point: SIGKILL by default (no handler or `finally` runs, as with a power cut or the OOM
 * killer), or SHELFCAST_FAULT_SIGNAL (e.g. SIGTERM, to stop a run at an exact point). The
 * fault-injection tests use it to show that a run killed or stopped anywhere leaves the output
 * folder as the README promises. Points: the stage names (ingest, calendars, forecast, publish)
 * where each stage begins, `registered` (the registry committed), `promoted` (the run folder
 * renamed into runs/) and `switched` (`latest` points at it). A process that is pid 1 of its
 * namespace cannot kill itself this way (the kernel shields a namespace's init); tests kill
 * such a process from outside.
 */
export function faultPoint(point: string): void {
  if (process.env.SHELFCAST_FAULT_AT === point) process.kill(process.pid, (process.env.SHELFCAST_FAULT_SIGNAL ?? 'SIGKILL') as NodeJS.Signals);
}
