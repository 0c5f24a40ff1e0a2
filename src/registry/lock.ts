import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import lockfile from 'proper-lockfile';
import { envSeconds } from '../config/env.js';
import { UserError } from '../errors.js';

/**
 * One writer at a time per output folder, across hosts and pid namespaces: a lease, not a pid.
 * The holder creates the folder OUT/.shelfcast-lock (mkdir is atomic, on NFS too) and renews
 * its mtime every second (proper-lockfile's heartbeat). A lease not renewed for the lease
 * time (SHELFCAST_LOCK_LEASE_SECONDS, default 30) is stale: its holder was killed, or its host
 * or container is gone, and the next command takes it over. A pid cannot tell that: every
 * container of a CronJob is pid 1, and a pid from another namespace looks dead.
 *
 * A command that finds the lease taken watches it: renewed while it watches, the holder is
 * alive and the command fails at once (exit 1) naming it; not renewed, the holder is presumed
 * dead and the command waits until the lease expires (at most the lease time), then takes it.
 * Who holds it (command, host, pid, start) is in OUT/.shelfcast-lock.json, for that message.
 */
interface LockHolder {
  readonly command: string;
  readonly host: string;
  readonly pid: number;
  readonly started_at: string;
  /** Tells this holder from a later one that took the lease over. */
  readonly token: string;
}

export interface Lock {
  /** Throws if the lease was lost (not renewed in time, then taken over): writing now could interleave with its new holder. */
  assertHeld(): void;
  release(): Promise<void>;
}

const HEARTBEAT_MS = 1000;
const POLL_MS = 250;

function lockPath(out: string): string {
  return join(out, '.shelfcast-lock');
}

const holderPath = (out: string): string => `${lockPath(out)}.json`;

function readHolder(out: string): LockHolder | null {
  try {
    return JSON.parse(fs.readFileSync(holderPath(out), 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

/** When the lease was last renewed, or null once it is gone. */
function renewedAt(out: string): number | null {
  try {
    return fs.statSync(lockPath(out)).mtimeMs;
  } catch {
    return null;
  }
}

function busy(out: string): UserError {
  const h = readHolder(out);
  const who = h ? `${h.command} (host ${h.host}, pid ${h.pid}, started ${h.started_at})` : 'command';
  return new UserError(`another shelfcast ${who} is working on ${out}; try again when it has finished`);
}

export async function acquireLock(out: string, command: string): Promise<Lock> {
  const leaseMs = envSeconds('SHELFCAST_LOCK_LEASE_SECONDS', 30, 2) * 1000;
  // A stale lease expires within the lease time of the first look; past that (and a renewal
  // late by a poll or two), it is being renewed by a clock we do not share.
  const giveUp = Date.now() + leaseMs + 2 * HEARTBEAT_MS;
  const token = randomUUID();
  let acquired = false;
  let lost = false;
  // proper-lockfile removes the lease on release and at exit without asking whose it is: once
  // a holder that was frozen past its lease has been taken over, the lease is its new holder's.
  const ours = (): boolean => !acquired || readHolder(out)?.token === token;
  const leaseFs = {
    ...fs,
    rmdir: (path: string, done: (e: NodeJS.ErrnoException | null) => void) => (ours() ? fs.rmdir(path, done) : done(null)),
    rmdirSync: (path: string) => { if (ours()) fs.rmdirSync(path); },
  };
  let seen: number | null = null;
  for (;;) {
    try {
      const release = await lockfile.lock(out, {
        lockfilePath: lockPath(out), realpath: false, stale: leaseMs, update: HEARTBEAT_MS, fs: leaseFs,
        // The default throws from a timer, killing the process; the holder checks assertHeld() before it publishes instead.
        onCompromised: () => { lost = true; },
      });
      acquired = true;
      const holder: LockHolder = { command, host: hostname(), pid: process.pid, started_at: new Date().toISOString(), token };
      fs.writeFileSync(holderPath(out), JSON.stringify(holder));
      return holding(out, leaseMs, release, () => !lost && ours());
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ELOCKED') throw e;
    }
    const renewed = renewedAt(out);
    if (renewed !== null) {
      if ((seen !== null && renewed !== seen) || Date.now() > giveUp) throw busy(out);
      seen = renewed;
    }
    await sleep(POLL_MS);
  }
}

function holding(out: string, leaseMs: number, release: () => Promise<void>, held: () => boolean): Lock {
  let released = false;
  return {
    assertHeld() {
      if (!held()) throw new UserError(`lost the lock on ${out}: it was not renewed for ${leaseMs / 1000} s (was this process frozen?) and another command took it over; nothing published`);
    },
    async release() {
      if (released) return;
      released = true;
      const mine = held();
      // A lease that was lost is not proper-lockfile's to remove any more (ERELEASED).
      await release().catch((e: NodeJS.ErrnoException) => { if (e.code !== 'ERELEASED') throw e; });
      if (mine) fs.rmSync(holderPath(out), { force: true });
    },
  };
}
