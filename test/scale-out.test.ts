import { describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openDuckDb, queryOne } from '../src/db/duckdb.js';
import { RunManifest } from '../src/publish/manifest.js';
import { addOverride } from '../src/publish/overrides.js';
import { tempDir, writeCsv } from './helpers/tmp.js';

/**
 * One run split across machines (issue 15): `plan`, N shard processes (started at once, with
 * the environment a Kubernetes Indexed Job gives them), `publish`. What it publishes must be
 * the bytes one `shelfcast run` publishes, and a shard killed or missing must stop the publish.
 */
const cli = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
const env = { ...process.env, SHELFCAST_LOG_FORMAT: 'text' };
const shelfcast = (args: string[], extra: NodeJS.ProcessEnv = {}) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env: { ...env, ...extra } });

/** Start every shard at once, each told its index as an Indexed Job tells it; resolves to their exit codes. */
function shards(plan: string, out: string, n: number, extra: (k: number) => NodeJS.ProcessEnv = () => ({}), args: string[] = []): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, (_, k) => new Promise<number>((done) => {
    const p = spawn(process.execPath, [cli, 'run', '--plan', plan, '-o', out, '--threads', '1', '--quiet', ...args], { env: { ...env, JOB_COMPLETION_INDEX: String(k), JOB_COMPLETION_COUNT: String(n), ...extra(k) }, stdio: 'ignore' });
    p.on('exit', (code, signal) => done(signal ? 128 : code ?? 1));
  })));
}

const PUBLISHED = ['forecasts.csv', 'forecasts.parquet', 'series.csv', 'history.parquet', 'quality.json', 'rejects.csv'];

async function planThreeShardsPublish(input: string[], dir: string): Promise<{ single: string; sharded: string }> {
  const single = join(dir, 'single');
  const sharded = join(dir, 'sharded');
  const run = shelfcast(['run', ...input, '-o', single, '--threads', '1', '--quiet']);
  expect(run.status, run.stderr).toBe(0);
  const plan = shelfcast(['plan', '--shards', '3', ...input, '-o', sharded, '--quiet']);
  expect(plan.status, plan.stderr).toBe(0);
  const id = plan.stdout.trim().split('\n').pop() as string;
  expect(await shards(id, sharded, 3)).toEqual([0, 0, 0]);
  const pub = shelfcast(['publish', '--plan', id, '-o', sharded, '--quiet']);
  expect(pub.status, pub.stderr).toBe(0);
  return { single, sharded };
}

