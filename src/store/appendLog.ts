// A batched, append-only JSON-lines file. Lines wait in memory at most `flushMs` and are written in
// one append; a failed write (disk full, say) keeps them queued and retries, so nothing accepted is
// lost while the process lives, and a crash loses at most the batch not yet written. A write that
// failed halfway is cut back to the size the file had, so a retry neither repeats rows nor leaves a
// torn line in the middle of the file.
import { promises as fsp } from 'node:fs';

export interface FileSink {
  appendFile(path: string, data: string): Promise<void>;
  /** Size in bytes, 0 for a file that does not exist yet. */
  size?(path: string): Promise<number>;
  truncate?(path: string, size: number): Promise<void>;
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
};

export interface AppendLogOptions {
  flushMs?: number;
  retryMs?: number;
  sink?: FileSink;
  /** Called after each successful write with the number of lines and the highest mark written. */
  onFlushed?: (lines: number, mark: number) => void;
  /** The file may end in a torn line (found on reload): the first write starts on a fresh line. */
  startOnFreshLine?: boolean;
  /** Called once per failure episode; again only after a write has succeeded in between. */
  onError?: (err: NodeJS.ErrnoException) => void;
}

export class AppendLog {
  private pending: string[] = [];
  /** Highest caller-given mark (a row's seq) among the pending lines; -1 for none. */
  private pendingMark = -1;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private failing = false;
  private freshLine: boolean;
  private readonly flushMs: number;
  private readonly retryMs: number;
  private readonly sink: FileSink;

  constructor(readonly path: string, private readonly options: AppendLogOptions = {}) {
    this.flushMs = options.flushMs ?? 250;
    this.retryMs = options.retryMs ?? 1000;
    this.sink = options.sink ?? nodeSink;
    this.freshLine = options.startOnFreshLine ?? false;
  }

  get pendingLines(): number {
    return this.pending.length;
  }

  get isFailing(): boolean {
    return this.failing;
  }

  append(line: string, mark = -1): void {
    this.pending.push(line);
    if (mark > this.pendingMark) this.pendingMark = mark;
    this.schedule(this.flushMs);
  }

  /** Writes everything queued so far; resolves when it is on disk, rejects if the write failed. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    // One write at a time: appends from two flushes must not interleave.
    while (this.inFlight) await this.inFlight.catch(() => undefined);
    if (this.pending.length === 0) return;
    const op = this.writeBatch();
    this.inFlight = op;
    try {
      await op;
    } finally {
      this.inFlight = undefined;
    }
  }

  private async writeBatch(): Promise<void> {
    const batch = this.pending;
    const mark = this.pendingMark;
    this.pending = [];
    this.pendingMark = -1;
    // If a failed write could not be cut back, the file may end in a torn line: start on a fresh
    // one, so the torn bytes stay a line of their own that the reader skips.
    const lead = this.freshLine ? '\n' : '';
    let sizeBefore: number | undefined;
    try {
      sizeBefore = await this.sink.size?.(this.path);
      await this.sink.appendFile(this.path, lead + batch.join('\n') + '\n');
    } catch (err) {
      // Put the batch back in front: order is preserved and the next attempt writes it again.
      this.pending = batch.concat(this.pending);
      this.pendingMark = Math.max(mark, this.pendingMark);
      await this.cutBack(sizeBefore);
      if (!this.failing) this.options.onError?.(err as NodeJS.ErrnoException);
      this.failing = true;
      this.schedule(this.retryMs);
      throw err;
    }
    this.failing = false;
    this.freshLine = false;
    this.options.onFlushed?.(batch.length, mark);
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
