import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import { createLog, logFormat } from '../src/cli/log.js';
import { terminalEvents } from '../src/cli/progress.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const { SHELFCAST_LOG_FORMAT: _unset, ...plainEnv } = process.env;
const run = (args: string[], env: NodeJS.ProcessEnv = plainEnv) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const dir = tempDir();
const input = writeCsv(dir, 's.csv', 'store_id,sku,date,units', dailyRows('S1', 'A', '2024-01-01', 60, (i) => 5 + (i % 7)));
const common = ['-i', input, '-H', '7', '-w', '1', '--combine', '1', '-t', '1'];

describe('logs', () => {
  it('are JSON lines (pino) with ISO timestamps by default when stderr is not a terminal', () => {
    const r = run(['run', ...common, '-o', join(dir, 'json')]);
    expect(r.status).toBe(0);
    const lines = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(3);
    for (const l of lines) {
      expect(l.time).toMatch(ISO);
      expect(['info', 'warn']).toContain(l.level);
      expect(l.command).toBe('run');
      expect(typeof l.msg).toBe('string');
    }
    expect(lines.find((l) => l.stage === 'forecast' && l.done === undefined)?.msg).toBe('forecast');
    expect(lines.some((l) => l.stage === 'forecast' && l.done === 1 && l.total === 1)).toBe(true);
  });

  it('report a failure as one JSON line with its exit code', () => {
    const r = run(['run', '-i', join(dir, 'missing.csv'), '-o', join(dir, 'x')]);
    expect(r.status).toBe(1);
    const errors = r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 'error', exit_code: 1, msg: expect.stringContaining('no such file') });
  });

  it('are text with ISO timestamps with --log-format text; --quiet still dates the summary', () => {
    const r = run(['run', ...common, '-o', join(dir, 'text'), '--log-format', 'text']);
    expect(r.status).toBe(0);
    for (const l of r.stderr.trim().split('\n')) expect(l.split(' ')[0]).toMatch(ISO);
    const q = run(['run', ...common, '-o', join(dir, 'text'), '--log-format', 'text', '--quiet']);
    expect(q.stderr).toBe('');
    expect(q.stdout).toMatch(/\n {2}finished: \d{4}-\d{2}-\d{2}T[\d:.]+Z\n$/);
  });

  it('SHELFCAST_LOG_FORMAT sets the format; a bad value is named', () => {
    expect(logFormat(undefined, { isTTY: true }, {})).toBe('text');
    expect(logFormat(undefined, { isTTY: false }, {})).toBe('json');
    expect(logFormat(undefined, { isTTY: false }, { SHELFCAST_LOG_FORMAT: 'text' })).toBe('text');
    expect(logFormat('json', { isTTY: true }, { SHELFCAST_LOG_FORMAT: 'text' })).toBe('json');
    expect(() => logFormat(undefined, {}, { SHELFCAST_LOG_FORMAT: 'xml' })).toThrow('SHELFCAST_LOG_FORMAT = "xml": expected json or text');
  });

  it('show a bar on a terminal, also for stages without a count, and keep warnings when quiet', () => {
    let text = '';
    const sink = new Writable({ write(chunk, _e, done) { text += String(chunk); done(); } }) as unknown as NodeJS.WriteStream;
    Object.assign(sink, { isTTY: true, columns: 100, cursorTo: () => true, clearLine: () => true, moveCursor: () => true });
    const events = terminalEvents(sink, false, createLog('text', 'run', sink));
    events.stage('ingest');
    events.info('1000 rows read');
    events.stage('forecast');
    events.progress(5, 10);
    events.progress(10, 10);
    events.close();
    expect(text).toContain('ingest');
    expect(text).toMatch(/\d{4}-\d{2}-\d{2}T[\d:.]+Z 1000 rows read/);
    expect(text).toContain('10/10 series');
    text = '';
    const quiet = terminalEvents(sink, true, createLog('text', 'run', sink));
    quiet.stage('ingest');
    quiet.info('1000 rows read');
    quiet.info('warning: 3 series end early');
    quiet.close();
    expect(text).toMatch(/^\S+Z warning: 3 series end early\n$/);
  });
});
