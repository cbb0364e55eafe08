// The columnar copy of a run's rows, beside the append-only metrics.jsonl (docs/store.md): sealed
// segments of about SEGMENT_ROWS rows as Apache Arrow IPC files (one Float64 column per metric,
// null where a row lacks it; NaN and ±∞ as themselves), each with a small summary file (the M4
// buckets of src/store/series.ts per metric), and an index naming them and the byte of
// metrics.jsonl where the unsealed rows begin. Reopening a run reads the summaries and that tail
// only; a zoom reads the segments its range overlaps. metrics.jsonl stays the log of record: every
// file here is written through a temporary file and a rename, after the rows it holds are on disk
// in the log, so a crash leaves the old index or the new one, and whatever is not in the index is
// read again from the log.
import { promises as fsp } from 'node:fs';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { Dictionary, Field, Float64, Int32, Int64, makeData, RecordBatch, Schema, Struct, Table, tableFromIPC, tableToIPC, Utf8, vectorFromArray, type Vector } from 'apache-arrow';
import type { MetricRow } from './run';
import { readColumns } from './segmentRead';
import { bucketOf, DEFAULT_BOUNDS, mergeInto, type Bucket } from './series';
import { lowerBound, upperBound } from './sortedSearch';

export const COLUMNS_DIR = 'columns';
export const INDEX_FILE = 'index.json';
/** Rows of a sealed segment (at least; a seal takes every durable row once this many wait). */
export const SEGMENT_ROWS = 4096;
/** Buckets of each metric in a segment's summary. */
export const SUMMARY_BUCKETS = 16;
/** Columns of a segment that are not metrics. */
export const ROW_COLUMNS = ['step', 'time', 'seq', 'rank'] as const;
/**
 * Seals between two rewrites of the run's overview file: a reopen reads that one file and the
 * summaries of at most this many newer segments, however long the run (docs/store.md "Reopening").
 */
export const OVERVIEW_EVERY = 16;
/** Buckets per metric in the overview file (as many as a Series' overview holds, src/store/series.ts). */
export const OVERVIEW_BUCKETS = DEFAULT_BOUNDS.overviewBuckets;

export interface SegmentEntry {
  /** File name in columns/ (its summary is the same name with .summary.arrow). */
  file: string;
  rows: number;
  firstStep: number;
  lastStep: number;
  lastSeq: number | null;
  /** Wall time of its last row (Unix seconds), null when no row said. */
  lastTime: number | null;
}

export interface ColumnIndex {
  version: 1;
  /** Byte of metrics.jsonl just past the last sealed row's line: where the unsealed rows begin. */
  jsonlOffset: number;
  /** Lines of metrics.jsonl before that byte (to number the lines of the tail in problems). */
  jsonlLines: number;
  segments: SegmentEntry[];
  /**
   * The summaries of the first `segments` segments merged into one file (`file` in columns/), at
   * most OVERVIEW_BUCKETS buckets per metric. Absent in an index written before it: every
   * segment's summary is read then.
   */
  overview?: { file: string; segments: number } | null;
}

export const emptyIndex = (): ColumnIndex => ({ version: 1, jsonlOffset: 0, jsonlLines: 0, segments: [] });

/** Rows not sealed yet, column by column (what the next segment will hold). */
export class RowColumns {
  rows = 0;
  step = new Float64Array(1024);
  time = new Float64Array(1024);
  seq = new Float64Array(1024);
  rank = new Float64Array(1024);
  readonly metrics = new Map<string, { values: Float64Array; valid: Uint8Array }>();

  append(row: MetricRow): void {
    if (this.rows === this.step.length) this.grow();
    const i = this.rows;
    this.step[i] = row.step;
    this.time[i] = row.time ?? NaN;
    this.seq[i] = row.seq ?? NaN;
    this.rank[i] = row.rank ?? NaN;
    for (const name in row.values) {
      let col = this.metrics.get(name);
      if (!col) {
        col = { values: new Float64Array(this.step.length), valid: new Uint8Array(this.step.length) };
        this.metrics.set(name, col);
      }
      col.values[i] = row.values[name];
      col.valid[i] = 1;
    }
    this.rows += 1;
  }

