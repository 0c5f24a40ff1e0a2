import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dailyRows, parseCsv, tempDir, writeCsv } from './helpers/tmp.js';

// A deleted (or emptied) state.duckdb must not silently restart every series at v1 while
// runs/ still holds runs published with the old versions: the operator decides.

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('a lost state database', () => {
  it('is refused with a way forward, and --new-state acknowledges it', () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const day = (n: number) => writeCsv(dir, `d${n}.csv`, 'store_id,sku,date,units', dailyRows('S9', 'X', '2024-01-01', n, (i) => 5 + (i % 7)));
    expect(run('retrain', '-i', day(60), '-o', out, '-H', '7', '--quiet').status).toBe(0);
    expect(run('retrain', '-i', day(61), '-o', out, '-H', '7', '--quiet').status).toBe(0);
    const published = readlinkSync(join(out, 'latest'));

    rmSync(join(out, 'state.duckdb'));
    for (let attempt = 0; attempt < 2; attempt++) {
      // The second attempt finds the empty state.duckdb the first one left behind.
      const r = run('run', '-i', day(62), '-o', out, '-H', '7', '--quiet');
      expect(r.status, r.stderr).toBe(1);
      const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('shelfcast:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`${join(out, 'state.duckdb')} is missing or empty, but 2 published runs are in ${join(out, 'runs')}`);
      expect(lines[0]).toContain('--new-state');
      expect(readlinkSync(join(out, 'latest'))).toBe(published);
    }

    const r = run('run', '-i', day(62), '-o', out, '-H', '7', '--quiet', '--new-state');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('model versions: new 1');
    const series = parseCsv(readFileSync(join(out, 'latest', 'series.csv'), 'utf8'));
    expect(series.map((s) => s.model_version)).toEqual(['1']);
    // From now on the new registry knows a run: no flag needed.
    expect(run('run', '-i', day(63), '-o', out, '-H', '7', '--quiet').status).toBe(0);
  });
});
