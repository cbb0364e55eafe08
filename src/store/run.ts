// One run: its files on disk and its series in memory. Plain Node, no `vscode`.
import { EventEmitter } from 'node:events';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeNumber, encodeNumber, isNonFiniteToken, readNumber } from '../protocol/numbers';
import type { Distribution, EventFrame, Reliability, ScalarRow, WireNumber } from '../protocol/wire';
import { AppendLog, type FileSink } from './appendLog';
import { ColumnStore, RowColumns, SEGMENT_ROWS, type SegmentEntry } from './columns';
import { downsampleM4, type Points } from './downsample';
import { parseLine, readJsonLines, readLineChunks, type LineProblem } from './jsonLines';
import { loadMeta, META_FILE, MetaFile, trainerGone, type RunMeta, type RunStatus } from './meta';
import { emptyStats, observeAlert, observeBuckets, observeRow, type RunStats } from './runStats';
import { Series, SeriesSet, type Bucket, type SeriesBounds } from './series';

/** How often a live run's summary (meta.json `stats`) is written while rows arrive. */
const STATS_SAVE_MS = 5000;

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
  /** A trainer connected or went away: a run neither live nor shown is let go (RunStore). */
  connection: [connected: boolean];
  storeError: [err: NodeJS.ErrnoException];
}

export interface RunOptions {
  flushMs?: number;
  sink?: FileSink;
  /** Rows of a sealed columnar segment (docs/store.md); smaller in tests. */
  segmentRows?: number;
  /** What each series keeps in memory (src/store/series.ts). */
  bounds?: Partial<SeriesBounds>;
}

/** Unsealed rows past this many (the columns cannot be written) are given up: the log has them. */
const MAX_UNSEALED_SEGMENTS = 8;

export class Run extends EventEmitter<RunEvents> {
  readonly series: SeriesSet;
  /**
   * The run's clock for the views' time axes (docs/charts.md): per step, the time its first row
   * carried (Unix seconds). One series for the run, not a time beside every value.
   */
  readonly clock = new Series();
  lastStep: number | null = null;
  lastSeq: number | null = null;
  rowCount = 0;
  private live = false;
  /** The columnar copy on disk (src/store/columns.ts): sealed segments and their index. */
  private columns: ColumnStore | undefined;
  /** Rows not in a sealed segment yet; the first `durableRows` of them are in metrics.jsonl. */
  private readonly unsealed = new RowColumns();
  private durableRows = 0;
  /** Size of metrics.jsonl and its lines as this run has written it: where the next segment ends. */
  private jsonlBytes = 0;
  private jsonlLines = 0;
  private sealing: Promise<void> | undefined;
  private columnsOff = false;
  private readonly segmentRows: number;
  private readonly metricsLog: AppendLog;
  private readonly distributionsLog: AppendLog;
  private readonly eventsLog: AppendLog;
  private readonly alertsLog: AppendLog;
  private readonly metaFile: MetaFile;
  private ending: Promise<void> | undefined;
  /** The summary in meta.json (src/store/runStats.ts), updated row by row in place; written with the meta. */
  private readonly stats: RunStats;
  private metaSavedAt = 0;

