import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.js';

/**
 * One writer at a time per output folder: a lock file created exclusively, holding the pid,
 * command and start time. A lock whose process is gone (a crash, a kill -9) is taken over.
 */
export interface LockHolder {
  readonly pid: number;
  readonly command: string;
  readonly started_at: string;
}

export interface Lock {
  release(): void;
}

export function lockPath(out: string): string {
  return join(out, '.lock');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readLock(out: string): LockHolder | null {
  try {
    return JSON.parse(readFileSync(lockPath(out), 'utf8')) as LockHolder;
  } catch {
    return null;
  }
}

export function acquireLock(out: string, command: string, now = new Date()): Lock {
  const path = lockPath(out);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      const holder: LockHolder = { pid: process.pid, command, started_at: now.toISOString() };
      writeSync(fd, JSON.stringify(holder));
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          const current = readLock(out);
          if (current?.pid === process.pid) rmSync(path, { force: true });
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const holder = readLock(out);
      if (holder && alive(holder.pid)) {
        throw new UserError(`another shelfcast ${holder.command} (pid ${holder.pid}, started ${holder.started_at}) is working on ${out}; try again when it has finished`);
      }
      rmSync(path, { force: true }); // stale: its process is gone
    }
  }
  throw new UserError(`cannot take the lock ${path}`);
}