  /** Forgets the first `k` rows (they are sealed). */
  drop(k: number): void {
    const n = this.rows;
    for (const a of [this.step, this.time, this.seq, this.rank]) a.copyWithin(0, k, n);
    for (const [name, col] of this.metrics) {
      col.values.copyWithin(0, k, n);
      col.valid.copyWithin(0, k, n);
      col.valid.fill(0, n - k, n);
      let any = false;
      for (let i = 0; i < n - k && !any; i++) any = col.valid[i] === 1;
      if (!any) this.metrics.delete(name);
    }
    this.rows = n - k;
  }

  /** Rows [lo, hi) whose step is in [from, to] (steps never go down within a run). */
  rangeOf(from: number, to: number): [number, number] {
    return [lowerBound(this.step, this.rows, from), upperBound(this.step, this.rows, to)];
  }

  /**
   * The first `k` rows as an Arrow table: step, time, seq, rank, then one column per metric. Built
   * a few columns a turn of the event loop (rows appended meanwhile land past `k`), so sealing a
   * segment of many metrics never holds the hub (docs/store.md "Nothing blocks").
   */
  async toTable(k: number): Promise<Table> {
    const fields: Field[] = [new Field('step', new Int64(), false)];
    const children = [makeData({ type: new Int64(), length: k, data: toBigInts(this.step, k) })];
    const nullable = (name: string, values: Float64Array, isInt: boolean) => {
      const valid = new Uint8Array(k);
      for (let i = 0; i < k; i++) valid[i] = Number.isNaN(values[i]) ? 0 : 1;
      const { bitmap, nulls } = toBitmap(valid, k);
      if (isInt && name === 'rank') {
        fields.push(new Field(name, new Int32(), true));
        children.push(makeData({ type: new Int32(), length: k, nullCount: nulls, nullBitmap: bitmap, data: Int32Array.from(values.subarray(0, k), (v) => (Number.isNaN(v) ? 0 : v)) }) as never);
      } else if (isInt) {
        fields.push(new Field(name, new Int64(), true));
        children.push(makeData({ type: new Int64(), length: k, nullCount: nulls, nullBitmap: bitmap, data: toBigInts(values, k) }));
      } else {
        fields.push(new Field(name, new Float64(), true));
        children.push(makeData({ type: new Float64(), length: k, nullCount: nulls, nullBitmap: bitmap, data: values.slice(0, k) }) as never);
      }
    };
    nullable('time', this.time, false);
    nullable('seq', this.seq, true);
    nullable('rank', this.rank, true);
    let built = 0;
    for (const [name, col] of this.metrics) {
      if (++built % 8 === 0) await turn();
      const { bitmap, nulls } = toBitmap(col.valid, k);
      if (nulls === k) continue;
      fields.push(new Field(name, new Float64(), true));
      children.push(makeData({ type: new Float64(), length: k, nullCount: nulls, nullBitmap: bitmap, data: col.values.slice(0, k) }) as never);
    }
    const schema = new Schema(fields);
    return new Table(new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: k, children })));
  }

  /** The summary of the first `k` rows: up to SUMMARY_BUCKETS buckets per metric. */
  summary(k: number): Map<string, Bucket[]> {
    const out = new Map<string, Bucket[]>();
    const step = this.step;
    for (const [name, col] of this.metrics) {
      const { values, valid } = col;
      let points = 0;
      for (let i = 0; i < k; i++) points += valid[i];
      if (points === 0) continue;
      const per = Math.ceil(points / SUMMARY_BUCKETS);
      const buckets: Bucket[] = [];
      let i = 0;
      // One pass, no object per point: a seal of 4 096 rows × 50 metrics stays a few milliseconds.
      while (i < k) {
        while (i < k && valid[i] === 0) i++;
        if (i >= k) break;
        const b = bucketOf(step[i], values[i]);
        let taken = 1;
        let last = i;
        for (i++; i < k && taken < per; i++) {
          if (valid[i] === 0) continue;
          const v = values[i];
          taken++;
          last = i;
          if (v === v && v !== Infinity && v !== -Infinity) {
            if (b.minStep !== b.minStep || v < b.minValue) {
              b.minStep = step[i];
              b.minValue = v;
            }
            if (b.maxStep !== b.maxStep || v > b.maxValue) {
              b.maxStep = step[i];
              b.maxValue = v;
            }
          } else if (v !== v) {
            if (b.nanStep !== b.nanStep) b.nanStep = step[i];
          } else if (v === Infinity) {
            if (b.posInfStep !== b.posInfStep) b.posInfStep = step[i];
          } else if (b.negInfStep !== b.negInfStep) b.negInfStep = step[i];
        }
        b.count = taken;
        b.lastStep = step[last];
        b.lastValue = values[last];
        buckets.push(b);
      }
      out.set(name, buckets);
    }
    return out;
  }

  private grow(): void {
    const cap = this.step.length * 2;
    const bigger = (a: Float64Array) => {
      const b = new Float64Array(cap);
      b.set(a);
      return b;
    };
    this.step = bigger(this.step);
    this.time = bigger(this.time);
    this.seq = bigger(this.seq);
    this.rank = bigger(this.rank);
    for (const col of this.metrics.values()) {
      col.values = bigger(col.values);
      const valid = new Uint8Array(cap);
      valid.set(col.valid);
      col.valid = valid;
    }
  }
}

