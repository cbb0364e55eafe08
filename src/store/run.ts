// One run: its files on disk and its series in memory. Plain Node, no `vscode`.
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeNumber, encodeNumber, isNonFiniteToken, readNumber } from '../protocol/numbers';
import type { Distribution, EventFrame, Reliability, ScalarRow, WireNumber } from '../protocol/wire';
import { AppendLog, type FileSink } from './appendLog';
import { readJsonLines, type LineProblem } from './jsonLines';
import { loadMeta, META_FILE, MetaFile, trainerGone, type RunMeta, type RunStatus } from './meta';
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
  /**
   * The run's status changed. This class is its one writer (docs/protocol.md "Run status"): the
   * hub, the launcher and the store ask it to begin, stop or end, and every view hears this once.
   */
  status: [status: RunStatus];
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
    return this.meta.status;
  }

  /** Stop Run was asked of this run (by the launcher's signal or the hub's command). */
  get stopRequested(): boolean {
    return this.meta.stopRequestedAt !== null && this.meta.stopRequestedAt !== undefined;
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
    // Recorded as running, but its process is gone on this host: nothing will finish it. Said on
    // disk too, so meta.json never claims a dead script is running.
    if (run.meta.status === 'running' && trainerGone(run.meta)) {
      void run.end('interrupted', `its trainer${run.meta.pid === null ? '' : ` (pid ${run.meta.pid})`} ended without finishing the run`);
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

  /** An alert's values are often the very NaN or Infinity it is about: kept as the wire's strings, never JSON's null. */
  appendAlert<T extends { values?: Record<string, number> }>(alert: T): void {
    const values: Record<string, WireNumber> = {};
    for (const [k, v] of Object.entries(alert.values ?? {})) values[k] = encodeNumber(v);
    this.alertsLog.append(JSON.stringify({ ...alert, values }));
  }

  /** Every alert record of the run so far (openings and closings), from disk and the queue; values decoded. */
  async readAlerts<T extends { values?: Record<string, number> }>(): Promise<T[]> {
    await this.alertsLog.flush().catch(() => undefined);
    const items = (await readJsonLines<T>(path.join(this.dir, 'alerts.jsonl'))).items;
    for (const item of items) {
      const values = item.values as Record<string, unknown> | undefined;
      if (typeof values !== 'object' || values === null) continue;
      // Older files wrote a non-finite value as null: NaN says as much.
      for (const k in values) values[k] = readNumber(values[k]);
    }
    return items;
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
   * A trainer (re)attached: the run is running from now on, even if the disk refuses the write
   * (it is retried). A run that had ended starts afresh; one still running keeps a pending stop.
   */
  resume(patch: Pick<Partial<RunMeta>, 'pid' | 'host' | 'device'>): Promise<void> {
    const restarted = this.meta.status !== 'running';
    return this.setStatus('running', { ...patch, endedAt: null, error: null, ...(restarted ? { stopRequestedAt: null } : {}) });
  }

  /**
   * Stop Run was asked: however the run then ends (the script calling finish(), a
   * KeyboardInterrupt traceback, a signal), it was stopped.
   */
  requestStop(): Promise<void> {
    if (this.stopRequested || this.meta.status !== 'running') return Promise.resolve();
    return this.updateMeta({ stopRequestedAt: Date.now() / 1000 });
  }

  /**
   * Records how the run ended and writes what is queued. The status is set at once, whatever
   * the disk says: a disk that refuses the write keeps the rows and the meta queued and retried.
   * Never rejects; a second end while one is being written waits for it and then applies its own
   * (a launcher's exit status is better knowledge than the hub's "interrupted").
   */
  end(status: Exclude<RunStatus, 'running'>, error: string | null, extra: Pick<Partial<RunMeta>, 'exit'> = {}): Promise<void> {
    const previous = this.ending ?? Promise.resolve();
    const op = previous.then(async () => {
      const stopped = this.stopRequested;
      const saved = this.setStatus(stopped ? 'stopped' : status, {
        ...extra,
        error: stopped ? null : error,
        endedAt: this.meta.status === 'running' || this.meta.endedAt === null ? Date.now() / 1000 : this.meta.endedAt,
      });
      await Promise.allSettled([this.flush(), saved]);
    });
    this.ending = op;
    return op;
  }

  private setStatus(status: RunStatus, patch: Partial<RunMeta>): Promise<void> {
    const changed = status !== this.meta.status;
    const saved = this.updateMeta({ ...patch, status });
    if (changed) this.emit('status', status);
    return saved;
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
    else if (isNonFiniteToken(v)) values[key] = decodeNumber(v);
  }
  return { step: flat.step, time: flat.time, values, source: flat.source, seq: flat.seq, rank: flat.rank };
}
