// A batched, append-only JSON-lines file. Lines wait in memory at most `flushMs` and are written in
// one append while the disk takes them; a failed write (disk full, say) keeps them queued and
// retries, so nothing accepted is lost while the process lives, and a crash loses at most the batch
// not yet written. After a failure the appends shrink to `minChunkBytes` and double with each one
// that lands: a backlog larger than the space that comes back still lands piece by piece instead of
// being retried whole for ever, and a healthy disk still gets one append per flush (a busy event
// loop turns too rarely to drain a flat-out ingest in small pieces). A write that failed halfway is cut back to
// the size the file had, so a retry neither repeats rows nor leaves a torn line in the middle of the
// file; and the first write of a process starts on a fresh line if the file ends in a torn one (a
// crash mid-write), so the next record is never glued onto the fragment.
import { promises as fsp } from 'node:fs';

export interface FileSink {
  appendFile(path: string, data: string): Promise<void>;
  /** Size in bytes, 0 for a file that does not exist yet. */
  size?(path: string): Promise<number>;
  truncate?(path: string, size: number): Promise<void>;
  /** Whether the file is empty, missing, or ends with a newline. */
  endsWithNewline?(path: string): Promise<boolean>;
}

export const nodeSink: FileSink = {
  appendFile: (path, data) => fsp.appendFile(path, data, 'utf8'),
  size: async (path) => {
    try {
      return (await fsp.stat(path)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
  },
  truncate: (path, size) => fsp.truncate(path, size),
  endsWithNewline: async (path) => {
    let handle;
    try {
      handle = await fsp.open(path, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
      throw err;
    }
    try {
      const { size } = await handle.stat();
      if (size === 0) return true;
      const { buffer } = await handle.read(Buffer.alloc(1), 0, 1, size - 1);
      return buffer[0] === 0x0a;
    } finally {
      await handle.close();
    }
  },
};

export interface AppendLogOptions {
  flushMs?: number;
  retryMs?: number;
  /** Largest single append; a longer backlog is written in several. */
  chunkBytes?: number;
  /** The size appends shrink to after a failed write. */
  minChunkBytes?: number;
  sink?: FileSink;
  /**
   * Called after each successful write with the number of lines, the highest mark written and
   * the bytes appended (a leading newline after a torn line included): the file's end moved by that.
   */
  onFlushed?: (lines: number, mark: number, bytes: number) => void;
  /** Called once per failure episode; again only after a write has succeeded in between. */
  onError?: (err: NodeJS.ErrnoException) => void;
}

export class AppendLog {
  private pending: string[] = [];
  /** Caller-given mark (a row's seq) of each pending line; -1 for none. */
  private marks: number[] = [];
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failing = false;
  /** The next write must begin with a newline: the file may end in a torn line. */
  private freshLine = false;
  private tailChecked = false;
  private readonly flushMs: number;
  private readonly retryMs: number;
  private readonly maxChunkBytes: number;
  private readonly minChunkBytes: number;
  private chunkBytes: number;
  private readonly sink: FileSink;

  constructor(readonly path: string, private readonly options: AppendLogOptions = {}) {
    this.flushMs = options.flushMs ?? 250;
    this.retryMs = options.retryMs ?? 1000;
    this.maxChunkBytes = options.chunkBytes ?? 64 * 1024 * 1024;
    this.minChunkBytes = Math.min(options.minChunkBytes ?? 64 * 1024, this.maxChunkBytes);
    this.chunkBytes = this.maxChunkBytes;
    this.sink = options.sink ?? nodeSink;
  }

  get pendingLines(): number {
    return this.pending.length;
  }

  /** UTF-16 code units queued (close to bytes for JSON); what a caller bounds the backlog by. */
  get pendingBytes(): number {
    return this.bytes;
  }

  get isFailing(): boolean {
    return this.failing;
  }

  append(line: string, mark = -1): void {
    this.pending.push(line);
    this.marks.push(mark);
    this.bytes += line.length + 1;
    this.schedule(this.flushMs);
  }

  /** Writes everything queued so far; resolves when it is on disk, rejects if a write failed. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // One write at a time: appends from two flushes must not interleave.
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    let remaining = this.pending.length;
    while (remaining > 0) {
      const op = this.writeChunk(remaining);
      this.inFlight = op.then(
        () => undefined,
        () => undefined,
      );
      try {
        remaining -= await op;
      } finally {
        this.inFlight = undefined;
      }
    }
    // Lines appended while this flush ran wait for their own timer.
    if (this.pending.length > 0) this.schedule(this.flushMs);
  }

  /** Writes the first lines (at most `limit`, at most chunkBytes); resolves with how many. */
  private async writeChunk(limit: number): Promise<number> {
    let count = 0;
    let size = 0;
    let mark = -1;
    while (count < limit && (count === 0 || size + this.pending[count].length + 1 <= this.chunkBytes)) {
      size += this.pending[count].length + 1;
      if (this.marks[count] > mark) mark = this.marks[count];
      count += 1;
    }
    const lines = this.pending.slice(0, count);
    let sizeBefore: number | undefined;
    let data = '';
    try {
      if (!this.tailChecked && this.sink.endsWithNewline) {
        if (!(await this.sink.endsWithNewline(this.path))) this.freshLine = true;
        this.tailChecked = true;
      }
      const lead = this.freshLine ? '\n' : '';
      sizeBefore = await this.sink.size?.(this.path);
      data = lead + lines.join('\n') + '\n';
      await this.sink.appendFile(this.path, data);
    } catch (err) {
      // The lines stay at the front of the queue: order is kept and the next attempt writes them.
      await this.cutBack(sizeBefore);
      this.chunkBytes = this.minChunkBytes;
      if (!this.failing) this.options.onError?.(err as NodeJS.ErrnoException);
      this.failing = true;
      this.schedule(this.retryMs);
      throw err;
    }
    this.pending.splice(0, count);
    this.marks.splice(0, count);
    this.bytes -= size;
    this.chunkBytes = Math.min(this.maxChunkBytes, this.chunkBytes * 2);
    this.failing = false;
    this.freshLine = false;
    this.options.onFlushed?.(count, mark, Buffer.byteLength(data, 'utf8'));
    return count;
  }

  private async cutBack(size: number | undefined): Promise<void> {
    if (size === undefined || !this.sink.truncate) {
      this.freshLine = true;
      return;
    }
    try {
      await this.sink.truncate(this.path, size);
    } catch {
      this.freshLine = true;
    }
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delay: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch(() => undefined);
    }, delay);
    this.timer.unref?.();
  }
}