const BUCKET_FIELDS = ['count', 'firstStep', 'firstValue', 'lastStep', 'lastValue', 'minStep', 'minValue', 'maxStep', 'maxValue', 'nanStep', 'posInfStep', 'negInfStep'] as const satisfies readonly (keyof Bucket)[];

function summaryTable(summary: Map<string, Bucket[]>): Table {
  const names: string[] = [];
  const cols = BUCKET_FIELDS.map(() => [] as number[]);
  for (const [name, buckets] of summary) {
    for (const b of buckets) {
      names.push(name);
      BUCKET_FIELDS.forEach((f, j) => cols[j].push(b[f]));
    }
  }
  // Dictionary-encoded: a reader takes each row's metric as an index into a few names, not a string to decode.
  const vectors: Record<string, Vector> = { metric: vectorFromArray(names, new Dictionary(new Utf8(), new Int32())) };
  BUCKET_FIELDS.forEach((f, j) => (vectors[f] = vectorFromArray(Float64Array.from(cols[j]))));
  return new Table(vectors);
}

/** The summary file of a segment, by metric. */
export async function readSummary(file: string): Promise<Map<string, Bucket[]>> {
  return summaryOfTable(tableFromIPC(await fsp.readFile(file)));
}

/** A summary table's rows as buckets, by metric; 8 192 rows a turn of the event loop (an overview file has 10⁴–10⁵). */
async function summaryOfTable(table: Table): Promise<Map<string, Bucket[]>> {
  const out = new Map<string, Bucket[]>();
  const nameAt = metricNames(table.getChild('metric')!);
  const [count, firstStep, firstValue, lastStep, lastValue, minStep, minValue, maxStep, maxValue, nanStep, posInfStep, negInfStep] = BUCKET_FIELDS.map((f) => table.getChild(f)!.toArray() as Float64Array);
  let name: string | undefined;
  let list: Bucket[] = [];
  for (let i = 0; i < table.numRows; i++) {
    if (i > 0 && i % 8192 === 0) await turn();
    const n = nameAt(i);
    if (n !== name) {
      name = n;
      let known = out.get(n);
      if (!known) out.set(n, (known = []));
      list = known;
    }
    list.push({ count: count[i], firstStep: firstStep[i], firstValue: firstValue[i], lastStep: lastStep[i], lastValue: lastValue[i], minStep: minStep[i], minValue: minValue[i], maxStep: maxStep[i], maxValue: maxValue[i], nanStep: nanStep[i], posInfStep: posInfStep[i], negInfStep: negInfStep[i] });
  }
  return out;
}

/** Row `i`'s metric name: through the dictionary (written so since the overview file), or decoded (older summaries). */
function metricNames(col: Vector): (i: number) => string {
  if (col.data.length === 1 && col.data[0].dictionary) {
    const d = col.data[0];
    const indices = d.values as Int32Array;
    const names = [...d.dictionary!].map(String);
    return (i) => names[indices[d.offset + i]];
  }
  return (i) => col.get(i) as string;
}

