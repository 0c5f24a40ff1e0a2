import type { Command } from 'commander';
import { isoDateArg } from './args.js';
import { loadConfig } from '../config/load.js';
import { calendarList, listCalendars, showStoreCalendar, storeCalendar } from '../calendars/describe.js';
import { printJson, type CalendarsListAnswer, type CalendarsShowAnswer } from './answers.js';
import { isoAddDays, todayIso } from '../ingest/dates.js';

/** `shelfcast calendars list|show`: which calendars exist and what one store gets. */
export function registerCalendars(program: Command): void {
  const cmd = program.command('calendars').description('the holiday, event and promotion calendars a run uses');
  cmd
    .command('list')
    .description('calendars available (shipped or calendars.dir), with entries, date span and digests')
    .option('-c, --config <file>', 'JSON config file (the calendars section)')
    .option('--json', 'print JSON')
    .action((o: { config?: string; json?: boolean }) => {
      const cfg = loadConfig(o.config).calendars;
      if (o.json) printJson({ command: 'calendars list', ...calendarList(cfg) } satisfies CalendarsListAnswer);
      else process.stdout.write(listCalendars(cfg) + '\n');
    });
  cmd
    .command('show')
    .description('the holidays, retail events and your events one store (and SKU) gets')
    .requiredOption('-s, --store <id>', 'store id')
    .option('-k, --sku <id>', 'also show events scoped to this SKU')
    .option('-c, --config <file>', 'JSON config file (calendars.stores, calendars.events…)')
    .option('--from <date>', 'first date (default: today)', isoDateArg)
    .option('--to <date>', 'last date (default: a year after --from)', isoDateArg)
    .option('--json', 'print JSON')
    .action((o: { store: string; sku?: string; config?: string; from?: string; to?: string; json?: boolean }) => {
      const from = o.from ?? todayIso();
      const to = o.to ?? isoAddDays(from, 365);
      const cfg = loadConfig(o.config).calendars;
      if (o.json) printJson({ command: 'calendars show', ...storeCalendar(cfg, o.store, from, to, o.sku) } satisfies CalendarsShowAnswer);
      else process.stdout.write(showStoreCalendar(cfg, o.store, from, to, o.sku) + '\n');
    });
}
