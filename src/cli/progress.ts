import cliProgress from 'cli-progress';
import type { RunEvents } from '../run/events.js';
import { createLog, logFormat, type Log } from './log.js';

let current: Log | null = null;

/** The log of this command (set by main.ts from `--log-format`). */
export function commandLog(): Log {
  current ??= createLog(logFormat(undefined), 'shelfcast');
  return current;
}

export function setCommandLog(log: Log): void {
  current = log;
}

/**
 * Progress for humans and for logs: a bar on an interactive terminal, otherwise a line at
 * each tenth of the work, so a cron log shows where a run stopped; each line timestamped
 * (log.ts). A stage with no count (ingest, calendars, publish) shows a spinner-like bar of its
 * elapsed time on a terminal. `quiet` keeps only warnings.
 */
export function terminalEvents(stream: NodeJS.WriteStream = process.stderr, quiet = false, log: Log = commandLog()): RunEvents & { close(): void } {
  const bar = log.format === 'text' && stream.isTTY === true;
  let active: cliProgress.SingleBar | null = null;
  let ticker: NodeJS.Timeout | null = null;
  let stage = '';
  let lastTenth = -1;
  let counted = false;
  const stopBar = (): void => {
    if (ticker) clearInterval(ticker);
    ticker = null;
    active?.stop();
    active = null;
  };
  /**
   * A stage without a count: its name and elapsed seconds on one line, redrawn until the next
   * stage (which leaves the final time), a count (which takes the line) or a message.
   */
  let stageStart = 0;
  const startTicker = (name: string): void => {
    const elapsed = (): string => ((Date.now() - stageStart) / 1000).toFixed(1);
    active = new cliProgress.SingleBar({ stream, format: `${name.padEnd(9)} {elapsed} s`, hideCursor: true, clearOnComplete: true }, cliProgress.Presets.shades_classic);
    active.start(1, 0, { elapsed: elapsed() });
    ticker = setInterval(() => active?.update(0, { elapsed: elapsed() }), 200);
    ticker.unref();
  };
  const endStage = (): void => {
    const ticking = ticker !== null;
    stopBar();
    if (ticking && stage !== '') stream.write(`${stage.padEnd(9)} ${((Date.now() - stageStart) / 1000).toFixed(1)} s\n`);
  };
  return {
    stage(name) {
      endStage();
      stage = name;
      stageStart = Date.now();
      lastTenth = -1;
      counted = false;
      if (quiet) return;
      if (bar) startTicker(name);
      else log.info(name, { stage: name });
    },
    progress(done, total) {
      if (quiet || total <= 0) return;
      counted = true;
      if (bar) {
        if (ticker) stopBar();
        if (!active) {
          active = new cliProgress.SingleBar({ stream, format: `${stage.padEnd(9)} [{bar}] {percentage}% | {value}/{total} series | {eta_formatted} left`, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
          active.start(total, done);
        } else active.update(done);
        if (done >= total) stopBar();
        return;
      }
      const tenth = Math.floor((10 * done) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        log.info(`${stage} ${tenth * 10}% (${done}/${total} series)`, { stage, done, total });
      }
    },
    info(message) {
      const warning = message.startsWith('warning: ');
      if (quiet && !warning) return;
      stopBar();
      if (warning) log.warn(message.slice('warning: '.length));
      else log.info(message);
      if (bar && !quiet && stage !== '' && !counted) startTicker(stage);
    },
    close: endStage,
  };
}