/**
 * `incoming` (newer points) appended to `overview`, which then keeps at most `max` buckets per
 * metric: while over, neighbours merge pairwise, as a Series' overview does (the pyramid's next
 * level). The first NaN and ±∞ of every bucket survive each merge (src/store/series.ts mergeInto).
 */
export function mergeSummaries(overview: Map<string, Bucket[]>, incoming: Map<string, Bucket[]>, max = OVERVIEW_BUCKETS): Map<string, Bucket[]> {
  for (const [name, buckets] of incoming) {
    let list = overview.get(name);
    if (!list) overview.set(name, (list = []));
    for (const b of buckets) list.push({ ...b });
    while (list.length > max) {
      let j = 0;
      for (let i = 0; i < list.length; i += 2) {
        const a = list[i];
        if (i + 1 < list.length) mergeInto(a, list[i + 1]);
        list[j++] = a;
      }
      list.length = j;
    }
  }
  return overview;
}

/**
 * One segment's columns as read for zooms: its steps, and each metric's points, read the first
 * time a zoom asks for it (src/store/segmentRead.ts reads those columns alone) and kept while the
 * segment stays in its run's cache (ColumnStore.segment).
 */
export class SegmentColumns {
  private steps: Float64Array | null = null;
  private readonly decoded = new Map<string, { steps: Float64Array; values: Float64Array } | null>();
  /** The whole file, when every metric was asked for (or the file is not one the column reader knows). */
  private whole: Table | null = null;

  constructor(private readonly file: string) {}

  /** Reads the columns of `names` not read yet; every column when null. */
  async load(names: readonly string[] | null): Promise<void> {
    if (this.whole) return;
    const missing = names === null ? null : names.filter((n) => !this.decoded.has(n));
    if (missing !== null && missing.length === 0) return;
    const got = missing === null ? null : await readColumns(this.file, missing);
    if (!got) {
      this.whole = tableFromIPC(await fsp.readFile(this.file));
      this.steps = numbers(this.whole.getChild('step')!);
      this.decoded.clear();
      return;
    }
    this.steps = got.steps;
    for (const name of missing!) {
      const col = got.columns.get(name);
      if (!col) {
        this.decoded.set(name, null);
        continue;
      }
      const bitmap = col.valid;
      this.decoded.set(name, compact(got.steps, col.values, bitmap ? (i) => (bitmap[i >> 3] & (1 << (i & 7))) !== 0 : () => true));
    }
  }

  /** The metrics of this segment read so far (every one once read whole). */
  get names(): string[] {
    if (this.whole) return this.whole.schema.fields.map((f) => f.name).filter((n) => !(ROW_COLUMNS as readonly string[]).includes(n));
    return [...this.decoded].filter(([, p]) => p !== null).map(([n]) => n);
  }

  /** The points of metric `name` whose step is in [from, to]; null when this segment lacks it or it was not loaded. */
  range(name: string, from: number, to: number): { steps: Float64Array; values: Float64Array } | null {
    const all = this.column(name);
    if (!all) return null;
    const lo = lowerBound(all.steps, all.steps.length, from);
    const hi = upperBound(all.steps, all.steps.length, to);
    return { steps: all.steps.subarray(lo, hi), values: all.values.subarray(lo, hi) };
  }

  private column(name: string): { steps: Float64Array; values: Float64Array } | null {
    if (this.decoded.has(name)) return this.decoded.get(name)!;
    if (!this.whole || (ROW_COLUMNS as readonly string[]).includes(name)) return null;
    const col = this.whole.getChild(name);
    const out = col ? (() => {
      const { values, valid } = floatColumn(col);
      return compact(this.steps!, values, valid);
    })() : null;
    this.decoded.set(name, out);
    return out;
  }
}

