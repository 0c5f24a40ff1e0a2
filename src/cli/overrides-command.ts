import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../config/load.js';
import { UserError } from '../errors.js';
import { addOverride, describe, endOverride, listOverrides, overrideLog, OverrideRequest, type Override } from '../publish/overrides.js';
import { applyOverridesRun } from '../run/overrides-run.js';
import { printJson } from './answers.js';
import { terminalEvents } from './progress.js';

interface Common { config?: string; out?: string; json?: boolean; by?: string }

/** Who a command-line action is recorded as: `--by`, else `cli:<login>`. */
function who(o: Common): string {
  if (o.by) return o.by;
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

function line(o: Override): string {
  return `#${o.id} ${o.status.padEnd(7)} ${describe({ store: o.store_id, sku: o.sku, from: o.from, to: o.to, mode: o.mode, amount: o.amount })}  "${o.reason}"  by ${o.created_by} ${o.created_at}${o.expires ? `, expires ${o.expires}` : ''}${o.ended_by ? `; ${o.status} by ${o.ended_by} ${o.ended_at}` : ''}`;
}

const idArg = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UserError(`override id must be a whole number ≥ 1, got "${v}"`);
  return n;
};

/** `shelfcast overrides …`: a planner's changes to the forecast, with who, when and why. */
export function registerOverrides(program: Command): void {
  const cmd = program.command('overrides').description('planner overrides: add, list, expire, remove, apply (publish a run with them), and their audit log');
  const common = (c: Command): Command => c
    .option('-o, --out <dir>', 'output folder (default: ./shelfcast-out)')
    .option('-c, --config <file>', 'JSON config file')
    .option('--json', 'print JSON');
  const out = (o: Common): string => resolve(loadConfig(o.config, { out: o.out }).out);

  common(cmd.command('add'))
    .description('set a store/SKU/date range to a value, or change it by a %, with a reason')
    .requiredOption('-s, --store <id>').requiredOption('-k, --sku <id>')
    .requiredOption('--from <date>', 'first target date').requiredOption('--to <date>', 'last target date')
    .option('--value <units>', 'units per period').option('--pct <percent>', '% change of the statistical forecast')
    .requiredOption('--reason <text>', 'why').option('--expires <date>', 'stop applying after this date')
    .option('--by <name>', 'who to record (default: cli:<login>)')
    .action(async (o: Common & { store: string; sku: string; from: string; to: string; value?: string; pct?: string; reason: string; expires?: string }) => {
      if ((o.value === undefined) === (o.pct === undefined)) throw new UserError('give one of --value <units> or --pct <percent>');
      const parsed = OverrideRequest.safeParse({ store: o.store, sku: o.sku, from: o.from, to: o.to, mode: o.value !== undefined ? 'value' : 'pct', amount: Number(o.value ?? o.pct), reason: o.reason, expires: o.expires });
      if (!parsed.success) throw new UserError(`override: ${z.prettifyError(parsed.error).replaceAll('\n', ' ')}`);
      const added = await addOverride(out(o), parsed.data, who(o));
      if (o.json) return printJson({ command: 'overrides add', override: added });
      process.stdout.write(`${line(added)}\napplied by the next run, or now with: shelfcast overrides apply\n`);
    });

  common(cmd.command('list'))
    .description('every override, newest first')
    .option('-s, --store <id>').option('-k, --sku <id>')
    .addOption(new Option('--status <status>', 'active, expired or removed').choices(['active', 'expired', 'removed']))
    .action(async (o: Common & { store?: string; sku?: string; status?: Override['status'] }) => {
      const list = await listOverrides(out(o), { store: o.store, sku: o.sku, status: o.status });
      if (o.json) return printJson({ command: 'overrides list', overrides: list });
      process.stdout.write(list.length ? list.map(line).join('\n') + '\n' : 'no overrides\n');
    });

  for (const [name, how] of [['expire', 'expired'], ['remove', 'removed']] as const) {
    common(cmd.command(`${name} <id>`))
      .description(how === 'expired' ? 'stop applying an override that has run its course (kept in the audit log)' : 'withdraw an override made by mistake (kept in the audit log)')
      .option('--by <name>', 'who to record (default: cli:<login>)')
      .action(async (id: string, o: Common) => {
        const r = await endOverride(out(o), idArg(id), how, who(o));
        if (!r) throw new UserError(`no override #${id}`);
        if (o.json) return printJson({ command: `overrides ${name}`, override: r.override, changed: r.changed });
        process.stdout.write(`${line(r.override)}${r.changed ? '' : ' (unchanged: it was not active)'}\n`);
      });
  }

  common(cmd.command('log'))
    .description('the audit log: every action on overrides, newest first')
    .option('--id <id>', 'one override', idArg)
    .action(async (o: Common & { id?: number }) => {
      const log = await overrideLog(out(o), o.id);
      if (o.json) return printJson({ command: 'overrides log', log });
      process.stdout.write(log.length ? log.map((a) => `${a.at} #${a.override_id} ${a.action} by ${a.by}${a.run_id ? ` in run ${a.run_id}` : ''}${a.detail ? `: ${a.detail}` : ''}`).join('\n') + '\n' : 'no actions\n');
    });

  common(cmd.command('apply'))
    .description('publish the latest run again with the active overrides in forecast_final (atomic, like every publish)')
    .option('--by <name>', 'who to record (default: cli:<login>)')
    .action(async (o: Common) => {
      const cfg = loadConfig(o.config, { out: o.out });
      const events = terminalEvents(process.stderr, true);
      const r = await applyOverridesRun(cfg, who(o), events);
      events.close();
      if (o.json) return printJson({ command: 'overrides apply', run_id: r.runId, base_run: r.base, dir: r.dir, active: r.active, applied: r.applied, rows: r.rows, published: r.published });
      process.stdout.write(r.published
        ? `published run ${r.runId}: run ${r.base} with ${r.applied} of ${r.active} active overrides (${r.rows} forecast rows)\n  files: ${r.dir}\n`
        : `run ${r.runId} already has these overrides on run ${r.base}; nothing to publish\n`);
    });
}
