// A run on disk as Arrow tables, in row order: each sealed segment as written, then the rows of
// metrics.jsonl past the last one (read in chunks, as a reopen does). What `lossradar export` writes
// from, so a run of millions of rows is never held whole (docs/store.md "Export").
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { tableFromIPC, type Table } from 'apache-arrow';
import { ColumnStore, RowColumns, SEGMENT_ROWS } from './columns';
import { lineChunks, parseLine, type LineProblem } from './jsonLines';
import { checkFlatRow, fromFlat, type FlatRow } from './run';

export async function* runTables(runDir: string, problems: (p: LineProblem) => void = () => undefined): AsyncGenerator<Table> {
  const log = path.join(runDir, 'metrics.jsonl');
  let size = 0;
  try {
    size = (await fsp.stat(log)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const { store, problem } = await ColumnStore.open(runDir, size, async (offset) => {
    const handle = await fsp.open(log, 'r');
    try {
      const { bytesRead, buffer } = await handle.read(Buffer.alloc(1), 0, 1, offset - 1);
      return bytesRead === 1 ? buffer[0] : null;
    } finally {
      await handle.close();
    }
  });
  // An index that does not fit the log is not used here either: the log alone is read.
  const index = problem === null ? store.index : { jsonlOffset: 0, jsonlLines: 0, segments: [] };
  if (problem !== null) problems({ line: 0, message: problem });
  let lastSeq: number | null = null;
  for (const entry of index.segments) {
    yield tableFromIPC(await fsp.readFile(store.fileOf(entry)));
    if (entry.lastSeq !== null) lastSeq = entry.lastSeq;
  }
  // A table is handed on as soon as a segment's worth of the log is read: the export holds at most
  // one segment and one chunk of a log of any length.
  let rows = new RowColumns();
  for await (const chunk of lineChunks(log, index.jsonlOffset, index.jsonlLines + 1)) {
    for (let i = 0; i < chunk.lines.length; i++) {
      const parsed = parseLine(chunk.lines[i], chunk.firstLine + i, chunk.torn && i === chunk.lines.length - 1, checkFlatRow);
      if (parsed === undefined) continue;
      if ('problem' in parsed) {
        problems(parsed.problem);
        continue;
      }
      const flat = parsed.value as FlatRow;
      if (flat.seq !== undefined && lastSeq !== null && flat.seq <= lastSeq) continue;
      if (flat.seq !== undefined) lastSeq = flat.seq;
      rows.append(fromFlat(flat));
    }
    if (rows.rows >= SEGMENT_ROWS) {
      yield await rows.toTable(rows.rows);
      rows = new RowColumns();
    }
  }
  if (rows.rows > 0) yield await rows.toTable(rows.rows);
}
