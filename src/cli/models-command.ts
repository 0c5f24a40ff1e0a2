import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { loadConfig } from '../config/load.js';
import { requireState, withState } from '../registry/state.js';
import { pinVersions, unpin } from '../registry/pins.js';
import { formatModelsList, formatSeriesVersions, modelsList, seriesVersionsOf } from '../registry/report.js';
import { lockOutput } from '../publish/recover.js';
import { printJson, type ModelsListAnswer, type ModelsShowAnswer, type RollbackAnswer, type UnpinAnswer } from './answers.js';
import { commandLog } from './progress.js';

const version = (v: string): number | 'previous' => {
  if (v === 'previous') return v;
  const n = Number(v.replace(/^v/, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a version number or "previous", got "${v}"`);
  return n;
};

interface OutFlags { out?: string; config?: string; json?: boolean }
/** Every models command reads or changes registered versions, so the registry must exist already. */
const outDir = (o: OutFlags): string => requireState(resolve(loadConfig(o.config, { out: o.out }).out));
const withOut = (cmd: Command): Command => cmd
  .option('-o, --out <dir>', 'output folder holding state.duckdb (default: ./shelfcast-out)')
  .option('-c, --config <file>', 'JSON config file')
  .option('--json', 'print JSON');

/** `shelfcast models list|show|rollback|unpin`: the registry of model versions. */
export function registerModels(program: Command): void {
  const cmd = program.command('models').description('registered model versions: what is live, their history, rollback');
  withOut(cmd.command('list').description('what is live: series, versions, realised accuracy by model family; the pinned and drifting series')
    .option('--all', 'name every pinned and drifting series (default: the first 20 of each, then a count)'))
    .action(async (o: OutFlags & { all?: boolean }) => {
      const m = await withState(outDir(o), modelsList);
      if (o.json) printJson({ command: 'models list', ...m } satisfies ModelsListAnswer);
      else process.stdout.write(formatModelsList(m, o.all === true) + '\n');
    });
  withOut(cmd.command('show').description('every version of one series with its backtest and realised accuracy').requiredOption('-s, --store <id>').requiredOption('-k, --sku <id>'))
    .action(async (o: OutFlags & { store: string; sku: string }) => {
      const s = await withState(outDir(o), (db) => seriesVersionsOf(db, o.store, o.sku));
      if (o.json) printJson({ command: 'models show', ...s } satisfies ModelsShowAnswer);
      else process.stdout.write(formatSeriesVersions(s) + '\n');
    });
  withOut(cmd.command('rollback').description('pin a store (or one SKU) to an earlier version; runs honour pins until unpin')
    .requiredOption('-s, --store <id>').option('-k, --sku <id>', 'one series (default: every SKU of the store)')
    .requiredOption('--to <version>', 'version number, or "previous"', version))
    .action(async (o: OutFlags & { store: string; sku?: string; to: number | 'previous' }) => {
      const out = outDir(o);
      const lock = await lockOutput(out, 'models rollback');
      try {
        const pins = await withState(out, (db) => pinVersions(db, o.store, o.sku, o.to, new Date().toISOString()));
        // Pinning a version that monitor found drifting is allowed (it may be the lesser evil), but said.
        for (const p of pins) if (p.drifted) commandLog().warn(`store ${p.store_id} sku ${p.sku}: v${p.to} drifted (flagged ${p.drifted.flagged_at}: ${p.drifted.reason}); pinned anyway`);
        if (o.json) printJson({ command: 'models rollback', pins } satisfies RollbackAnswer);
        else for (const p of pins) process.stdout.write(`pinned store ${p.store_id} sku ${p.sku}: v${p.from} → v${p.to}${p.drifted ? ` (warning: v${p.to} drifted ${p.drifted.flagged_at})` : ''}\n`);
      } finally {
        await lock.release();
      }
    });
  withOut(cmd.command('unpin').description('let pinned series follow retrains again').requiredOption('-s, --store <id>').option('-k, --sku <id>'))
    .action(async (o: OutFlags & { store: string; sku?: string }) => {
      const out = outDir(o);
      const lock = await lockOutput(out, 'models unpin');
      try {
        const n = await withState(out, (db) => unpin(db, o.store, o.sku));
        if (o.json) printJson({ command: 'models unpin', unpinned: n } satisfies UnpinAnswer);
        else process.stdout.write(`unpinned ${n} series\n`);
      } finally {
        await lock.release();
      }
    });
}
