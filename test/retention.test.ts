import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../src/config/load.js';
import { runForecast, type RunKind } from '../src/run/run.js';
import { withState } from '../src/registry/state.js';
import { pinVersions, unpin } from '../src/registry/pins.js';
import { runsToPrune } from '../src/run/retention.js';
import { dailyRows, tempDir, writeCsv } from './helpers/tmp.js';

const DAY = 86400000;
const START = Date.parse('2024-01-01T00:00:00Z');

describe('retention', () => {
  it('prunes old run folders after a publish, never the latest, pinned runs or runs a live version comes from', async () => {
    const dir = tempDir();
    const out = join(dir, 'out');
    let n = 0;
    const publish = async (kind: RunKind) => {
      const day = 100 + n++;
      const rows = ['A', 'B'].flatMap((sku) => dailyRows('S1', sku, '2024-01-01', day, (i) => 10 + (i % 7)));
      const cfg = parseConfig({ input: { path: writeCsv(dir, `d${day}.csv`, 'store_id,sku,date,units', rows) }, out, horizon: 7, threads: 1, models: { windows: 1, combine: 1 }, calendars: { enabled: false }, retention: { keep: 2, keepRetrains: 0 } });
      return (await runForecast(cfg, undefined, new Date(START + day * DAY), kind)).runId;
    };
    const folders = () => readdirSync(join(out, 'runs')).sort();

    const r1 = await publish('retrain'); // v1 everywhere
    const r2 = await publish('retrain'); // v2 everywhere
    await withState(out, (db) => pinVersions(db, 'S1', 'A', 1, new Date(START + 101 * DAY).toISOString()));
    const n1 = await publish('run');
    expect(folders()).toEqual([r1, r2, n1].sort()); // r1: A's pinned v1; r2: B's live v2
    const n2 = await publish('run');
    const n3 = await publish('run');
    expect(folders()).toEqual([r1, r2, n2, n3].sort()); // n1 pruned
    // The registry keeps a pruned run's row (n1): pruning it again finds no folder.
    expect(await withState(out, (db) => runsToPrune(db, { keep: 2, keepRetrains: 0 }, n3))).toEqual({ prune: [n1], protected: { [r2]: 'live', [r1]: 'pinned' } });

    // Unpinned, A's v1 is no longer live: its run goes with the next publish; the registry keeps the rows.
    await withState(out, (db) => unpin(db, 'S1', 'A'));
    const n4 = await publish('run');
    expect(folders()).toEqual([r2, n3, n4].sort());
    expect(existsSync(join(out, '.staging'))).toBe(false);
    expect(readdirSync(join(out, 'latest')).length).toBeGreaterThan(0);

    // keepRetrains keeps the newest retrains besides; the latest is never pruned, whatever keep says.
    expect((await withState(out, (db) => runsToPrune(db, { keep: 1, keepRetrains: 0 }, n3))).protected[n3]).toBe('latest');
    expect((await withState(out, (db) => runsToPrune(db, { keep: 1, keepRetrains: 5 }, n4))).prune).toEqual([n1, n2, n3]);
  });
});
