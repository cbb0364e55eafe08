// Reads only the columns a zoom asks for out of a sealed segment (docs/store.md "Zoom"): an Arrow
// IPC file says in its footer where its record batch lies, and the batch's header where each
// column's buffers lie in the body, so the step column and a few metrics are a few positioned
// reads of about 32 KiB each instead of the whole 1.8 MiB file and the decode of its 54 columns
// (bench/zoomDrawn.ts). It uses apache-arrow's own decoders of the footer and of the message
// header (exported by the package, marked internal): the layout is the Arrow IPC format's
// (https://arrow.apache.org/docs/format/Columnar.html#ipc-file-format). Anything this reader does
// not expect (more than one batch, compression, another type than our writer's) answers null,
// and the caller reads the file whole.
import { promises as fsp } from 'node:fs';
import { Type } from 'apache-arrow';
import { Footer } from 'apache-arrow/ipc/metadata/file';
import { Message } from 'apache-arrow/ipc/metadata/message';

export interface ReadColumn {
  values: Float64Array;
  /** Arrow's validity bitmap (bit i set: row i has a value); null when every row has one. */
  valid: Uint8Array | null;
}

const MAGIC = 'ARROW1';

/** Steps and the named Float64 columns (those the segment has) of a one-batch segment file; null: read it whole. */
export async function readColumns(file: string, names: readonly string[]): Promise<{ steps: Float64Array; columns: Map<string, ReadColumn> } | null> {
  const handle = await fsp.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const read = async (offset: number, length: number): Promise<Uint8Array> => {
      const buf = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buf, 0, length, offset);
      if (bytesRead !== length) throw new Error(`${file}: short read`);
      return buf;
    };
    if (size < 2 * MAGIC.length + 4) return null;
    const tail = await read(size - MAGIC.length - 4, MAGIC.length + 4);
    if (Buffer.from(tail.subarray(4)).toString('latin1') !== MAGIC) return null;
    const footerLength = new DataView(tail.buffer, tail.byteOffset, 4).getInt32(0, true);
    const footer = Footer.decode(await read(size - MAGIC.length - 4 - footerLength, footerLength));
    const block = footer.numRecordBatches === 1 ? footer.getRecordBatch(0) : null;
    if (!block) return null;
    const meta = await read(block.offset, block.metaDataLength);
    const view = new DataView(meta.buffer, meta.byteOffset, meta.byteLength);
    // An encapsulated message: 0xFFFFFFFF, then its length, then the flatbuffer (older files omit the first).
    const prefix = view.getInt32(0, true) === -1 ? 8 : 4;
    const message = Message.decode(meta.subarray(prefix));
    if (!message.isRecordBatch()) return null;
    const batch = message.header();
    if (batch.compression) return null;
    const fields = footer.schema.fields;
    const bodyAt = block.offset + block.metaDataLength;
    const rows = batch.length;
    // Flat primitive columns only: two buffers each (validity, values), in field order.
    if (fields.some((f) => ![Type.Int, Type.Float].includes(f.type.typeId)) || batch.buffers.length !== 2 * fields.length) return null;
    const column = async (i: number) => {
      const node = batch.nodes[i];
      const validity = batch.buffers[2 * i];
      const data = batch.buffers[2 * i + 1];
      const [bitmap, bytes] = await Promise.all([
        node.nullCount > 0 && validity.length > 0 ? read(bodyAt + validity.offset, validity.length) : Promise.resolve(null),
        read(bodyAt + data.offset, data.length),
      ]);
      return { bitmap, bytes };
    };
    const stepAt = fields.findIndex((f) => f.name === 'step');
    if (stepAt < 0 || fields[stepAt].type.typeId !== Type.Int) return null;
    const wanted = names.map((n) => [n, fields.findIndex((f) => f.name === n)] as const).filter(([, i]) => i >= 0 && fields[i].type.typeId === Type.Float);
    const [step, ...cols] = await Promise.all([column(stepAt), ...wanted.map(([, i]) => column(i))]);
    const stepBytes = aligned(step.bytes);
    const bigSteps = new BigInt64Array(stepBytes.buffer, stepBytes.byteOffset, rows);
    const steps = new Float64Array(rows);
    for (let i = 0; i < rows; i++) steps[i] = Number(bigSteps[i]);
    const columns = new Map<string, ReadColumn>();
    wanted.forEach(([name], j) => {
      const bytes = aligned(cols[j].bytes);
      columns.set(name, { values: new Float64Array(bytes.buffer, bytes.byteOffset, rows), valid: cols[j].bitmap });
    });
    return { steps, columns };
  } finally {
    await handle.close();
  }
}

/** The bytes in a buffer of their own (typed arrays of 8-byte values need an aligned start). */
function aligned(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
}
