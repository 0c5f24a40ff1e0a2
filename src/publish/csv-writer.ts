import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { withPath } from '../errors.js';

/** A CSV file written line by line, buffered, honouring back-pressure on `flush`. */
export class CsvWriter {
  private readonly out: WriteStream;
  private lines: string[] = [];
  /** A write error (a full disk) arrives as an event, perhaps between two calls: kept for the next one. */
  private failed: Error | null = null;
  rows = 0;

  constructor(path: string, header: readonly string[]) {
    this.out = createWriteStream(path, { encoding: 'utf8' });
    this.out.on('error', (e) => {
      this.failed ??= withPath(e, path) as Error;
    });
    this.out.write(header.join(',') + '\n');
  }

  /** Queue one already-formatted line. */
  add(line: string): void {
    this.lines.push(line);
    this.rows++;
  }

  async flush(): Promise<void> {
    if (this.failed) throw this.failed;
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    await this.flush();
    this.out.end();
    await finished(this.out);
  }
}
