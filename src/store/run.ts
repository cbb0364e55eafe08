// One run: its files on disk and its series in memory. Plain Node, no `vscode`.
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeNumber } from '../protocol/numbers';
import type { Distribution, EventFrame, Reliability, ScalarRow, WireNumber } from '../protocol/wire';
import { AppendLog, type FileSink } from './appendLog';
import { readJsonLines, type LineProblem } from './jsonLines';
import { effectiveStatus, loadMeta, META_FILE, MetaFile, type RunMeta, type RunStatus } from './meta';
import { SeriesSet } from './series';

/** Keys of a flat row on disk that are not metrics. */
export const RESERVED_KEYS = new Set(['step', 'time', 'source', 'seq', 'rank', '__proto__']);

export interface FlatRow {
  step: number;
  time?: number;
  source?: { file: string; line: number };
  seq?: number;
  rank?: number;
  [metric: string]: unknown;
}

/** A row as the rest of the host sees it: values decoded to numbers (NaN and ±Infinity included). */
export interface MetricRow {
  step: number;
  time: number | undefined;
  values: Record<string, number>;
  source: { file: string; line: number } | undefined;
  seq: number | undefined;
  rank: number | undefined;
}

export interface RunEvents {
  rows: [rows: MetricRow[]];
  /** Every row up to this seq is on disk. */
  durable: [seq: number];
  ended: [meta: RunMeta];
  storeError: [err: NodeJS.ErrnoException];
}

export interface RunOptions {
  flushMs?: number;
  sink?: FileSink;
}

export class Run extends EventEmitter<RunEvents> {
  readonly series = new SeriesSet();
  lastStep: number | null = null;
  lastSeq: number | null = null;
  rowCount = 0;
  connected = false;
  private readonly metricsLog: AppendLog;
  private readonly distributionsLog: AppendLog;
  private readonly eventsLog: AppendLog;
  private readonly alertsLog: AppendLog;
  private readonly metaFile: MetaFile;
  private ending: Promise<void> | undefined;

  private constructor(
    readonly dir: string,
    public meta: RunMeta,
    options: RunOptions,
  ) {
    super();
    const onError = (err: NodeJS.ErrnoException) => this.emit('storeError', err);
    this.metaFile = new MetaFile(path.join(dir, META_FILE), { onError });
    const log = (file: string, extra: Partial<ConstructorParameters<typeof AppendLog>[1]> = {}) =>
      new AppendLog(path.join(dir, file), { flushMs: options.flushMs, sink: options.sink, onError, ...extra });
    this.metricsLog = log('metrics.jsonl', {
      onFlushed: (_lines, mark) => {
        if (mark >= 0) this.emit('durable', mark);
      },
    });
    this.distributionsLog = log('distributions.jsonl');
    this.eventsLog = log('events.jsonl');
    this.alertsLog = log('alerts.jsonl');
  }

  get id(): string {
    return this.meta.id;
  }

  get status(): RunStatus {
    return effectiveStatus(this.meta, this.connected);
  }

