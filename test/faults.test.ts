import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/duckdb.js';
import { withState } from '../src/registry/state.js';
import { tempDir } from './helpers/tmp.js';

/**
 * Fault injection, with real processes and signals: runs killed (SIGKILL) at every stage
 * boundary, stopped (SIGTERM/SIGINT), frozen past their lease, run side by side in separate pid
 * namespaces, and finishing while another program holds state.duckdb open. Whatever happens,
 * `latest` shows a complete run that the registry has, and nothing left behind blocks the next run.
 */

const CLI = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const DEMO = fileURLToPath(new URL('../data/demo/sales.csv', import.meta.url));
const HOLD_STATE = fileURLToPath(new URL('./helpers/hold-state.mjs', import.meta.url));
/** A killed run's lease expires in 2 s (the shortest allowed), so reruns do not wait long. */
const SHORT_LEASE = { SHELFCAST_LOCK_LEASE_SECONDS: '2' };

interface Exit { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
interface Proc {
  readonly pid: number;
  readonly done: Promise<Exit>;
  /** Resolves once the output so far matches, fails if the process ends first. */
  waitFor(pattern: RegExp): Promise<void>;
  /** Signal the process and everything it started (an `unshare` and the run inside it). */
  kill(signal: NodeJS.Signals): void;
}

function start(cmd: readonly string[], env: Record<string, string> = {}): Proc {
  const child = spawn(cmd[0], cmd.slice(1), { env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  const check = (): void => {
    for (const w of [...watchers]) {
      if (!w.pattern.test(stdout + stderr)) continue;
      watchers.splice(watchers.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout.on('data', (d: Buffer) => { stdout += d; check(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d; check(); });
  const done = new Promise<Exit>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return {
    pid: child.pid!,
    done,
    waitFor: (pattern) => new Promise<void>((resolve, reject) => {
      watchers.push({ pattern, resolve });
      check();
      void done.then((e) => reject(new Error(`exited (${e.code ?? e.signal}) before printing ${pattern}:\n${e.stderr}`)));
    }),
    kill: (signal) => process.kill(-child.pid!, signal),
  };
}

const shelfcast = (...args: string[]): string[] => [process.execPath, CLI, ...args];
/** As in a container: the command is pid 1 of a new pid namespace. */
const inNamespace = (cmd: string[]): string[] => ['unshare', '--pid', '--fork', ...cmd];
const run = (cmd: readonly string[], env: Record<string, string> = {}): Promise<Exit> => start(cmd, env).done;
const runCommand = (input: string, out: string, ...flags: string[]): string[] => shelfcast('run', '-i', input, '-o', out, '--threads', '1', ...flags);

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');
const runIdOf = (stdout: string): string => /^(?:run|retrain) (\S+):/m.exec(stdout)![1];

async function registeredRuns(out: string): Promise<string[]> {
  const rows = await withState(out, (db) => queryRows<{ run_id: string }>(db, `SELECT DISTINCT run_id FROM runs ORDER BY run_id`));
  return rows.map((r) => r.run_id);
}

/** What every reader may rely on: `latest` is a complete run (files as its manifest lists them) that the registry has. */
async function expectPublished(out: string): Promise<string> {
  const id = readlinkSync(join(out, 'latest')).split('/').pop()!;
  const dir = join(out, 'runs', id);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { run_id: string; files: Record<string, { sha256: string }> };
  expect(manifest.run_id).toBe(id);
  expect(Object.keys(manifest.files)).toContain('forecasts.csv');
  for (const [name, f] of Object.entries(manifest.files)) expect(sha256(join(dir, name)), name).toBe(f.sha256);
  expect(await registeredRuns(out)).toContain(id);
  return id;
}

/** Nothing a finished or stopped command leaves may block or confuse the next one. */
function expectNoLeftovers(out: string): void {
  expect(readdirSync(out).filter((n) => n.startsWith('.'))).toEqual([]);
}

const oneLine = (stderr: string): string[] => stderr.split('\n').filter((l) => l.startsWith('shelfcast:'));

let dir: string;
let template: string;
let first: string;
/** The demo data with one more day for every series: a new run id. */
let next: string;
/** Three copies of the demo stores: a run that takes a few seconds, to be caught holding the lock. */
let big: string;

beforeAll(async () => {
  dir = tempDir('shelfcast-faults-');
  template = join(dir, 'template');
  const demo = readFileSync(DEMO, 'utf8').trimEnd().split('\n');
  next = join(dir, 'next.csv');
  writeFileSync(next, [...demo, ...demo.filter((l) => l.includes(',2025-12-31,')).map((l) => l.replace(',2025-12-31,', ',2026-01-01,'))].join('\n') + '\n');
  big = join(dir, 'big.csv');
  writeFileSync(big, [demo[0], ...[1, 2, 3].flatMap((k) => demo.slice(1).map((l) => `C${k}-${l}`))].join('\n') + '\n');
  const r = await run(runCommand(DEMO, template, '--quiet'));
  expect(r.code, r.stderr).toBe(0);
  first = runIdOf(r.stdout);
});

// Seventeen output folders with their state files come to some 60 MB.
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let copies = 0;
/** An output folder with one published run (`first`), as a nightly job finds it. */
function outFolder(): string {
  const out = join(dir, `out-${++copies}`);
  cpSync(template, out, { recursive: true, verbatimSymlinks: true });
  return out;
}

describe.concurrent('a run killed (SIGKILL) at a stage boundary', () => {
  const points = ['ingest', 'calendars', 'forecast', 'publish', 'registered', 'promoted', 'switched'] as const;
  it.each(points)('at %s: latest stays a complete registered run, and the rerun repairs and publishes', async (point) => {
    const out = outFolder();
    const killed = await run(runCommand(next, out, '--quiet'), { ...SHORT_LEASE, SHELFCAST_FAULT_AT: point });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const committed = ['registered', 'promoted', 'switched'].includes(point);
    expect((await expectPublished(out)) === first).toBe(point !== 'switched');
    expect((await registeredRuns(out)).length).toBe(committed ? 2 : 1);

    // The rerun waits out the dead run's lease, finishes or removes what it left, and publishes.
    const rerun = await run(runCommand(next, out), SHORT_LEASE);
    expect(rerun.code, rerun.stderr).toBe(0);
    const id = await expectPublished(out);
    expect(id).toBe(runIdOf(rerun.stdout));
    expectNoLeftovers(out);
    // The registry claims no run that readers cannot open.
    const runs = readdirSync(join(out, 'runs'));
    for (const r of await registeredRuns(out)) expect(runs).toContain(r);
    if (point === 'registered') expect(rerun.stderr).toMatch(/recovered run \S+ from .*registered by a command that did not finish/);
    if (point === 'promoted') expect(rerun.stderr).toMatch(/pointed latest at run \S+, the run last registered/);
    if (['calendars', 'forecast', 'publish'].includes(point)) expect(rerun.stderr).toMatch(/removed 1 staging folder\(s\) left by commands that did not finish/);
  });
});

describe.concurrent('a run stopped by a signal', () => {
  it.each(['SIGTERM', 'SIGINT'])('%s during the forecast: nothing published, no lock or staging left, the next run starts at once', async (signal) => {
    const out = outFolder();
    const stopped = await run(runCommand(next, out, '--quiet'), { SHELFCAST_FAULT_AT: 'forecast', SHELFCAST_FAULT_SIGNAL: signal });
    expect(stopped.code).toBe(1);
    expect(oneLine(stopped.stderr)).toEqual([`shelfcast: stopped by ${signal}; nothing published`]);
    expect(await expectPublished(out)).toBe(first);
    expect(await registeredRuns(out)).toEqual([first]);
    expectNoLeftovers(out);
    // The default 30 s lease: a lock left behind would make this wait or fail.
    const t0 = Date.now();
    const rerun = await run(runCommand(next, out, '--quiet'));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('SIGTERM once the run is registered: it still publishes that run', async () => {
    const out = outFolder();
    const stopped = await run(runCommand(next, out, '--quiet'), { SHELFCAST_FAULT_AT: 'registered', SHELFCAST_FAULT_SIGNAL: 'SIGTERM' });
    const id = runIdOf(stopped.stdout);
    expect(await expectPublished(out)).toBe(id);
    expectNoLeftovers(out);
    // The handler runs at the event loop's next turn: a run that ended first exits 0, as it would have without the signal.
    if (stopped.code !== 0) {
      expect(stopped.code).toBe(1);
      expect(oneLine(stopped.stderr)).toEqual([`shelfcast: stopped by SIGTERM after publishing run ${id}`]);
    }
  });
});

describe('an output folder left dangling by the two-rename replace of earlier versions', () => {
  it('is repaired by the next command that takes the lock, even one that publishes nothing', async () => {
    const out = outFolder();
    // Killed between `runs/<id>` → `.staging/<id>-….replaced` and the staging copy → `runs/<id>`.
    const staging = join(out, '.staging', `${first}-Ab12Cd`);
    cpSync(join(out, 'runs', first), staging, { recursive: true });
    renameSync(join(out, 'runs', first), `${staging}.replaced`);
    expect(existsSync(join(out, 'latest'))).toBe(false);
    const r = await run(shelfcast('models', 'unpin', '-s', 'S01', '-o', out));
    expect(r.code, r.stderr).toBe(0);
    expect(await expectPublished(out)).toBe(first);
    expectNoLeftovers(out);
  });
});

describe('the lock is a lease', () => {
  it('a holder frozen past its lease is taken over, and on waking it publishes nothing', async () => {
    const out = outFolder();
    const frozen = start(runCommand(next, out), SHORT_LEASE);
    await frozen.waitFor(/ forecast\n/);
    frozen.kill('SIGSTOP');
    const other = await run(runCommand(DEMO, out, '--quiet'), SHORT_LEASE);
    expect(other.code, other.stderr).toBe(0);
    frozen.kill('SIGCONT');
    const woke = await frozen.done;
    expect(woke.code).toBe(1);
    expect(oneLine(woke.stderr)).toEqual([expect.stringMatching(/^shelfcast: lost the lock on .*: it was not renewed for 2 s .* and another command took it over; nothing published$/)]);
    expect(await expectPublished(out)).toBe(runIdOf(other.stdout));
    expectNoLeftovers(out);
  });
});

const canUnshare = spawnSync('unshare', ['--pid', '--fork', 'true']).status === 0;
if (!canUnshare) console.warn('skipping the pid-namespace tests: `unshare --pid --fork` is not available here (it needs root or user namespaces)');

describe.skipIf(!canUnshare)('commands in different pid namespaces (as in containers)', () => {
  it('a run killed as pid 1 of its namespace does not lock out the next one, also pid 1', async () => {
    const out = outFolder();
    const killed = start(inNamespace(runCommand(next, out)), SHORT_LEASE);
    await killed.waitFor(/ forecast\n/);
    killed.kill('SIGKILL');
    await killed.done;
    expect(JSON.parse(readFileSync(join(out, '.shelfcast-lock.json'), 'utf8'))).toMatchObject({ command: 'run', pid: 1 });
    const next1 = await run(inNamespace(runCommand(next, out, '--quiet')), SHORT_LEASE);
    expect(next1.code, next1.stderr).toBe(0);
    expect(await expectPublished(out)).toBe(runIdOf(next1.stdout));
    expectNoLeftovers(out);
  });

  it('a live holder is not taken over by a command in another namespace, where its pid means nothing', async () => {
    const out = outFolder();
    const holder = start(runCommand(big, out));
    await holder.waitFor(/ ingest\n/);
    const refused = await run(inNamespace(runCommand(next, out, '--quiet')));
    expect(refused.code).toBe(1);
    expect(oneLine(refused.stderr)).toEqual([expect.stringMatching(new RegExp(`^shelfcast: another shelfcast run \\(host .+, pid ${holder.pid}, started .+\\) is working on ${out}; try again when it has finished$`))]);
    const held = await holder.done;
    expect(held.code, held.stderr).toBe(0);
    expect(await expectPublished(out)).toBe(runIdOf(held.stdout));
    expect(readdirSync(join(out, 'runs')).sort()).toEqual([first, runIdOf(held.stdout)].sort());
  });

  it('two runs started at once, each pid 1 of its own namespace: one publishes, the other exits 1 naming it', async () => {
    const out = outFolder();
    const both = await Promise.all([0, 1].map(() => run(inNamespace(runCommand(big, out, '--quiet')))));
    const [winner, loser] = both[0].code === 0 ? both : [both[1], both[0]];
    expect(winner.code, winner.stderr).toBe(0);
    expect(loser.code, loser.stderr).toBe(1);
    expect(oneLine(loser.stderr)).toEqual([expect.stringMatching(/^shelfcast: another shelfcast run \(host .+, pid 1, started .+\) is working on /)]);
    expect(await expectPublished(out)).toBe(runIdOf(winner.stdout));
    expect(readdirSync(join(out, 'runs')).sort()).toEqual([first, runIdOf(winner.stdout)].sort());
    expectNoLeftovers(out);
  });
});

describe.concurrent('another program holding state.duckdb open when a run finishes', () => {
  /** Start a run, and while it forecasts (frozen, so it cannot finish first), let `hold-state` open the state file for `ms`. */
  async function runWhileStateHeld(out: string, ms: number, env: Record<string, string> = {}): Promise<{ run: Exit; holder: Proc }> {
    const r = start(runCommand(next, out), env);
    await r.waitFor(/ forecast\n/);
    r.kill('SIGSTOP');
    const holder = start([process.execPath, HOLD_STATE, join(out, 'state.duckdb'), String(ms)]);
    await holder.waitFor(/held/);
    r.kill('SIGCONT');
    return { run: await r.done, holder };
  }

  it('briefly: the run waits for it, then registers and publishes', async () => {
    const out = outFolder();
    const { run: r, holder } = await runWhileStateHeld(out, 1500);
    expect(r.code, r.stderr).toBe(0);
    await holder.done;
    expect(await expectPublished(out)).toBe(runIdOf(r.stdout));
    expectNoLeftovers(out);
  });

  it('for longer than the run waits: one line, nothing registered, latest not switched, no staging left', async () => {
    const out = outFolder();
    const { run: r, holder } = await runWhileStateHeld(out, 60_000, { SHELFCAST_STATE_WAIT_SECONDS: '1' });
    holder.kill('SIGKILL');
    await holder.done;
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toEqual([expect.stringMatching(/^shelfcast: .*state\.duckdb is open in .*\(PID \d+\) and stayed busy for 1 s; close it and try again; nothing published$/)]);
    expect(await expectPublished(out)).toBe(first);
    expect(await registeredRuns(out)).toEqual([first]);
    expect(readdirSync(join(out, 'runs'))).toEqual([first]);
    expectNoLeftovers(out);
  });
});
