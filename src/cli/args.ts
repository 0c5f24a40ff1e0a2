import { InvalidArgumentError } from 'commander';
import { ISO_DATE_HINT, isIsoDate } from '../iso-date.js';

/** A date flag (`--date`, `--from`, …): refused by commander, with the flag's name, unless it exists. */
export function isoDateArg(v: string): string {
  if (!isIsoDate(v)) throw new InvalidArgumentError(`${ISO_DATE_HINT}, got "${v}"`);
  return v;
}
