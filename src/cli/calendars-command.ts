import type { Command } from 'commander';
import { isoDateArg } from './args.js';
import { loadConfig } from '../config/load.js';
import { listCalendars, showStoreCalendar } from '../calendars/describe.js';
import { isoAddDays, todayIso } from '../ingest/dates.js';

/** `shelfcast calendars list|show`: which calendars exist and what one store gets. */
export function registerCalendars(program: Command): void {
  const cmd = program.command('calendars').description('the holiday, event and promotion calendars a run uses');
  cmd
    .command('list')
    .description('calendars available (shipped or calendars.dir), with entries, date span and digests')
    .option('-c, --config <file>', 'JSON config file (the calendars section)')
    .action((o: { config?: string }) => {
      process.stdout.write(listCalendars(loadConfig(o.config).calendars) + '\n');
    });
  cmd
    .command('show')
    .description('the holidays, retail events and your events one store (and SKU) gets')
    .requiredOption('-s, --store <id>', 'store id')
    .option('-k, --sku <id>', 'also show events scoped to this SKU')
    .option('-c, --config <file>', 'JSON config file (calendars.stores, calendars.events…)')
    .option('--from <date>', 'first date (default: today)', isoDateArg)
    .option('--to <date>', 'last date (default: a year after --from)', isoDateArg)
    .action((o: { store: string; sku?: string; config?: string; from?: string; to?: string }) => {
      const from = o.from ?? todayIso();
      const to = o.to ?? isoAddDays(from, 365);
      process.stdout.write(showStoreCalendar(loadConfig(o.config).calendars, o.store, from, to, o.sku) + '\n');
    });
}
