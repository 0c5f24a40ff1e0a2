import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { BatchResult } from '../forecast/batch.js';
import type { SeriesKeys } from '../ingest/series-reader.js';
import { csvField, formatNumber, quantileColumn } from './format.js';

export function forecastColumns(levels: readonly number[]): string[] {
  return ['run_id', 'store_id', 'sku', 'date', 'step', 'forecast', ...levels.map(quantileColumn), 'model'];
}

/**
 * Streams forecast rows to CSV as batches arrive (in series order), so the output never has
 * to fit in memory. `targetDates[s]` is the date of step s+1, shared by every series.
 */
export class ForecastCsvWriter {
  private readonly out: WriteStream;
  rows = 0;

  constructor(path: string, private readonly runId: string, private readonly levels: readonly number[], private readonly targetDates: readonly string[]) {
    this.out = createWriteStream(path, { encoding: 'utf8' });
    this.out.write(forecastColumns(levels).join(',') + '\n');
  }

  async write(result: BatchResult, firstSid: number, keys: SeriesKeys): Promise<void> {
    const h = this.targetDates.length;
    const width = 1 + this.levels.length;
    const lines: string[] = [];
    for (let i = 0; i < result.labelIds.length; i++) {
      const sid = firstSid + i;
      const prefix = `${this.runId},${csvField(keys.store[sid])},${csvField(keys.sku[sid])},`;
      const model = csvField(result.labels[result.labelIds[i]]);
      for (let s = 0; s < h; s++) {
        const row = (i * h + s) * width;
        let line = `${prefix}${this.targetDates[s]},${s + 1}`;
        for (let k = 0; k < width; k++) line += ',' + formatNumber(result.values[row + k]);
        lines.push(line + ',' + model);
      }
    }
    this.rows += lines.length;
    if (!this.out.write(lines.join('\n') + '\n')) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
  }
}
