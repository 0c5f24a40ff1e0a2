import { UserError } from '../errors.js';

/**
 * A duration in seconds from an environment variable, for operator settings that every
 * process sharing an output folder must agree on whatever config file it was given.
 */
export function envSeconds(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const s = Number(raw);
  if (!Number.isFinite(s) || s < min) throw new UserError(`${name} must be a number of seconds ≥ ${min}, got "${raw}"`);
  return s;
}
