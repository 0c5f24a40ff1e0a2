import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

// Bad input, bad config and a broken machine exit 1 with one line naming the key, file or
// flag; exit 2 ("internal error") is for bugs only. Real subprocesses, as an operator runs them.

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => /^(shelfcast|error):/.test(l));

/** Exit 1, no stack trace, and exactly one error line, which contains every `words`. */
function expectCleanFailure(r: ReturnType<typeof run>, ...words: string[]): string {
  expect(r.stderr).not.toContain('internal error');
  expect(r.status, r.stderr).toBe(1);
  const lines = errorLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  for (const w of words) expect(lines[0]).toContain(w);
  return lines[0];
}

const isRoot = process.getuid?.() === 0;

/** A tmpfs at `dir` (root only); false when this machine cannot mount one. */
function mountTmpfs(dir: string, options: string): boolean {
  if (!isRoot) return false;
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]).status === 0;
}
// Lazy, so a mount is released even if a process still holds a file in it.
const unmount = (dir: string) => spawnSync('umount', ['-l', dir]);

describe('clean failures on the command line', () => {
  let dir: string;
  let input: string;
  /** An output folder with one published run. */
  let out: string;
  const mounts: string[] = [];

  beforeAll(() => {
    dir = tempDir();
    input = writeCsv(dir, 's.csv', 'store_id,sku,date,units', dailyRows('S9', 'X', '2024-01-01', 60, (i) => 5 + (i % 7)));
    out = join(dir, 'out');
    const r = run('run', '-i', input, '-o', out, '--horizon', '7', '--quiet');
    expect(r.status, r.stderr).toBe(0);
  });

  afterAll(() => {
    for (const m of mounts) unmount(m);
  });

  it('refuses an impossible date in the config, naming the key', () => {
    const cfg = join(dir, 'asof.json');
    writeFileSync(cfg, JSON.stringify({ quality: { asOf: '2025-02-30' } }));
    expectCleanFailure(run('validate', '-c', cfg, '-i', input), 'quality.asOf = "2025-02-30"');
  });

  it('refuses an impossible date flag, naming the flag', () => {
    expectCleanFailure(run('explain', '-o', out, '-s', 'S9', '-k', 'X', '--date', '2026-02-30'), '--date', '2026-02-30');
    expectCleanFailure(run('explain', '-o', out, '-s', 'S9', '-k', 'X', '--date', '2026-13-01'), '--date');
    expectCleanFailure(run('calendars', 'show', '-s', 'S9', '--from', '2026-02-30'), '--from', '2026-02-30');
  });

  it('refuses two quantile levels that would publish as the same column', () => {
    const line = expectCleanFailure(run('run', '-i', input, '-o', join(dir, 'q'), '-q', '0.12345,0.1234500001', '--quiet'), 'quantiles', 'p12.345');
    expect(line).toContain('0.1234500001');
    expect(existsSync(join(dir, 'q'))).toBe(false);
  });

  it('says a read-only output folder is read-only, naming it', () => {
    const ro = join(dir, 'ro');
    if (mountTmpfs(ro, 'ro,size=64k')) mounts.push(ro);
    else if (!isRoot) {
      mkdirSync(ro);
      spawnSync('chmod', ['555', ro]);
    } else return console.warn('skipped: cannot mount a read-only tmpfs on this machine');
    expectCleanFailure(run('run', '-i', input, '-o', ro, '--quiet'), ro);
    expectCleanFailure(run('run', '-i', input, '-o', join(ro, 'sub'), '--quiet'), join(ro, 'sub'));
  });

  it('says a full output folder is full, and leaves no lock, no staging and the last run published', (ctx) => {
    const empty = join(dir, 'full-empty');
    const filled = join(dir, 'full-filled');
    if (!mountTmpfs(empty, 'size=200k') || !mountTmpfs(filled, 'size=4m')) {
      console.warn('skipped: a full disk is simulated with a small tmpfs, which needs root and mount');
      return ctx.skip();
    }
    mounts.push(empty, filled);
    const leftovers = (d: string) => readdirSync(d).filter((f) => f === '.lock' || f === '.staging');
    // 200 kB do not hold a new state database.
    expectCleanFailure(run('run', '-i', input, '-o', empty, '--quiet'), 'No space left on device');
    expect(leftovers(empty)).toEqual([]);
    expect(existsSync(join(empty, 'latest'))).toBe(false);
    // A disk that fills up while a nightly run writes its files.
    expect(run('run', '-i', input, '-o', filled, '--horizon', '7', '--quiet').status).toBe(0);
    const published = readlinkSync(join(filled, 'latest'));
    const { bavail, bsize } = statfsSync(filled);
    writeFileSync(join(filled, 'filler'), Buffer.alloc(bavail * bsize - 16 * 1024));
    // A later feed (an older one would be refused before anything is written: quality.olderFeed).
    const shorter = writeCsv(dir, 'shorter.csv', 'store_id,sku,date,units', dailyRows('S9', 'X', '2024-02-01', 50, (i) => 5 + (i % 7)));
    const line = expectCleanFailure(run('run', '-i', shorter, '-o', filled, '--horizon', '7', '--quiet'), filled);
    expect(line).toMatch(/no space left/i);
    expect(leftovers(filled)).toEqual([]);
    expect(readlinkSync(join(filled, 'latest'))).toBe(published);
  });

  it('says a --rejects file cannot be written, naming the flag', () => {
    expectCleanFailure(run('validate', '-i', input, '--rejects', join(dir, 'no-such-folder', 'rejects.csv')), '--rejects', 'no-such-folder');
  });

  it('says a corrupt state database is unreadable and how to go on', () => {
    const broken = join(dir, 'corrupt');
    cpSync(out, broken, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(broken, 'state.duckdb'), randomBytes(64 * 1024));
    rmSync(join(broken, 'state.duckdb.wal'), { force: true });
    expectCleanFailure(run('run', '-i', input, '-o', broken, '--quiet'), join(broken, 'state.duckdb'), '--new-state');
    expectCleanFailure(run('models', 'list', '-o', broken), join(broken, 'state.duckdb'));
  });

  it('says a new folder has no registry yet, and creates none', () => {
    const fresh = join(dir, 'fresh');
    expectCleanFailure(run('models', 'list', '-o', fresh), fresh);
    expect(existsSync(fresh)).toBe(false);
    mkdirSync(fresh);
    expectCleanFailure(run('models', 'list', '-o', fresh), fresh);
    expectCleanFailure(run('models', 'rollback', '-o', fresh, '-s', 'S9', '--to', 'previous'), fresh);
    expect(readdirSync(fresh)).toEqual([]);
  });
});
