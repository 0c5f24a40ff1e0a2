import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';

/**
 * Records of plain data and typed arrays in a file, for what a sharded run hands between its
 * steps (batches from `plan` to the shards, results from the shards to `publish`). A record is
 * a JSON header `{ value, arrays }`, in which each typed array of `value` stands as
 * `{"$ta": k}` and `arrays[k]` gives its type and length, followed by the arrays' bytes, each
 * 8-byte aligned; a file is records one after another, each prefixed by its byte length.
 * Typed arrays keep every bit, which JSON would not for NaN and ±Infinity.
 */

const TYPES = { Float64Array, Float32Array, Int32Array, Int16Array, Uint16Array, Uint8Array } as const;
type TypeName = keyof typeof TYPES;
type Typed = InstanceType<(typeof TYPES)[TypeName]>;

function typeName(v: unknown): TypeName | null {
  if (!ArrayBuffer.isView(v) || v instanceof DataView) return null;
  const name = v.constructor.name;
  if (!(name in TYPES)) throw new Error(`records: cannot store a ${name}`);
  return name as TypeName;
}

const align = (n: number): number => (n + 7) & ~7;

export function encodeRecord(value: unknown): Buffer {
  const arrays: { type: TypeName; n: number; data: Typed }[] = [];
  const body = JSON.stringify(value, (_k, v: unknown) => {
    const type = typeName(v);
    if (!type) return v;
    arrays.push({ type, n: (v as Typed).length, data: v as Typed });
    return { $ta: arrays.length - 1 };
  });
  const header = Buffer.from(`{"arrays":${JSON.stringify(arrays.map((a) => ({ type: a.type, n: a.n })))},"value":${body}}`);
  let size = align(4 + header.length);
  const offsets = arrays.map((a) => { const at = size; size = align(size + a.data.byteLength); return at; });
  const out = Buffer.alloc(size);
  out.writeUInt32LE(header.length, 0);
  header.copy(out, 4);
  arrays.forEach((a, k) => Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).copy(out, offsets[k]));
  return out;
}

export function decodeRecord<T>(buf: Buffer): T {
  const len = buf.readUInt32LE(0);
  const header = JSON.parse(buf.subarray(4, 4 + len).toString('utf8')) as { arrays: { type: TypeName; n: number }[]; value: unknown };
  let at = align(4 + len);
  const arrays = header.arrays.map(({ type, n }) => {
    const Ctor = TYPES[type];
    const bytes = n * Ctor.BYTES_PER_ELEMENT;
    // A copy of its own, aligned for the element type and transferable to a worker.
    const data = new Uint8Array(bytes);
    data.set(buf.subarray(at, at + bytes));
    at = align(at + bytes);
    return new Ctor(data.buffer);
  });
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive);
    if (v && typeof v === 'object') {
      if ('$ta' in v) return arrays[(v as { $ta: number }).$ta];
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]));
    }
    return v;
  };
  return revive(header.value) as T;
}

/** Appends records to a file. */
export class RecordWriter {
  private readonly out: WriteStream;
  count = 0;

  constructor(path: string) {
    this.out = createWriteStream(path);
  }

  async write(value: unknown): Promise<void> {
    const rec = encodeRecord(value);
    const len = Buffer.alloc(4);
    len.writeUInt32LE(rec.length, 0);
    this.count++;
    this.out.write(len);
    if (!this.out.write(rec)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
  }
}

/** The records of a file, one at a time (memory: one record). */
export async function* readRecords<T>(path: string): AsyncGenerator<T> {
  let pending: Buffer = Buffer.alloc(0);
  for await (const chunk of createReadStream(path)) {
    pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
    for (;;) {
      if (pending.length < 4) break;
      const len = pending.readUInt32LE(0);
      if (pending.length < 4 + len) break;
      yield decodeRecord<T>(pending.subarray(4, 4 + len));
      pending = pending.subarray(4 + len);
    }
  }
  if (pending.length) throw new Error(`${path}: truncated record (${pending.length} bytes left over)`);
}
