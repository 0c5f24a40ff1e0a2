import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

// `shelfcast serve` as an operator starts it: the built CLI in a child process.

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const env = { ...process.env, SHELFCAST_API_TOKEN: '' };

describe('shelfcast serve command', () => {
  let out: string;

  beforeAll(async () => {
    const dir = tempDir();
    out = join(dir, 'out');
    const input = writeCsv(dir, 'sales.csv', 'store_id,sku,date,units', dailyRows('S1', 'A', '2025-01-01', 60, (i) => 3 + (i % 7)));
    await runForecast(parseConfig({ out, input: { path: input }, threads: 1, horizon: 7, models: { windows: 1, combine: 1 } }));
  });

  describe('running', () => {
    let child: ChildProcess;
    let stderr = '';
    let url: string;

    beforeAll(async () => {
      child = spawn(process.execPath, [cli, 'serve', '--out', out, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      child.stderr!.setEncoding('utf8');
      url = await new Promise<string>((resolve, reject) => {
        child.stderr!.on('data', (d: string) => {
          stderr += d;
          const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(stderr);
          if (m) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
    });

    afterAll(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });

    it('warns loudly that without tokens it serves loopback only', async () => {
      await new Promise((r) => setTimeout(r, 100)); // the banner is written in several lines
      expect(stderr).toContain('WARNING: NO API TOKENS CONFIGURED');
      expect(stderr).toContain('Listening on loopback only');
      expect(await (await fetch(`${url}/health`)).json()).toMatchObject({ status: 'ok', runs: 1 });
    });

    it('stops cleanly on SIGTERM with exit code 0', async () => {
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(stderr).toContain('SIGTERM: finishing requests in flight');
      expect(stderr).toContain('shelfcast serve: stopped');
    });
  });

  const serve = (args: string[], extraEnv: Record<string, string> = {}) =>
    spawnSync(process.execPath, [cli, 'serve', ...args], { encoding: 'utf8', env: { ...env, ...extraEnv }, timeout: 30_000 });

  it('refuses a non-loopback address when no token is configured', () => {
    const r = serve(['--out', out, '--host', '0.0.0.0', '--port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe('shelfcast: no API tokens configured: refusing to serve forecasts on 0.0.0.0; set SHELFCAST_API_TOKEN or server.tokens, or serve on 127.0.0.1');
  });

  it('exits 1 with one line for a short token, a missing folder, or a bad port', () => {
    const short = serve(['--out', out, '--port', '0'], { SHELFCAST_API_TOKEN: 'short' });
    expect(short.status).toBe(1);
    expect(short.stderr.trim()).toBe('shelfcast: SHELFCAST_API_TOKEN must be at least 16 characters');
    const missing = serve(['--out', join(out, 'nope'), '--port', '0']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('does not exist; publish a run there first');
    const port = serve(['--out', out, '--port', '70000']);
    expect(port.status).toBe(1);
    expect(port.stderr).toContain('port must be a whole number from 0 to 65535');
  });
});
