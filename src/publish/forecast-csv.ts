import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { csvField, formatNumber, quantileColumn } from './format.js';

export function forecastColumns(levels: readonly number[]): string[] {
  return ['run_id', 'store_id', 'sku', 'date', 'step', 'forecast', ...levels.map(quantileColumn), 'model'];
}

/**
 * Streams forecast rows to CSV, one series at a time, in the order given. `targetDates[s]` is
 * the date of step s+1, shared by every series.
 */
export class ForecastCsvWriter {
  private readonly out: WriteStream;
  private lines: string[] = [];
  rows = 0;

  constructor(path: string, private readonly runId: string, private readonly levels: readonly number[], private readonly targetDates: readonly string[]) {
    this.out = createWriteStream(path, { encoding: 'utf8' });
    this.out.write(forecastColumns(levels).join(',') + '\n');
  }

  /** Queue one series' rows; call `flush` now and then to bound memory. */
  add(store: string, sku: string, model: string, point: ArrayLike<number>, quantiles: readonly ArrayLike<number>[]): void {
    const prefix = `${this.runId},${csvField(store)},${csvField(sku)},`;
    const suffix = ',' + csvField(model);
    for (let s = 0; s < this.targetDates.length; s++) {
      let line = `${prefix}${this.targetDates[s]},${s + 1},${formatNumber(point[s])}`;
      for (const q of quantiles) line += ',' + formatNumber(q[s]);
      this.lines.push(line + suffix);
    }
    this.rows += this.targetDates.length;
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await once(this.out, 'finish');
  }
}
