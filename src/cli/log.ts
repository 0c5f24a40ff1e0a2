import { hostname } from 'node:os';
import { pino, type Logger as Pino } from 'pino';
import { UserError } from '../errors.js';

export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/**
 * Where a command says what it is doing (stderr; stdout carries its answer). Text for a person
 * on a terminal; JSON lines (pino) for a platform's log collector. Both carry an ISO timestamp
 * with its zone on every line.
 */
export interface Log {
  readonly format: LogFormat;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * `--log-format`, else SHELFCAST_LOG_FORMAT, else text on a terminal and JSON lines
 * otherwise (a cron log, a container's stderr).
 */
export function logFormat(flag: string | undefined, stream: { isTTY?: boolean } = process.stderr, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const chosen = flag ?? (env.SHELFCAST_LOG_FORMAT || undefined);
  if (chosen === undefined) return stream.isTTY === true ? 'text' : 'json';
  if (chosen === 'json' || chosen === 'text') return chosen;
  throw new UserError(`${flag === undefined ? 'SHELFCAST_LOG_FORMAT' : '--log-format'} = ${JSON.stringify(chosen)}: expected json or text`);
}

/** A timestamp in ISO 8601 with its zone (UTC, `Z`), as both formats write it. */
export const isoNow = (): string => new Date().toISOString();

export function createLog(format: LogFormat, command: string, stream: NodeJS.WritableStream = process.stderr): Log {
  if (format === 'text') {
    const line = (prefix: string) => (message: string): void => { stream.write(`${isoNow()} ${prefix}${message}\n`); };
    return { format, info: line(''), warn: line('warning: '), error: line('error: ') };
  }
  // Synchronous writes: a line logged just before process.exit is not lost.
  const destination = stream === process.stderr ? pino.destination({ fd: 2, sync: true }) : stream;
  const logger: Pino = pino({
    base: { pid: process.pid, hostname: hostname(), command },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
  const at = (level: 'info' | 'warn' | 'error') => (message: string, fields: Record<string, unknown> = {}): void => { logger[level](fields, message); };
  return { format, info: at('info'), warn: at('warn'), error: at('error') };
}