/** The rows of a column that have a value, as points (the arrays themselves when every row has one). */
function compact(steps: Float64Array, values: Float64Array, valid: (i: number) => boolean): { steps: Float64Array; values: Float64Array } {
  let n = 0;
  for (let i = 0; i < steps.length; i++) if (valid(i)) n++;
  if (n === steps.length) return { steps, values };
  const s = new Float64Array(n);
  const v = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < steps.length; i++) {
    if (!valid(i)) continue;
    s[j] = steps[i];
    v[j++] = values[i];
  }
  return { steps: s, values: v };
}

/** A Float64 column of one record batch or many, with its validity (null: a row without the metric). */
export function floatColumn(col: Vector): { values: Float64Array; valid: (i: number) => boolean } {
  if (col.data.length === 1) {
    const d = col.data[0];
    const values = d.values as Float64Array;
    const bitmap = d.nullBitmap;
    const off = d.offset;
    if (!bitmap || d.nullCount === 0) return { values: values.subarray(off, off + d.length), valid: () => true };
    return { values: values.subarray(off, off + d.length), valid: (i) => (bitmap[(i + off) >> 3] & (1 << ((i + off) & 7))) !== 0 };
  }
  const values = new Float64Array(col.length);
  const ok = new Uint8Array(col.length);
  for (let i = 0; i < col.length; i++) {
    const v = col.get(i) as number | null;
    if (v !== null) {
      values[i] = v;
      ok[i] = 1;
    }
  }
  return { values, valid: (i) => ok[i] === 1 };
}

/** Step, seq and rank come back from Arrow as BigInt64 or Int32: as doubles (every one is below 2^53). */
export function numbers(col: Vector): Float64Array {
  const out = new Float64Array(col.length);
  let i = 0;
  for (const d of col.data) {
    const values = d.values as BigInt64Array | Int32Array | Float64Array;
    for (let j = 0; j < d.length; j++) out[i++] = Number(values[d.offset + j]);
  }
  return out;
}

/** The columns of one run: its index and its sealed segments. One writer per run (its Run). */
export class ColumnStore {
  private chain: Promise<void> = Promise.resolve();
  /**
   * The segments read last (a zoom, then the next zoom beside it, reads the same ones): at most
   * CACHED_SEGMENTS, each a few MiB, dropped with the run when it is let go (src/store/runStore.ts).
   */
  private readonly cache = new Map<string, SegmentColumns>();

  private constructor(
    readonly dir: string,
    public index: ColumnIndex,
  ) {}

  /**
   * The run's index as the disk has it, checked against metrics.jsonl: an index that points past
   * the log's end or into the middle of a line, or names a segment that is missing, is not used
   * (the rows are read again from the log and sealed afresh).
   */
  static async open(runDir: string, jsonlSize: number, byteBefore: (offset: number) => Promise<number | null>): Promise<{ store: ColumnStore; problem: string | null }> {
    const dir = path.join(runDir, COLUMNS_DIR);
    let index = emptyIndex();
    let problem: string | null = null;
    try {
      const raw = JSON.parse(await fsp.readFile(path.join(dir, INDEX_FILE), 'utf8')) as ColumnIndex;
      problem = await checkIndex(raw, dir, jsonlSize, byteBefore);
      if (problem === null) index = raw;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') problem = `columns/index.json cannot be used (${(err as Error).message})`;
    }
    return { store: new ColumnStore(dir, index), problem };
  }

  /** The columns of a run created now: none sealed yet. */
  static fresh(runDir: string): ColumnStore {
    return new ColumnStore(path.join(runDir, COLUMNS_DIR), emptyIndex());
  }

  fileOf(entry: SegmentEntry): string {
    return path.join(this.dir, entry.file);
  }

  summaryOf(entry: SegmentEntry): string {
    return path.join(this.dir, entry.file.replace(/\.arrow$/, '.summary.arrow'));
  }

  /** A sealed segment's columns, from the cache of the last ones read or from disk. */
  async segment(entry: SegmentEntry, names: readonly string[] | null): Promise<SegmentColumns> {
    let segment = this.cache.get(entry.file);
    if (segment) this.cache.delete(entry.file);
    else segment = new SegmentColumns(this.fileOf(entry));
    this.cache.set(entry.file, segment);
    while (this.cache.size > CACHED_SEGMENTS) this.cache.delete(this.cache.keys().next().value!);
    await segment.load(names);
    return segment;
  }