describe('a run split across machines', () => {
  it('publishes the same bytes as one run, on the demo data and on a larger generated set', async () => {
    const dir = tempDir();
    const big = join(dir, 'm5.parquet');
    execFileSync(process.execPath, [fileURLToPath(new URL('../bench/m5/generate.mjs', import.meta.url)), '--series', '600', '--days', '400', '--out', big, '--seed', '5', '--no-stats'], { stdio: 'ignore' });
    // One backtest window on the generated set: what is compared is the split, not the models.
    for (const [name, input] of [['demo', []], ['m5', ['-i', big, '--freq', 'day', '--windows', '1']]] as const) {
      const { single, sharded } = await planThreeShardsPublish([...input], join(dir, name));
      for (const f of PUBLISHED) expect(readFileSync(join(sharded, 'latest', f)).equals(readFileSync(join(single, 'latest', f))), `${name} ${f}`).toBe(true);
      expect(readlinkSync(join(sharded, 'latest'))).toBe(readlinkSync(join(single, 'latest')));
      // The registry and the manifest agree, and the plan is gone once published.
      const manifest = JSON.parse(readFileSync(join(sharded, 'latest', 'manifest.json'), 'utf8'));
      const conn = await openDuckDb();
      await conn.run(`ATTACH '${join(sharded, 'state.duckdb')}' AS s (READ_ONLY)`);
      const r = await queryOne<{ versions: number; runs: number; shards: number }>(conn, `SELECT (SELECT count(*) FROM s.model_versions WHERE run_id = '${manifest.run_id}')::INTEGER AS versions,
        (SELECT count(*) FROM s.runs WHERE run_id = '${manifest.run_id}')::INTEGER AS runs, (SELECT count(DISTINCT shard) FROM s.shards)::INTEGER AS shards`);
      await conn.run('DETACH s');
      conn.closeSync();
      expect(r).toEqual({ versions: manifest.model_versions.registered, runs: 1, shards: 3 });
      expect(existsSync(join(sharded, 'plans', manifest.run_id))).toBe(false);
    }
  });

  it('publishes the same ERP files as one run: output profiles, leadtime.csv and the reconciled hierarchy, its aggregates forecast on the shards', async () => {
    const dir = tempDir();
    const items = writeCsv(dir, 'items.csv', 'sku,category,pack_size,lead_time_days', ['BANANA-KG,fresh,1,2', 'BATTERY-AA,household,4,', 'BREAD-WH,fresh,1,1', 'CHARCOAL-5KG,seasonal,1,', 'EGGS-12,fresh,1,', 'ICE-CREAM,frozen,6,', 'LIGHTBULB,household,2,', 'MILK-1L,fresh,6,', 'SODA-2L,drinks,6,', 'TOY-ROBOT,seasonal,1,5', 'TURKEY-WHL,frozen,1,', 'UMBRELLA,seasonal,1,']);
    const config = join(dir, 'erp.json');
    writeFileSync(config, JSON.stringify({
      horizon: 7, items, calendars: { stores: fileURLToPath(new URL('../data/demo/stores.csv', import.meta.url)) },
      hierarchy: { enabled: true, samples: 200 }, leadtime: { days: 3, serviceLevel: 0.95, samples: 500 },
      outputs: [{ profile: 'sap-ibp', levels: ['series', 'store', 'region', 'category-store', 'sku-region', 'total'], round: 'integer' }, { profile: 'wide', name: 'wide-stores', layout: 'store', format: 'csv.gz', round: 'pack' }, { profile: 'long', format: 'parquet' }],
    }));
    // Small batches, so that the shards' batches mix series the single run batches apart. The
    // second night reuses the series' versions (batches carrying them), not the aggregates', and
    // applies a planner's override (carried in the plan) to the files of both.
    for (const night of ['first', 'second']) {
      const { single, sharded } = await planThreeShardsPublish(['-c', config, '--batch-size', '7'], dir);
      const manifest = RunManifest.parse(JSON.parse(readFileSync(join(single, 'latest', 'manifest.json'), 'utf8')));
      const shardedManifest = RunManifest.parse(JSON.parse(readFileSync(join(sharded, 'latest', 'manifest.json'), 'utf8')));
      expect(manifest.hierarchy?.aggregates).toBeGreaterThan(0);
      // W from the shards' one-step in-sample errors, on the second night the reused series' too.
      expect(manifest.hierarchy?.errors, night).toBe('insample');
      expect(manifest.model_versions.decisions.reused, night).toBe(night === 'first' ? 0 : 48);
      expect(manifest.outputs?.flatMap((o) => o.files).length).toBe(1 + 4 + 1);
      const erpFiles = ['hierarchy.csv', 'leadtime.csv', 'SCHEMA.md', ...(manifest.outputs ?? []).flatMap((o) => o.files)];
      for (const f of [...PUBLISHED, ...erpFiles]) expect(readFileSync(join(sharded, 'latest', f)).equals(readFileSync(join(single, 'latest', f))), `${night} night: ${f}`).toBe(true);
      for (const f of erpFiles) expect(manifest.files[f], f).toBeDefined();
      expect(shardedManifest.files).toEqual(manifest.files);
      expect({ outputs: shardedManifest.outputs, hierarchy: shardedManifest.hierarchy, leadtime: shardedManifest.leadtime }).toEqual({ outputs: manifest.outputs, hierarchy: manifest.hierarchy, leadtime: manifest.leadtime });
      const day = manifest.data.target_dates.first;
      const milk = readFileSync(join(sharded, 'latest', 'outputs', 'sap-ibp.csv'), 'utf8').split('\n').filter((l) => l.startsWith(`series,S01,MILK-1L,`) && l.includes(`,${day},`));
      expect(milk.length).toBe(1);
      expect(milk[0].split(',')[7], night).toBe(night === 'first' ? milk[0].split(',')[6] : '500');
      if (night === 'first') for (const out of [single, sharded]) await addOverride(out, { store: 'S01', sku: 'MILK-1L', from: day, to: day, mode: 'value', amount: 500, reason: 'store event' }, 'alice');
    }
  });

  it('refuses to publish with a shard missing or killed, and completes once it is rerun', async () => {
    const out = tempDir();
    const first = shelfcast(['plan', '--shards', '3', '-o', out, '--quiet']);
    const id = first.stdout.trim().split('\n').pop() as string;
    // Shard 1 is killed after its first batch; the others finish.
    expect(await shards(id, out, 3, (k) => (k === 1 ? { SHELFCAST_FAULT_AT: 'shard-batch' } : {}), ['--batch-size', '4'])).toEqual([0, 128, 0]);
    const refused = shelfcast(['publish', '--plan', id, '-o', out]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`shard 1/3 of plan ${id} has not finished.*nothing published`));
    expect(existsSync(join(out, 'latest'))).toBe(false);
    // The rerun of that one shard completes the run.
    const rerun = spawnSync(process.execPath, [cli, 'run', '--plan', id, '--shard', '1/3', '-o', out, '--threads', '1', '--quiet'], { encoding: 'utf8', env });
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(shelfcast(['publish', '--plan', id, '-o', out, '--quiet']).status).toBe(0);
    expect(readlinkSync(join(out, 'latest'))).toBe(join('runs', id));
  });

  it('keeps each series on its shard from one night to the next', async () => {
    const out = tempDir();
    const plan = (): string => {
      const r = shelfcast(['plan', '--shards', '2', '-o', out, '--quiet']);
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.trim().split('\n').pop() as string;
    };
    plan();
    // As the plain-Kubernetes Jobs do it: the shards and the publish take the newest plan.
    expect(await shards('latest', out, 2)).toEqual([0, 0]);
    expect(shelfcast(['publish', '--plan', 'latest', '-o', out, '--quiet']).status).toBe(0);
    const shardsOf = async (): Promise<string> => {
      const conn = await openDuckDb();
      await conn.run(`ATTACH '${join(out, 'state.duckdb')}' AS s (READ_ONLY)`);
      const r = await queryOne<{ a: string }>(conn, `SELECT string_agg(store_id || sku || shard, ',' ORDER BY store_id, sku) AS a FROM s.shards`);
      await conn.run('DETACH s');
      conn.closeSync();
      return r.a;
    };
    const before = await shardsOf();
    const next = plan();
    const json = JSON.parse(readFileSync(join(out, 'plans', next, 'plan.json'), 'utf8'));
    expect(json.series.reduce((a: number, b: number) => a + b, 0)).toBe(48);
    expect(await shards(next, out, 2)).toEqual([0, 0]);
    expect(shelfcast(['publish', '--plan', next, '-o', out, '--quiet']).status).toBe(0);
    expect(await shardsOf()).toBe(before);
  });

  it('refuses, in one line and leaving no plan, a run that would use the global network', () => {
    // Shards would each need the networks and their inputs (issue 16), which plans do not carry.
    const dir = tempDir();
    const candidate = join(dir, 'global.json');
    writeFileSync(candidate, JSON.stringify({ models: { candidates: { smooth: ['ets', 'global'] } } }));
    const items = join(dir, 'new_items.csv');
    writeFileSync(items, 'store_id,sku\nS01,NEW-1\n');
    const withItems = join(dir, 'items.json');
    writeFileSync(withItems, JSON.stringify({ input: { newItems: items } }));
    for (const [cfg, why] of [[candidate, /'global' is a candidate/], [withItems, /input\.newItems lists 1 new items/]] as const) {
      const out = join(dir, `out-${why.source.length}`);
      const r = shelfcast(['plan', '--shards', '2', '-c', cfg, '-o', out, '--quiet']);
      expect(r.status).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, r.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(/a sharded run \(plan, shards, publish\) cannot use the global network/);
      expect(lines[0]).toMatch(why);
      expect(existsSync(join(out, 'plans')) ? readdirSync(join(out, 'plans')) : []).toEqual([]);
      expect(existsSync(join(out, 'latest'))).toBe(false);
    }
  });

  it('says what a bad shard spec or an unknown plan is, in one line', () => {
    const out = tempDir();
    const bad = shelfcast(['run', '--plan', 'nope', '--shard', '3/3', '-o', out]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/--shard 3\/3: the shard must be 0 … 2/);
    const unknown = shelfcast(['publish', '--plan', 'nope', '-o', out]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/no plan nope in .*run `shelfcast plan` first/);
  });
});