  static async create(dir: string, meta: RunMeta, options: RunOptions = {}): Promise<Run> {
    await fsp.mkdir(dir, { recursive: true });
    const run = new Run(dir, meta, options);
    try {
      await run.metaFile.save(meta);
    } catch (err) {
      // A full disk does not refuse the run: its meta and rows wait in memory and are retried.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOSPC' && code !== 'EDQUOT') {
        run.dispose();
        throw err;
      }
    }
    return run;
  }

  /**
   * Loads a run from disk; unreadable lines are reported through `problems`, never fatal, and so
   * is a damaged meta.json (recovered, and written back). Undefined when `dir` holds no run.
   */
  static async load(dir: string, options: RunOptions = {}, problems?: (file: string, p: LineProblem) => void): Promise<Run | undefined> {
    const loaded = await loadMeta(dir);
    if (!loaded) return undefined;
    const metricsPath = path.join(dir, 'metrics.jsonl');
    const parsed = await readJsonLines<FlatRow>(metricsPath, checkFlatRow);
    const run = new Run(dir, loaded.meta, options);
    if (loaded.recovered) {
      problems?.(path.join(dir, META_FILE), { line: 0, message: loaded.recovered });
      run.metaFile.save(run.meta).catch(() => undefined);
    }
    for (const p of parsed.problems) problems?.(metricsPath, p);
    const rows: MetricRow[] = [];
    for (const flat of parsed.items) {
      // A write retried after a failure can repeat a row that had in fact reached the disk.
      if (flat.seq !== undefined && run.lastSeq !== null && flat.seq <= run.lastSeq) continue;
      rows.push(fromFlat(flat));
      run.track(rows[rows.length - 1]);
    }
    return run;
  }

  /** Rows already validated and de-duplicated by the hub. */
  append(rows: readonly ScalarRow[], seqs: readonly (number | undefined)[]): MetricRow[] {
    const out: MetricRow[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      const seq = seqs[i];
      const flat: FlatRow = { step: row.step };
      if (row.time !== undefined) flat.time = row.time;
      const values: Record<string, number> = {};
      for (const name in row.values) {
        const wire = row.values[name] as WireNumber;
        flat[name] = wire;
        values[name] = decodeNumber(wire);
      }
      if (row.source) flat.source = row.source;
      if (row.rank !== undefined) flat.rank = row.rank;
      if (seq !== undefined) flat.seq = seq;
      this.metricsLog.append(JSON.stringify(flat), seq ?? -1);
      const metricRow: MetricRow = { step: row.step, time: row.time, values, source: row.source, seq, rank: row.rank };
      this.track(metricRow);
      out[i] = metricRow;
    }
    if (out.length > 0) this.emit('rows', out);
    return out;
  }

  appendDistribution(frame: Distribution | Reliability): void {
    this.distributionsLog.append(JSON.stringify(frame));
  }

  appendEvent(frame: EventFrame): void {
    this.eventsLog.append(JSON.stringify({ ...frame, time: Date.now() / 1000 }));
  }

  appendAlert(alert: object): void {
    this.alertsLog.append(JSON.stringify(alert));
  }

  /** Every alert record of the run so far (openings and closings), from disk and the queue. */
  async readAlerts<T>(): Promise<T[]> {
    await this.alertsLog.flush().catch(() => undefined);
    return (await readJsonLines<T>(path.join(this.dir, 'alerts.jsonl'))).items;
  }

  /** The newest reliability frame, for a view that opens mid-run. */
  async latestReliability(): Promise<Reliability | null> {
    await this.distributionsLog.flush().catch(() => undefined);
    const frames = (await readJsonLines<Distribution | Reliability>(path.join(this.dir, 'distributions.jsonl'))).items;
    for (let i = frames.length - 1; i >= 0; i--) if (frames[i].type === 'reliability') return frames[i] as Reliability;
    return null;
  }

  get storeFailing(): boolean {
    return this.metricsLog.isFailing;
  }

  /** What waits in memory for the disk, across the run's logs (a full disk makes it grow). */
  get backlogBytes(): number {
    return this.metricsLog.pendingBytes + this.distributionsLog.pendingBytes + this.eventsLog.pendingBytes + this.alertsLog.pendingBytes;
  }

  /**
   * The in-memory meta changes at once; the promise settles when that change (or a newer one) is
   * on disk. A failed write is retried by the meta file itself, so callers may ignore the rejection.
   */
  updateMeta(patch: Partial<RunMeta>): Promise<void> {
    this.meta = { ...this.meta, ...patch, updatedAt: Date.now() / 1000 };
    return this.metaFile.save(this.meta);
  }

  /**
   * Records how the run ended and writes what is queued. The status is set at once, whatever
   * the disk says: a disk that refuses the write keeps the rows and the meta queued and retried.
   * Never rejects; a second end while one is being written waits for it and then applies its own.
   */
  end(status: Exclude<RunStatus, 'running'>, error: string | null): Promise<void> {
    const previous = this.ending ?? Promise.resolve();
    const op = previous.then(async () => {
      const saved = this.updateMeta({ status, error, endedAt: Date.now() / 1000 });
      this.emit('ended', this.meta);
      await Promise.allSettled([this.flush(), saved]);
    });
    this.ending = op;
    return op;
  }

  /** Writes everything queued; rejects if a file could not be written (the rows stay queued). */
  async flush(): Promise<void> {
    const results = await Promise.allSettled([
      ...[this.metricsLog, this.distributionsLog, this.eventsLog, this.alertsLog].map((log) => log.flush()),
      this.metaFile.settled(),
    ]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  dispose(): void {
    for (const log of [this.metricsLog, this.distributionsLog, this.eventsLog, this.alertsLog]) log.dispose();
    this.metaFile.dispose();
  }

  private track(row: MetricRow): void {
    this.series.append(row.step, row.values);
    this.rowCount += 1;
    if (this.lastStep === null || row.step > this.lastStep) this.lastStep = row.step;
    if (row.seq !== undefined && (this.lastSeq === null || row.seq > this.lastSeq)) this.lastSeq = row.seq;
  }
}

function checkFlatRow(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const step = (value as { step?: unknown }).step;
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return 'step: expected integer ≥ 0';
  return null;
}

export function fromFlat(flat: FlatRow): MetricRow {
  const values: Record<string, number> = {};
  for (const key in flat) {
    if (RESERVED_KEYS.has(key)) continue;
    const v = flat[key];
    if (typeof v === 'number') values[key] = v;
    else if (v === 'NaN' || v === 'Infinity' || v === '-Infinity') values[key] = decodeNumber(v);
  }
  return { step: flat.step, time: flat.time, values, source: flat.source, seq: flat.seq, rank: flat.rank };
}
