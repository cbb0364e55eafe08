// Reading a JSON-lines file written by AppendLog: a crash can leave a torn last line, and a failed
// write a torn line in the middle; both are skipped and reported, never fatal.
import { promises as fsp } from 'node:fs';

export interface LineProblem {
  line: number;
  message: string;
}

export interface JsonLines<T> {
  items: T[];
  problems: LineProblem[];
  /** False when the file does not end with a newline (its last line is torn). */
  endsClean: boolean;
}

export async function readJsonLines<T>(path: string, check?: (value: unknown) => string | null): Promise<JsonLines<T>> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { items: [], problems: [], endsClean: true };
    throw err;
  }
  return parseJsonLines<T>(text, check);
}

export function parseJsonLines<T>(text: string, check?: (value: unknown) => string | null): JsonLines<T> {
  const items: T[] = [];
  const problems: LineProblem[] = [];
  const endsClean = text.length === 0 || text.endsWith('\n');
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseLine(lines[i], i + 1, i === lines.length - 1 && !endsClean, check);
    if (parsed === undefined) continue;
    if ('problem' in parsed) problems.push(parsed.problem);
    else items.push(parsed.value as T);
  }
  return { items, problems, endsClean };
}

/** One line of a JSON-lines file: its value, a problem to report, or undefined for a blank line. */
export function parseLine(line: string, lineNo: number, torn: boolean, check?: (value: unknown) => string | null): { value: unknown } | { problem: LineProblem } | undefined {
  if (line.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { problem: { line: lineNo, message: torn ? 'torn last line (the writer stopped mid-line); skipped' : `invalid JSON: ${(err as Error).message}; skipped` } };
  }
  const problem = check?.(value) ?? null;
  if (problem) return { problem: { line: lineNo, message: `${problem}; skipped` } };
  return { value };
}

export interface LineChunk {
  /** Whole lines (without their newline), the last one possibly torn (see `torn`). */
  lines: string[];
  /** Line number (from 1) of lines[0]. */
  firstLine: number;
  /** Byte offset in the file just past each line's newline (past its end, for a torn last line). */
  ends: number[];
  /** The last line of this chunk ends the file without a newline: a writer stopped mid-line. */
  torn: boolean;
}

/**
 * Reads a JSON-lines file from byte `offset` (the start of a line) in chunks of `chunkBytes` (256 KiB),
 * awaiting `onChunk` between them: a file of hundreds of megabytes never holds the event loop
 * longer than one chunk's parse (docs/store.md "Nothing blocks"). Resolves with the file's size.
 */
export async function readLineChunks(
  path: string,
  offset: number,
  firstLine: number,
  onChunk: (chunk: LineChunk) => void | Promise<void>,
  chunkBytes = 256 * 1024,
): Promise<number> {
  const chunks = lineChunks(path, offset, firstLine, chunkBytes);
  for (;;) {
    const next = await chunks.next();
    if (next.done) return next.value;
    await onChunk(next.value);
  }
}

/**
 * The same chunks pulled one at a time (an export yields a table per chunk, never holding the log);
 * the generator's return value is the file's size (0 when it does not exist).
 */
export async function* lineChunks(path: string, offset: number, firstLine: number, chunkBytes = 256 * 1024): AsyncGenerator<LineChunk, number> {
  let handle;
  try {
    handle = await fsp.open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    let pos = offset;
    let carry: Buffer = Buffer.alloc(0);
    let lineNo = firstLine;
    const buf = Buffer.alloc(chunkBytes);
    while (pos < size) {
      const { bytesRead } = await handle.read(buf, 0, Math.min(chunkBytes, size - pos), pos);
      if (bytesRead === 0) break;
      const data = carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
      const base = pos - carry.length;
      pos += bytesRead;
      const chunk: LineChunk = { lines: [], firstLine: lineNo, ends: [], torn: false };
      let start = 0;
      for (let nl = data.indexOf(10, start); nl >= 0; nl = data.indexOf(10, start)) {
        chunk.lines.push(data.toString('utf8', start, nl));
        chunk.ends.push(base + nl + 1);
        start = nl + 1;
      }
      // A line longer than a chunk waits for the next one (copied: the read buffer is reused).
      carry = Buffer.from(data.subarray(start));
      if (pos >= size && carry.length > 0) {
        chunk.lines.push(carry.toString('utf8'));
        chunk.ends.push(size);
        chunk.torn = true;
        carry = Buffer.alloc(0);
      }
      lineNo += chunk.lines.length;
      if (chunk.lines.length > 0) yield chunk;
    }
    return size;
  } finally {
    await handle.close();
  }
}
