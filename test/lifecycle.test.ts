import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../src/config/load.js';
import { runForecast } from '../src/run/run.js';
import { runMonitor } from '../src/monitor/monitor.js';
import { explainForecast, formatExplanation } from '../src/run/explain.js';
import { formatModelsList, formatSeriesVersions, modelsList, seriesVersionsOf } from '../src/registry/report.js';
import { acquireLock } from '../src/registry/lock.js';
import { liveVersions, withState } from '../src/registry/state.js';
import { queryRows } from '../src/db/duckdb.js';
import { pinVersions } from '../src/registry/pins.js';
import { Scheduler, type Clock, type JobKind } from '../src/schedule/scheduler.js';
import { parseCsv, tempDir, writeCsv } from './helpers/tmp.js';
import { gaussian, rng } from './helpers/random.js';

const DAY = 86400000;
const START = Date.parse('2024-01-01T00:00:00Z');
const iso = (i: number): string => new Date(START + i * DAY).toISOString().slice(0, 10);
const SERIES = ['A', 'B', 'C'];

/** Daily sales of three SKUs; SKU B's level triples from day `shiftFrom` on. */
function sales(days: number, shiftFrom = Infinity): string[] {
  const r = rng(31);
  const rows: string[] = [];
  for (const sku of SERIES) {
    for (let i = 0; i < days; i++) {
      const level = sku === 'B' && i >= shiftFrom ? 150 : 50;
      rows.push(`S1,${sku},${iso(i)},${Math.round(level + 8 * Math.sin((2 * Math.PI * i) / 7) + 3 * gaussian(r))}`);
    }
  }
  return rows;
}

const HEADER = 'store_id,sku,date,units';
const models = { windows: 2, combine: 2, candidates: { smooth: ['snaive', 'ets', 'theta'], erratic: ['snaive', 'ets', 'theta'] } };

