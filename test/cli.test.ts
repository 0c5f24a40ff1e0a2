import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir, writeCsv, dailyRows } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
/** The error is the one line that starts with "shelfcast:" (progress lines may precede it). */
const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => l.startsWith('shelfcast:'));

describe('command line', () => {
  it('teaches with --help', () => {
    const r = run('--help');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('shelfcast run -i sales.csv');
    expect(r.stdout).toContain('store_id, sku, date, units');
  });

  it('runs on a user file with flags and prints a summary', () => {
    const dir = tempDir();
    const input = writeCsv(dir, 's.csv', 'store_id,sku,date,units', dailyRows('S9', 'X', '2024-01-01', 90, (i) => 5 + (i % 7)));
    const r = run('run', '-i', input, '-o', join(dir, 'out'), '--horizon', '14', '--freq', 'day', '--quiet');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/run \d{8}-[0-9a-f]{10}: 1 series, 14 forecast rows/);
  });

  it('exits 1 with one line naming the bad key for a config error', () => {
    const dir = tempDir();
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ quality: { gaps: 'interpolate' } }));
    const r = run('run', '-c', cfg, '-o', join(dir, 'out'));
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(errorLines(r.stderr)[0]).toContain('quality.gaps = "interpolate"');
  });

  it('exits 1 with one line for an unreadable input', () => {
    const r = run('run', '-i', '/no/such/file.csv', '-o', join(tempDir(), 'out'));
    expect(r.status).toBe(1);
    expect(errorLines(r.stderr)).toEqual(['shelfcast: input /no/such/file.csv: no such file']);
    expect(r.stderr.trim().split('\n').at(-1)).toBe('shelfcast: input /no/such/file.csv: no such file');
  });

  it('validate reports quality without publishing', () => {
    const dir = tempDir();
    const input = writeCsv(dir, 's.csv', 'store_id,sku,date,units', [...dailyRows('S9', 'X', '2024-01-01', 30, () => 5), 'S9,X,2024-13-01,4']);
    const r = run('validate', '-i', input, '--rejects', join(dir, 'rej.csv'));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/s\.csv: 31 rows read, 30 accepted, 1 rejected, 0 corrected; 1 series, daily 2024-01-01 → 2024-01-30\n/);
    expect(r.stdout).toContain('  bad_date: 1 rows rejected\n');
    const j = JSON.parse(run('validate', '-i', input, '--json').stdout);
    expect(j).toMatchObject({ command: 'validate', ok: true, problem: null, quality: { rules: { bad_date: { rows: 1 } } } });
  });
});