  private constructor(
    readonly dir: string,
    public meta: RunMeta,
    options: RunOptions,
  ) {
    super();
    this.series = new SeriesSet(options.bounds);
    this.segmentRows = options.segmentRows ?? SEGMENT_ROWS;
    this.stats = meta.stats ?? emptyStats(0);
    this.meta = { ...meta, stats: this.stats };
    const onError = (err: NodeJS.ErrnoException) => this.emit('storeError', err);
    this.metaFile = new MetaFile(path.join(dir, META_FILE), { onError });
    const log = (file: string, extra: Partial<ConstructorParameters<typeof AppendLog>[1]> = {}) =>
      new AppendLog(path.join(dir, file), { flushMs: options.flushMs, sink: options.sink, onError, ...extra });
    this.metricsLog = log('metrics.jsonl', {
      onFlushed: (lines, mark, bytes) => {
        this.durableRows += lines;
        this.jsonlBytes += bytes;
        this.jsonlLines += lines;
        this.maybeSeal();
        if (mark >= 0) this.emit('durable', mark);
        // The summary on disk follows a live run within STATS_SAVE_MS (docs/compare.md), not every flush.
        if (Date.now() - this.metaSavedAt >= STATS_SAVE_MS) this.updateMeta({}).catch(() => undefined);
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
    const run = new Run(dir, { ...meta, stats: emptyStats(0) }, options);
    run.columns = ColumnStore.fresh(dir);
    try {
      await run.metaFile.save(run.meta);
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
    // The summary is rebuilt from the rows read below; alerts.jsonl is not read here, so its count
    // carries over (unknown, null, for a run from before the summary: the table counts the file).
    const run = new Run(dir, { ...loaded.meta, stats: emptyStats(loaded.meta.stats?.alerts ?? null) }, options);
    if (loaded.recovered) {
      problems?.(path.join(dir, META_FILE), { line: 0, message: loaded.recovered });
      run.metaFile.save(run.meta).catch(() => undefined);
    }
    await run.readFromDisk(metricsPath, (p) => problems?.(metricsPath, p));
    // Recorded as running, but its process is gone on this host: nothing will finish it. Said on
    // disk too, so meta.json never claims a dead script is running.
    if (run.meta.status === 'running' && trainerGone(run.meta)) {
      void run.end('interrupted', `its trainer${run.meta.pid === null ? '' : ` (pid ${run.meta.pid})`} ended without finishing the run`);
    }
    return run;
  }

  /**
   * Reads what a view needs (docs/store.md "Reopening"): the summary of every sealed segment, then
   * the rows of metrics.jsonl past the last one, in chunks that never hold the event loop long.
   * A run without columns (written before them, or by the SDK alone) is read whole, once, and its
   * segments are sealed as it goes, so its next reopen is quick too.
   */
  private async readFromDisk(metricsPath: string, problem: (p: LineProblem) => void): Promise<void> {
    const size = await fileSize(metricsPath);
    const { store, problem: indexProblem } = await ColumnStore.open(this.dir, size, (offset) => byteAt(metricsPath, offset - 1));
    if (indexProblem) {
      problem({ line: 0, message: indexProblem });
      await store.reset();
    }
    this.columns = store;
    // One overview file and at most OVERVIEW_EVERY newer summaries, whatever the run's length.
    await store.summaries((entries, summary) => this.observeSegments(entries, summary));
    // Columns written before the overview file get one, in the background (a seal waits behind it).
    store.catchUp().catch((err: NodeJS.ErrnoException) => this.emit('storeError', err));
    this.jsonlBytes = store.index.jsonlOffset;
    this.jsonlLines = store.index.jsonlLines;
    await readLineChunks(metricsPath, store.index.jsonlOffset, store.index.jsonlLines + 1, async (chunk) => {
      for (let i = 0; i < chunk.lines.length; i++) {
        const parsed = parseLine(chunk.lines[i], chunk.firstLine + i, chunk.torn && i === chunk.lines.length - 1, checkFlatRow);
        this.jsonlBytes = chunk.ends[i];
        this.jsonlLines += 1;
        if (parsed === undefined) continue;
        if ('problem' in parsed) {
          problem(parsed.problem);
          continue;
        }
        const flat = parsed.value as FlatRow;
        // A write retried after a failure can repeat a row that had in fact reached the disk.
        if (flat.seq !== undefined && this.lastSeq !== null && flat.seq <= this.lastSeq) continue;
        this.track(fromFlat(flat));
        this.durableRows += 1;
      }
      // A long log (a run from before the columns) is sealed as it is read; the next chunk waits.
      if (this.durableRows >= this.segmentRows && !chunk.torn) {
        this.maybeSeal();
        await this.sealing?.catch(() => undefined);
      }
    });
  }

  /**
   * Sealed segments, as reopening sees them (one, or the first ones merged in the overview file):
   * their summary goes into the series and the run's stats.
   */
  private async observeSegments(entries: readonly SegmentEntry[], summary: Map<string, Bucket[]>): Promise<void> {
    if (entries.length === 0) return;
    let done = 0;
    for (const [name, buckets] of summary) {
      // The overview of a long run is 10⁴–10⁵ buckets: a few metrics a turn of the event loop.
      if (++done % 8 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      this.series.series(name).absorb(buckets);
      observeBuckets(this.stats, name, buckets);
    }
    for (const entry of entries) this.observeEntry(entry);
  }

  private observeEntry(entry: SegmentEntry): void {
    this.stats.rows += entry.rows;
    if (this.stats.lastStep === null || entry.lastStep >= this.stats.lastStep) this.stats.lastStep = entry.lastStep;
    if (entry.lastTime !== null && entry.lastTime !== undefined) {
      this.stats.lastTime = entry.lastTime;
      if (this.clock.length === 0 || entry.lastStep > this.clock.last()!.step) this.clock.push(entry.lastStep, entry.lastTime);
    }
    this.rowCount += entry.rows;
    if (this.lastStep === null || entry.lastStep > this.lastStep) this.lastStep = entry.lastStep;
    if (entry.lastSeq !== null && (this.lastSeq === null || entry.lastSeq > this.lastSeq)) this.lastSeq = entry.lastSeq;
  }

  /**
   * Seals the durable unsealed rows as the next segment once a segment's worth waits (one seal at
   * a time). A seal that fails (a full disk) is tried again at the next flush; past
   * MAX_UNSEALED_SEGMENTS of waiting rows the columns are given up for this run (reopening reads
   * the log), so memory stays bounded.
   */
  private maybeSeal(): void {
    if (this.sealing || this.columnsOff || !this.columns || this.durableRows < this.segmentRows) return;
    const k = this.durableRows;
    const columns = this.columns;
    this.sealing = columns
      .seal(this.unsealed, k, this.jsonlBytes, this.jsonlLines)
      .then(
        () => {
          this.unsealed.drop(k);
          this.durableRows -= k;
        },
        (err: NodeJS.ErrnoException) => {
          if (this.unsealed.rows > MAX_UNSEALED_SEGMENTS * this.segmentRows) {
            this.columnsOff = true;
            this.unsealed.drop(this.unsealed.rows);
            this.durableRows = 0;
            void columns.reset().catch(() => undefined);
          }
          this.emit('storeError', err);
        },
      )
      .finally(() => {
        this.sealing = undefined;
      });
  }

  /**
   * The points of `names` (every metric when null) whose step is in [from, to], from disk and
   * memory, M4-downsampled to `buckets` (extrema and non-finite points kept): a zoom's detail.
   */
  async detail(from: number, to: number, names: readonly string[] | null, buckets: number): Promise<Record<string, Points>> {
    const columns = this.columns;
    // The rows in memory are taken first (copies): a seal that lands while the segments are read drops them.
    const [lo, hi] = this.unsealed.rangeOf(from, to);
    const memory = new Map<string, { steps: Float64Array; values: Float64Array }>();
    for (const [name, col] of this.unsealed.metrics) {
      if (names !== null && !names.includes(name)) continue;
      let n = 0;
      for (let i = lo; i < hi; i++) n += col.valid[i];
      const steps = new Float64Array(n);
      const values = new Float64Array(n);
      for (let i = lo, j = 0; i < hi; i++) {
        if (col.valid[i] === 0) continue;
        steps[j] = this.unsealed.step[i];
        values[j++] = col.values[i];
      }
      memory.set(name, { steps, values });
    }
    // Sealed rows and rows in memory are never the same rows: each is read once.
    const segments = columns ? await Promise.all(columns.overlapping(from, to).map((entry) => columns.segment(entry, names))) : [];
    const wanted = new Set(names ?? [...segments.flatMap((s) => s.names), ...memory.keys()]);
    const out: Record<string, Points> = {};
    let done = 0;
    for (const name of wanted) {
      // A metric at a time, the event loop free between a few: a zoom of 50 metrics never holds the hub.
      if (++done % 4 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const parts: { steps: Float64Array; values: Float64Array }[] = [];
      for (const segment of segments) {
        const p = segment.range(name, from, to);
        if (p && p.steps.length > 0) parts.push(p);
      }
      const mem = memory.get(name);
      if (mem && mem.steps.length > 0) parts.push(mem);
      if (parts.length === 0) continue;
      const n = parts.reduce((a, p) => a + p.steps.length, 0);
      const steps = new Float64Array(n);
      const values = new Float64Array(n);
      let at = 0;
      for (const p of parts) {
        steps.set(p.steps, at);
        values.set(p.values, at);
        at += p.steps.length;
      }
      out[name] = downsampleM4(steps, values, buckets);
    }
    return out;
  }

  /**
   * Every row of the run on disk, in order, handed over a chunk at a time (256 KiB of the log
   * each), with the event loop free between chunks: a resumed run's detectors warm up on millions
   * of rows without holding the hub (docs/store.md "Nothing blocks"). Unreadable lines are skipped.
   */
  async storedRows(onRows: (rows: MetricRow[]) => boolean | void): Promise<void> {
    await this.metricsLog.flush().catch(() => undefined);
    let done = false;
    let lastSeq: number | null = null;
    await readLineChunks(path.join(this.dir, 'metrics.jsonl'), 0, 1, async (chunk) => {
      if (done) return;
      const rows: MetricRow[] = [];
      for (let i = 0; i < chunk.lines.length; i++) {
        const parsed = parseLine(chunk.lines[i], chunk.firstLine + i, chunk.torn && i === chunk.lines.length - 1, checkFlatRow);
        if (parsed === undefined || 'problem' in parsed) continue;
        const flat = parsed.value as FlatRow;
        if (flat.seq !== undefined && lastSeq !== null && flat.seq <= lastSeq) continue;
        if (flat.seq !== undefined) lastSeq = flat.seq;
        rows.push(fromFlat(flat));
      }
      if (onRows(rows) === false) done = true;
      await new Promise<void>((resolve) => setImmediate(resolve));
    });
  }

  /** A trainer is connected to this run now (its Session says so). */
  get connected(): boolean {
    return this.live;
  }

  set connected(value: boolean) {
    if (value === this.live) return;
    this.live = value;
    this.emit('connection', value);
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

  /** Returns the event as stored (with the time the hub received it). */
  appendEvent(frame: EventFrame): EventFrame & { time: number } {
    const stored = { ...frame, time: Date.now() / 1000 };
    this.eventsLog.append(JSON.stringify(stored));
    return stored;
  }

  /** Every `run.event()` of the run so far, from disk and the queue (docs/charts.md). */
  async readEvents(): Promise<(EventFrame & { time?: number })[]> {
    await this.eventsLog.flush().catch(() => undefined);
    return (await readJsonLines<EventFrame & { time?: number }>(path.join(this.dir, 'events.jsonl'))).items;
  }

  /** Every distribution and reliability frame of the run so far (the dashboard's step slider). */
  async readDistributions(): Promise<(Distribution | Reliability)[]> {
    await this.distributionsLog.flush().catch(() => undefined);
    return (await readJsonLines<Distribution | Reliability>(path.join(this.dir, 'distributions.jsonl'))).items;
  }

  /** An alert's values are often the very NaN or Infinity it is about: kept as the wire's strings, never JSON's null. */
  appendAlert<T extends { values?: Record<string, number> }>(alert: T): void {
    const values: Record<string, WireNumber> = {};
    for (const [k, v] of Object.entries(alert.values ?? {})) values[k] = encodeNumber(v);
    this.alertsLog.append(JSON.stringify({ ...alert, values }));
    observeAlert(this.stats, alert as { state?: unknown });
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
    this.meta = { ...this.meta, ...patch, stats: this.stats, updatedAt: Date.now() / 1000 };
    this.metaSavedAt = Date.now();
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
      this.sealing,
      this.columns?.settled(),
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
    if (!this.columnsOff) this.unsealed.append(row);
    observeRow(this.stats, row.step, row.time, row.values);
    if (row.time !== undefined && Number.isFinite(row.time) && !(this.clock.length > 0 && row.step <= this.clock.last()!.step)) this.clock.push(row.step, row.time);
    this.rowCount += 1;
    if (this.lastStep === null || row.step > this.lastStep) this.lastStep = row.step;
    if (row.seq !== undefined && (this.lastSeq === null || row.seq > this.lastSeq)) this.lastSeq = row.seq;
  }
}

export function checkFlatRow(value: unknown): string | null {
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

async function fileSize(file: string): Promise<number> {
  try {
    return (await fsp.stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}

/** The byte at `offset` of `file`, null past its end. */
async function byteAt(file: string, offset: number): Promise<number | null> {
  const handle = await fsp.open(file, 'r');
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(1), 0, 1, offset);
    return bytesRead === 1 ? buffer[0] : null;
  } finally {
    await handle.close();
  }
}