  /**
   * What a reopen reads (docs/store.md "Reopening"): the overview file of the first segments and
   * the summaries of the newer ones, in segment order, each with the entries it stands for.
   */
  async summaries(each: (entries: SegmentEntry[], summary: Map<string, Bucket[]>) => Promise<void>): Promise<void> {
    const { segments, overview } = this.index;
    let from = 0;
    if (overview) {
      await each(segments.slice(0, overview.segments), await readSummary(path.join(this.dir, overview.file)));
      from = overview.segments;
    }
    const rest = segments.slice(from);
    // Read together (the disk's queue stays full), taken in order; a long run without an overview
    // (columns from before it) reads them 16 at a time.
    for (let i = 0; i < rest.length; i += 16) {
      const batch = rest.slice(i, i + 16);
      const summaries = await Promise.all(batch.map((entry) => readSummary(this.summaryOf(entry))));
      for (let j = 0; j < batch.length; j++) await each([batch[j]], summaries[j]);
    }
  }

  /** Segments whose steps meet [from, to]. */
  overlapping(from: number, to: number): SegmentEntry[] {
    return this.index.segments.filter((s) => s.lastStep >= from && s.firstStep <= to);
  }

  /**
   * Writes the first `k` rows of `rows` as the next segment and its summary, then the index that
   * names them with the log's offset past them. Seals run one after the other.
   */
  seal(rows: RowColumns, k: number, jsonlOffset: number, jsonlLines: number): Promise<void> {
    const table = rows.toTable(k);
    const summary = summaryTable(rows.summary(k));
    const name = `seg-${String(this.index.segments.length).padStart(6, '0')}.arrow`;
    const seqs = rows.seq.subarray(0, k);
    let lastSeq: number | null = null;
    for (const s of seqs) if (!Number.isNaN(s) && (lastSeq === null || s > lastSeq)) lastSeq = s;
    let lastTime: number | null = null;
    for (let i = k - 1; i >= 0 && lastTime === null; i--) if (!Number.isNaN(rows.time[i])) lastTime = rows.time[i];
    const entry: SegmentEntry = {
      file: name,
      rows: k,
      firstStep: rows.step[0],
      lastStep: rows.step[k - 1],
      lastSeq,
      lastTime,
    };
    const op = this.chain.then(async () => {
      await fsp.mkdir(this.dir, { recursive: true });
      await writeAtomic(this.fileOf(entry), tableToIPC(await table, 'file'));
      await writeAtomic(this.summaryOf(entry), tableToIPC(summary, 'file'));
      const segments = [...this.index.segments, entry];
      const before = this.index.overview ?? null;
      const overview = segments.length - (before?.segments ?? 0) >= OVERVIEW_EVERY ? await this.writeOverview(segments) : before;
      const next: ColumnIndex = { ...this.index, jsonlOffset, jsonlLines, segments, overview };
      await writeAtomic(path.join(this.dir, INDEX_FILE), JSON.stringify(next) + '\n');
      this.index = next;
      if (overview !== before) await this.dropOverviewsBut(overview);
    });
    this.chain = op.catch(() => undefined);
    return op;
  }

  /**
   * The overview of `segments`: the previous overview file and the summaries of the segments
   * since, merged (src/store/columns.ts mergeSummaries). Named for how many segments it covers, so
   * the index that names it and the file always agree, whichever of them a crash left behind.
   */
  private async writeOverview(segments: SegmentEntry[]): Promise<{ file: string; segments: number }> {
    const before = this.index.overview ?? null;
    let merged = before ? await readSummary(path.join(this.dir, before.file)) : new Map<string, Bucket[]>();
    for (let i = before?.segments ?? 0; i < segments.length; i++) {
      merged = mergeSummaries(merged, await readSummary(this.summaryOf(segments[i])));
      await turn();
    }
    const file = `overview-${String(segments.length).padStart(6, '0')}.arrow`;
    await writeAtomic(path.join(this.dir, file), tableToIPC(summaryTable(merged), 'file'));
    return { file, segments: segments.length };
  }