describe('a week in production, with a real state file', () => {
  it('trains, reuses, catches drift, honours a pin, refuses overlap and explains', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const config = (path: string) => parseConfig({ input: { path }, out, horizon: 7, threads: 1, models, calendars: { enabled: false } });
    const day = (n: number) => new Date(START + n * DAY + 3 * 3600000);

    // Day 100: the first run has nothing registered, so it selects and registers v1 everywhere.
    const first = await runForecast(config(writeCsv(dir, 'd100.csv', HEADER, sales(100))), undefined, day(100));
    expect(first.decisions).toMatchObject({ new: 3, reused: 0 });
    const v1 = await withState(out, liveVersions);
    expect([...v1.values()].map((v) => v.version)).toEqual([1, 1, 1]);

    // Day 101: a nightly run reuses the registered versions.
    const second = await runForecast(config(writeCsv(dir, 'd101.csv', HEADER, sales(101))), undefined, day(101));
    expect(second.decisions).toMatchObject({ reused: 3 });
    expect(parseCsv(readFileSync(join(second.dir, 'series.csv'), 'utf8')).map((s) => s.selection)).toEqual(['reused', 'reused', 'reused']);

    // Actuals for days 101–105 arrive with SKU B's level tripled: monitor flags it.
    const actuals = writeCsv(dir, 'actuals.csv', HEADER, sales(106, 101).filter((r) => r.split(',')[2] >= iso(101)));
    const report = await runMonitor(config(actuals), actuals, undefined, day(106));
    expect(report.drifting.map((d) => d.sku)).toEqual(['B']);
    expect(report.by_sku.A.mase).toBeLessThan(report.by_sku.B.mase!);
    expect(JSON.parse(readFileSync(join(out, 'monitoring.json'), 'utf8')).drifting).toHaveLength(1);
    const monitoring = parseCsv(readFileSync(join(out, 'monitoring.csv'), 'utf8'));
    expect(monitoring.map((m) => [m.sku, m.drift])).toEqual([['A', '0'], ['B', '1'], ['C', '0']]);
    expect(monitoring[1].reason).toBe(report.drifting[0].reason);

    // Day 106: the next run retrains only the drifting series (v2); the others are reused.
    const third = await runForecast(config(writeCsv(dir, 'd106.csv', HEADER, sales(106, 101))), undefined, day(106));
    expect(third.decisions).toMatchObject({ drift: 1, reused: 2 });
    const v2 = await withState(out, liveVersions);
    expect(v2.get('S1\u0001B')?.version).toBe(2);
    expect(v2.get('S1\u0001A')?.version).toBe(1);

    // The same actuals again: B's v1 is no longer live, so the old runs do not judge (nor re-flag) it.
    const again = await runMonitor(config(actuals), actuals, undefined, day(106));
    expect(again.drifting).toEqual([]);
    expect(again.by_sku.B).toBeUndefined();
    expect(again.by_sku.A.points).toBe(report.by_sku.A.points);

    // Roll B back to v1, the version that drifted: allowed, with the flag to warn about.
    const pins = await withState(out, (db) => pinVersions(db, 'S1', 'B', 'previous', day(106).toISOString()));
    expect(pins).toEqual([{ store_id: 'S1', sku: 'B', from: 2, to: 1, drifted: { flagged_at: expect.stringMatching(/^\d{4}-.*Z$/), reason: report.drifting[0].reason } }]);
    // What is live: the pin is named; show has the realised accuracy of v1 and its drift.
    const live = await withState(out, modelsList);
    expect(live.pinned).toEqual([expect.objectContaining({ store_id: 'S1', sku: 'B', version: 1, newest_version: 2 })]);
    expect(formatModelsList(live)).toMatch(/pinned \(1\)[^\n]*\n {2}S1 \/ B {2}v1 \(newest v2\)/);
    const shown = await withState(out, (db) => seriesVersionsOf(db, 'S1', 'B'));
    expect(shown).toMatchObject({ live_version: 1, pinned: true });
    // Both runs before the retrain forecast days 101–105 with v1: 5 actuals each.
    expect(shown.versions[0].realised).toMatchObject({ runs: 2, points: 2 * report.by_sku.B.points });
    expect(shown.versions[0].drifted).toHaveLength(1);
    expect(shown.versions[1].realised).toBeNull();
    expect(formatSeriesVersions(shown)).toMatch(/\* v1 .*\n.*\n {6}realised MASE \d/);
    // explain on the run made before the pin says which version is live now.
    const before = await explainForecast(config(join(dir, 'd106.csv')), 'S1', 'B', iso(107));
    expect([before.forecast.model_version, before.live]).toEqual([2, { version: 1, pinned: true, pinned_at: expect.any(String) }]);
    expect(formatExplanation(before)).toMatch(/live now: version 1 \(pinned .*\); the next run forecasts with it/);
    const fourth = await runForecast(config(writeCsv(dir, 'd107.csv', HEADER, sales(107, 101))), undefined, day(107));
    expect(fourth.decisions).toMatchObject({ pinned: 1 });
    const manifest = JSON.parse(readFileSync(join(fourth.dir, 'manifest.json'), 'utf8'));
    expect(manifest.model_versions.pins).toEqual([{ store_id: 'S1', sku: 'B', version: 1 }]);
    const rowsB = parseCsv(readFileSync(join(fourth.dir, 'forecasts.csv'), 'utf8')).filter((r) => r.sku === 'B');
    expect(rowsB.every((r) => r.model_version === '1')).toBe(true);

    // Day 116: versions older than the retrain interval (7 days) are re-selected, pins are not.
    const later = await runForecast(config(writeCsv(dir, 'd116.csv', HEADER, sales(116, 101))), undefined, day(116));
    expect(later.decisions).toMatchObject({ stale: 2, pinned: 1 });

    // While another process holds the lock, a run refuses with a clear message.
    const lock = await acquireLock(out, 'retrain');
    try {
      await expect(runForecast(config(join(dir, 'd116.csv')), undefined, day(116))).rejects.toThrow(/another shelfcast retrain \(host .+, pid \d+, started .*\) is working on/);
      const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
      // Not spawnSync: the holder renews its lease from this process's event loop, which must keep running.
      const r = await promisify(execFile)(process.execPath, [cli, 'run', '-i', join(dir, 'd116.csv'), '-o', out, '--quiet']).then(() => ({ status: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ status: e.code, stderr: e.stderr }));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/shelfcast: another shelfcast retrain \(host .+, pid \d+/);
    } finally {
      await lock.release();
    }

    // Explain returns the input rows the forecast was fitted on, with their line numbers.
    const e = await explainForecast(config(join(dir, 'd116.csv')), 'S1', 'A', iso(117));
    expect(e.run.run_id).toBe(later.runId);
    expect(e.input.unchanged).toBe(true);
    expect(e.input.rows).toHaveLength(116);
    expect(e.input.rows[0]).toMatchObject({ line: 2, store_id: 'S1', sku: 'A', date: iso(0) });
    expect(e.version?.selection.models.length).toBeGreaterThan(0);
  });

  it('records the same actuals once, however often monitor sees them', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    const config = (path: string) => parseConfig({ input: { path }, out, horizon: 7, threads: 1, models, calendars: { enabled: false } });
    const run = await runForecast(config(writeCsv(dir, 'd100.csv', HEADER, sales(100))), undefined, new Date(START + 100 * DAY));
    const recorded = () => withState(out, async (db) => ({
      actuals: (await queryRows<{ n: number }>(db, 'SELECT count(*)::INTEGER AS n FROM actuals'))[0].n,
      accuracy: await queryRows<{ sku: string; points: number }>(db, `SELECT sku, points FROM accuracy WHERE run_id = '${run.runId}' ORDER BY sku`),
    }));
    const actuals = (first: number, last: number) => writeCsv(dir, `a${first}-${last}.csv`, HEADER, sales(last + 1).filter((r) => r.split(',')[2] >= iso(first)));

    // Days 100–104 monitored twice: recorded once, and the report says the same both times.
    const a = actuals(100, 104);
    const once = await runMonitor(config(a), a, undefined, new Date(START + 105 * DAY));
    const twice = await runMonitor(config(a), a, undefined, new Date(START + 105 * DAY));
    expect(twice.overall).toEqual(once.overall);
    expect(await recorded()).toEqual({ actuals: 15, accuracy: SERIES.map((sku) => ({ sku, points: 5 })) });

    // Days 102–106 overlap them: each run/series/date still counts once (100–106: 7 points).
    const b = actuals(102, 106);
    const overlapping = await runMonitor(config(b), b, undefined, new Date(START + 107 * DAY));
    expect(await recorded()).toEqual({ actuals: 21, accuracy: SERIES.map((sku) => ({ sku, points: 7 })) });
    expect(overlapping.overall.points).toBe(21);

    // Actuals no run forecast: a clear failure, nothing recorded.
    const history = actuals(10, 20);
    await expect(runMonitor(config(history), history, undefined, new Date(START + 107 * DAY))).rejects.toThrow(/\(2024-01-11 to 2024-01-21\) overlap the target dates of no published run; the runs forecast 2024-04-10 to 2024-04-16; nothing recorded/);
    expect(await recorded()).toEqual({ actuals: 21, accuracy: SERIES.map((sku) => ({ sku, points: 7 })) });
  });

  it('posts drift to the webhook', async () => {
    const received: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => { received.push(JSON.parse(body)); res.end('ok'); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      const dir = tempDir();
      const out = join(dir, 'out');
      const cfg = (path: string) => parseConfig({ input: { path }, out, horizon: 7, threads: 1, models, calendars: { enabled: false }, lifecycle: { webhook: `http://127.0.0.1:${port}/hook` } });
      await runForecast(cfg(writeCsv(dir, 'd.csv', HEADER, sales(100))), undefined, new Date(START + 100 * DAY));
      const actuals = writeCsv(dir, 'a.csv', HEADER, sales(107, 100).filter((r) => r.split(',')[2] >= iso(100)));
      await runMonitor(cfg(actuals), actuals, undefined, new Date(START + 107 * DAY));
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ event: 'shelfcast.drift', drifting: [{ store_id: 'S1', sku: 'B' }] });
    } finally {
      server.close();
    }
  });
});

