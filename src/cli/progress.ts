import cliProgress from 'cli-progress';
import type { RunEvents } from '../run/events.js';

/**
 * Progress for humans and for logs: a bar on an interactive terminal, otherwise a plain
 * line at each tenth of the work, so a cron log shows where a run stopped.
 */
export function terminalEvents(stream: NodeJS.WriteStream = process.stderr, quiet = false): RunEvents & { close(): void } {
  const tty = stream.isTTY === true;
  let bar: cliProgress.SingleBar | null = null;
  let stage = '';
  let lastTenth = -1;
  const stamp = (): string => new Date().toISOString().slice(11, 19);
  const stopBar = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    stage(name) {
      stopBar();
      stage = name;
      lastTenth = -1;
      if (!quiet && !tty) stream.write(`${stamp()} ${name}\n`);
    },
    progress(done, total) {
      if (quiet || total <= 0) return;
      if (tty) {
        if (!bar) {
          bar = new cliProgress.SingleBar({ stream, format: `${stage.padEnd(9)} [{bar}] {percentage}% | {value}/{total} series | {eta_formatted} left`, hideCursor: true, clearOnComplete: false }, cliProgress.Presets.shades_classic);
          bar.start(total, done);
        } else bar.update(done);
        if (done >= total) stopBar();
        return;
      }
      const tenth = Math.floor((10 * done) / total);
      if (tenth > lastTenth) {
        lastTenth = tenth;
        stream.write(`${stamp()} ${stage} ${tenth * 10}% (${done}/${total} series)\n`);
      }
    },
    info(message) {
      if (quiet) return;
      stopBar();
      stream.write(`${stamp()} ${message}\n`);
    },
    close: stopBar,
  };
}