  /**
   * Writes the overview of a run whose index has none, or one OVERVIEW_EVERY segments behind (an
   * index from before the overview file): its next reopen reads one file, not one per segment.
   */
  catchUp(): Promise<void> {
    const op = this.chain.then(async () => {
      const before = this.index.overview ?? null;
      if (this.index.segments.length - (before?.segments ?? 0) < OVERVIEW_EVERY) return;
      const overview = await this.writeOverview(this.index.segments);
      const next: ColumnIndex = { ...this.index, overview };
      await writeAtomic(path.join(this.dir, INDEX_FILE), JSON.stringify(next) + '\n');
      this.index = next;
      await this.dropOverviewsBut(overview);
    });
    this.chain = op.catch(() => undefined);
    return op;
  }

  /**
   * The index names `kept` now: every other overview file (the one it replaced, or one a crash
   * left before its index was written) is read by no one.
   */
  private async dropOverviewsBut(kept: { file: string } | null): Promise<void> {
    const files = await fsp.readdir(this.dir).catch(() => [] as string[]);
    for (const f of files) if (/^overview-\d+\.arrow$/.test(f) && f !== kept?.file) await fsp.rm(path.join(this.dir, f), { force: true }).catch(() => undefined);
  }

  /** Forgets every segment (their rows are read again from the log): the index goes first. */
  async reset(): Promise<void> {
    await this.chain;
    this.index = emptyIndex();
    this.cache.clear();
    await fsp.rm(this.dir, { recursive: true, force: true });
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

async function checkIndex(raw: ColumnIndex, dir: string, jsonlSize: number, byteBefore: (offset: number) => Promise<number | null>): Promise<string | null> {
  if (raw?.version !== 1 || !Array.isArray(raw.segments) || !Number.isInteger(raw.jsonlOffset) || !Number.isInteger(raw.jsonlLines)) return 'columns/index.json is not an index; the columns are rebuilt from metrics.jsonl';
  if (raw.jsonlOffset > jsonlSize) return `columns/index.json points past the end of metrics.jsonl (${raw.jsonlOffset} > ${jsonlSize} bytes); the columns are rebuilt from it`;
  if (raw.jsonlOffset > 0 && (await byteBefore(raw.jsonlOffset)) !== 0x0a) return 'columns/index.json does not point at the start of a line of metrics.jsonl; the columns are rebuilt from it';
  // One listing of the folder, not a stat per file: a long run has hundreds of segments.
  const present = new Set(await fsp.readdir(dir));
  if (raw.overview && !present.has(raw.overview.file)) return `columns/${raw.overview.file} is missing; the columns are rebuilt from metrics.jsonl`;
  if (raw.overview && (!Number.isInteger(raw.overview.segments) || raw.overview.segments > raw.segments.length)) return 'columns/index.json names an overview of more segments than it has; the columns are rebuilt from metrics.jsonl';
  // A segment's own summary is read only when no overview covers it.
  const covered = raw.overview?.segments ?? 0;
  for (let i = 0; i < raw.segments.length; i++) {
    const s = raw.segments[i];
    if (!present.has(s.file) || (i >= covered && !present.has(s.file.replace(/\.arrow$/, '.summary.arrow')))) return `columns/${s.file} is missing; the columns are rebuilt from metrics.jsonl`;
  }
  return null;
}

async function writeAtomic(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
}

/** Segments a run keeps decoded for the next zoom (each about 1.8 MiB at 50 metrics). */
const CACHED_SEGMENTS = 8;

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function toBigInts(values: Float64Array, k: number): BigInt64Array {
  const out = new BigInt64Array(k);
  for (let i = 0; i < k; i++) out[i] = Number.isNaN(values[i]) ? 0n : BigInt(values[i]);
  return out;
}

function toBitmap(valid: Uint8Array, k: number): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(((k + 63) >> 6) << 3);
  let nulls = 0;
  for (let i = 0; i < k; i++) {
    if (valid[i]) bitmap[i >> 3] |= 1 << (i & 7);
    else nulls += 1;
  }
  return { bitmap, nulls };
}
