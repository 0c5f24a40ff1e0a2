import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/** A CSV file written line by line, buffered, honouring back-pressure on `flush`. */
export class CsvWriter {
  private readonly out: WriteStream;
  private lines: string[] = [];
  rows = 0;

  constructor(path: string, header: readonly string[]) {
    this.out = createWriteStream(path, { encoding: 'utf8' });
    this.out.write(header.join(',') + '\n');
  }

  /** Queue one already-formatted line. */
  add(line: string): void {
    this.lines.push(line);
    this.rows++;
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
