#!/usr/bin/env node
// Regenerates the shipped calendars from rules. Deterministic; run after upgrading
// date-holidays or changing a rule below, then review the diff:
//   node calendars/generate.mjs
// holidays/<CC>.csv  public holidays from date-holidays (https://github.com/commenthol/date-holidays)
// events/<CC>.csv    retail events from the rules in this file
import { writeFileSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const Holidays = require('date-holidays');
const here = dirname(fileURLToPath(import.meta.url));
const FIRST = 2000, LAST = 2035;
const COUNTRIES = ['US', 'CA', 'GB', 'DE', 'FR', 'ES', 'IT', 'NL', 'AU'];
const version = JSON.parse(readFileSync(join(here, '..', 'node_modules', 'date-holidays', 'package.json'), 'utf8')).version;

const iso = (d) => d.toISOString().slice(0, 10);
const utc = (y, m, d) => new Date(Date.UTC(y, m - 1, d));
const addDays = (d, n) => new Date(d.getTime() + n * 86400000);
/** n-th weekday (0 = Sunday) of a month; n = -1 for the last. */
function nth(y, m, weekday, n) {
  if (n > 0) { const d = utc(y, m, 1); return addDays(d, ((weekday - d.getUTCDay() + 7) % 7) + 7 * (n - 1)); }
  const d = utc(y, m + 1, 0); return addDays(d, -((d.getUTCDay() - weekday + 7) % 7));
}
function easter(y) { // Anonymous Gregorian algorithm (Meeus)
  const a = y % 19, b = Math.floor(y / 100), c = y % 100, d = Math.floor(b / 4), e = b % 4, f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30, i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  return utc(y, Math.floor((h + l - 7 * m + 114) / 31), ((h + l - 7 * m + 114) % 31) + 1);
}
const SUN = 0, MON = 1, THU = 4, SAT = 6;
const usThanksgiving = (y) => nth(y, 11, THU, 4);

// Retail events: [name, date rule, days before, days after, countries]. Windows are when
// shoppers react: the run-up to a gift day, the weekend around a sports final.
const EVENTS = [
  ['Super Bowl', (y) => nth(y, 2, SUN, y >= 2022 ? 2 : 1), 2, 0, ['US']],
  ["Valentine's Day", (y) => utc(y, 2, 14), 3, 0, COUNTRIES],
  ['Easter', easter, 3, 1, COUNTRIES],
  ["Mother's Day", (y) => nth(y, 5, SUN, 2), 6, 0, ['US', 'CA', 'AU', 'DE', 'IT', 'NL']],
  ["Mother's Day", (y) => addDays(easter(y), -21), 6, 0, ['GB']],
  ["Mother's Day", (y) => nth(y, 5, SUN, 1), 6, 0, ['ES']],
  ["Mother's Day", (y) => { const d = nth(y, 5, SUN, -1); return iso(d) === iso(addDays(easter(y), 49)) ? addDays(d, 7) : d; }, 6, 0, ['FR']],
  ["Father's Day", (y) => nth(y, 6, SUN, 3), 6, 0, ['US', 'CA', 'GB', 'FR', 'NL']],
  ["Father's Day", (y) => nth(y, 9, SUN, 1), 6, 0, ['AU']],
  ["Father's Day", (y) => utc(y, 3, 19), 6, 0, ['ES', 'IT']],
  ["Father's Day", (y) => addDays(easter(y), 39), 0, 0, ['DE']],
  // School starts on different days in every district: the season is a fixed span of dates.
  ['Back to school', (y) => utc(y, 8, 1), 0, 30, ['US', 'CA']],
  ['Back to school', (y) => utc(y, 9, 1), 14, 7, ['GB', 'FR', 'IT', 'ES', 'NL']],
  ['Back to school', (y) => utc(y, 1, 27), 14, 7, ['AU']],
  ['Halloween', (y) => utc(y, 10, 31), 6, 0, ['US', 'CA', 'GB']],
  ['Black Friday', (y) => addDays(usThanksgiving(y), 1), 0, 2, COUNTRIES],
  ['Cyber Monday', (y) => addDays(usThanksgiving(y), 4), 0, 0, COUNTRIES],
  ['Christmas Eve', (y) => utc(y, 12, 24), 6, 0, COUNTRIES],
  ['Boxing Day', (y) => utc(y, 12, 26), 0, 3, ['GB', 'CA', 'AU', 'DE', 'NL', 'IT']],
  ["New Year's Eve", (y) => utc(y, 12, 31), 1, 0, COUNTRIES],
];

const cleanName = (n) => n.replace(/ \(substitute day\)$/i, '').replace(/,/g, '');
function publicHolidays(country) {
  const national = new Holidays(country);
  const states = Object.keys(new Holidays().getStates(country) ?? {});
  const rows = new Map(); // date|name → set of regions ('' = whole country)
  const add = (list, region) => {
    for (const h of list) {
      if (h.type !== 'public') continue;
      const key = `${h.date.slice(0, 10)}|${cleanName(h.name)}`;
      if (!rows.has(key)) rows.set(key, new Set());
      rows.get(key).add(region);
    }
  };
  for (let y = FIRST; y <= LAST; y++) {
    add(national.getHolidays(y), '');
    for (const s of states) {
      const nat = new Set(national.getHolidays(y).filter((h) => h.type === 'public').map((h) => `${h.date.slice(0, 10)}|${cleanName(h.name)}`));
      add(new Holidays(country, s).getHolidays(y).filter((h) => !nat.has(`${h.date.slice(0, 10)}|${cleanName(h.name)}`)), s);
    }
  }
  return [...rows].map(([k, regions]) => { const [date, name] = k.split('|'); return { date, name, regions: regions.has('') ? '' : [...regions].sort().join(';') }; })
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.name < b.name ? -1 : 1));
}

for (const cc of COUNTRIES) {
  const hol = publicHolidays(cc);
  writeFileSync(join(here, 'holidays', `${cc}.csv`), [`# ${cc} public holidays ${FIRST}-${LAST}, generated by calendars/generate.mjs from date-holidays ${version}; regions empty = nationwide`, 'date,name,regions', ...hol.map((h) => `${h.date},${h.name},${h.regions}`)].join('\n') + '\n');
  const ev = [];
  for (const [name, rule, before, after, countries] of EVENTS) {
    if (!countries.includes(cc)) continue;
    for (let y = FIRST; y <= LAST; y++) ev.push({ date: iso(rule(y)), name, before, after });
  }
  ev.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  writeFileSync(join(here, 'events', `${cc}.csv`), [`# ${cc} retail events ${FIRST}-${LAST}, generated by calendars/generate.mjs; before/after: days of the window around the date`, 'date,name,before,after', ...ev.map((e) => `${e.date},${e.name},${e.before},${e.after}`)].join('\n') + '\n');
  console.log(`${cc}: ${hol.length} holidays, ${ev.length} events`);
}