describe('scheduler', () => {
  /** A clock that jumps to each wake-up time at once, and stops the loop after `limit` jobs. */
  function fakeClock(start: string): Clock & { advance(ms: number): void } {
    let t = Date.parse(start);
    return {
      now: () => new Date(t),
      sleep: async (ms) => { t += Math.max(0, ms); },
      advance(ms) { t += ms; },
    };
  }

  it('fires the nightly run and the weekly retrain at their times, catching up a missed one first', async () => {
    const clock = fakeClock('2026-03-04T12:00:00Z'); // a Wednesday
    const fired: [JobKind, string][] = [];
    const stop = new AbortController();
    const scheduler = new Scheduler({ run: '0 2 * * *', retrain: '0 1 * * 0', timezone: 'UTC' }, {
      clock,
      log: () => {},
      // Last retrain ran on time on Sunday 1 March; the nightly run last ran Monday 2 March.
      lastStart: async (kind) => new Date(kind === 'retrain' ? '2026-03-01T01:00:05Z' : '2026-03-02T02:00:05Z'),
      execute: async (kind, at) => {
        fired.push([kind, at.toISOString()]);
        clock.advance(10 * 60000); // each job takes ten minutes
        if (fired.length === 6) stop.abort();
      },
    });
    await scheduler.start(stop.signal);
    expect(fired).toEqual([
      ['run', '2026-03-04T12:00:00.000Z'], // missed Wednesday 02:00: caught up at start
      ['run', '2026-03-05T02:00:00.000Z'],
      ['run', '2026-03-06T02:00:00.000Z'],
      ['run', '2026-03-07T02:00:00.000Z'],
      ['retrain', '2026-03-08T01:00:00.000Z'],
      ['run', '2026-03-08T02:00:00.000Z'],
    ]);
  });

  it('uses the stores\' time zone and stops without firing when asked to', async () => {
    const clock = fakeClock('2026-06-01T00:00:00Z');
    const scheduler = new Scheduler({ run: '0 2 * * *', retrain: '0 1 * * 0', timezone: 'America/Chicago' }, {
      clock, log: () => {}, lastStart: async () => new Date('2026-06-01T00:00:00Z'), execute: async () => {},
    });
    // 02:00 in Chicago (CDT, UTC−5) is 07:00 UTC.
    expect(scheduler.next('run', clock.now()).toISOString()).toBe('2026-06-01T07:00:00.000Z');
    const stop = new AbortController();
    stop.abort();
    await scheduler.start(stop.signal);
  });
});
