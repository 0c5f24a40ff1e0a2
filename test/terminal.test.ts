import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { topModels } from '../src/cli/summaries.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));

describe('the terminal', () => {
  it('keeps the models line short: the top three, then how many more', () => {
    const perModel = { 'combo(ets+theta)': 19, 'combo(adida+tsb)': 7, snaive: 8, 'combo(ets+snaive)': 5, ets: 1 };
    expect(topModels(perModel)).toBe('combo(ets+theta) 19, snaive 8, combo(adida+tsb) 7, … 2 more (6 series; manifest.json)');
    expect(topModels({ ets: 2, theta: 1 })).toBe('ets 2, theta 1');
  });

  it('finishes a run whose readers went away (run | head -0), releases the lock and exits 0', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const input = writeCsv(dir, 's.csv', 'store_id,sku,date,units', dailyRows('S1', 'A', '2024-01-01', 60, (i) => 5 + (i % 7)));
    const child = spawn(process.execPath, [cli, 'run', '-i', input, '-o', out, '-H', '7', '-w', '1', '-t', '1', '--log-format', 'text'], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Both readers close at once, before the first line: every write the command makes hits EPIPE.
    child.stdout.destroy();
    child.stderr.destroy();
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(existsSync(join(out, 'latest', 'forecasts.csv'))).toBe(true);
    expect(readdirSync(out).filter((f) => f.startsWith('.shelfcast-lock'))).toEqual([]);
  });
});
