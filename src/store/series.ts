// What the hub holds of one metric, bounded whatever the run's length (docs/store.md "Memory"):
// the recent tail at full resolution, and an overview of everything older as a fixed number of
// buckets, each keeping its first, last, minimum and maximum point (M4, as src/store/downsample.ts)
// and the first NaN, +∞ and −∞ it saw. When the buckets are all full, neighbours merge pairwise
// (the next level of the pyramid): the overview's resolution halves, its size stays. A NaN loss is
// never lost from the overview, whatever the run's length; the full detail is on disk
// (src/store/columns.ts) and read on demand (a dashboard's zoom).

export interface SeriesBounds {
  /** Newest points kept at full resolution; the tail holds between this and twice this. */
  tailPoints: number;
  /** Buckets of the overview of older points (each up to 7 points). */
  overviewBuckets: number;
}

export const DEFAULT_BOUNDS: SeriesBounds = { tailPoints: 4096, overviewBuckets: 1024 };

/** One bucket of the overview: a summary of `count` consecutive points. NaN step: none such. */
export interface Bucket {
  count: number;
  firstStep: number;
  firstValue: number;
  lastStep: number;
  lastValue: number;
  minStep: number;
  minValue: number;
  maxStep: number;
  maxValue: number;
  nanStep: number;
  posInfStep: number;
  negInfStep: number;
}

export function bucketOf(step: number, value: number): Bucket {
  const finite = Number.isFinite(value);
  return {
    count: 1,
    firstStep: step,
    firstValue: value,
    lastStep: step,
    lastValue: value,
    minStep: finite ? step : NaN,
    minValue: finite ? value : NaN,
    maxStep: finite ? step : NaN,
    maxValue: finite ? value : NaN,
    nanStep: Number.isNaN(value) ? step : NaN,
    posInfStep: value === Infinity ? step : NaN,
    negInfStep: value === -Infinity ? step : NaN,
  };
}

/** `a` followed by `b`, into `a`. */
export function mergeInto(a: Bucket, b: Bucket): void {
  a.count += b.count;
  a.lastStep = b.lastStep;
  a.lastValue = b.lastValue;
  if (!Number.isNaN(b.minStep) && (Number.isNaN(a.minStep) || b.minValue < a.minValue)) {
    a.minStep = b.minStep;
    a.minValue = b.minValue;
  }
  if (!Number.isNaN(b.maxStep) && (Number.isNaN(a.maxStep) || b.maxValue > a.maxValue)) {
    a.maxStep = b.maxStep;
    a.maxValue = b.maxValue;
  }
  if (Number.isNaN(a.nanStep)) a.nanStep = b.nanStep;
  if (Number.isNaN(a.posInfStep)) a.posInfStep = b.posInfStep;
  if (Number.isNaN(a.negInfStep)) a.negInfStep = b.negInfStep;
}

/** The distinct points a bucket stands for, in step order (at most 7). */
export function bucketPoints(b: Bucket, steps: number[], values: number[]): number {
  // Without an array per point: a snapshot of 50 series turns 10⁴–10⁵ buckets into points.
  let n = 0;
  const add = (step: number, value: number) => {
    if (Number.isNaN(step)) return;
    for (let i = 0; i < n; i++) if (scratchSteps[i] === step && Object.is(scratchValues[i], value)) return;
    scratchSteps[n] = step;
    scratchValues[n++] = value;
  };
  add(b.firstStep, b.firstValue);
  add(b.minStep, b.minValue);
  add(b.maxStep, b.maxValue);
  add(b.nanStep, NaN);
  add(b.posInfStep, Infinity);
  add(b.negInfStep, -Infinity);
  // The last point stays last among equal steps (a metric logged twice at one step): it is left
  // out of the sort and written after the others.
  let last = -1;
  for (let i = 0; i < n && last < 0; i++) if (scratchSteps[i] === b.lastStep && Object.is(scratchValues[i], b.lastValue)) last = i;
  if (last >= 0) {
    for (let i = last; i < n - 1; i++) {
      scratchSteps[i] = scratchSteps[i + 1];
      scratchValues[i] = scratchValues[i + 1];
    }
    n -= 1;
  }
  // Insertion sort by step, stable: at most six points.
  for (let i = 1; i < n; i++) {
    const s = scratchSteps[i];
    const v = scratchValues[i];
    let j = i - 1;
    for (; j >= 0 && scratchSteps[j] > s; j--) {
      scratchSteps[j + 1] = scratchSteps[j];
      scratchValues[j + 1] = scratchValues[j];
    }
    scratchSteps[j + 1] = s;
    scratchValues[j + 1] = v;
  }
  for (let i = 0; i < n; i++) {
    steps.push(scratchSteps[i]);
    values.push(scratchValues[i]);
  }
  steps.push(b.lastStep);
  values.push(b.lastValue);
  return n + 1;
}

const scratchSteps = new Float64Array(7);
const scratchValues = new Float64Array(7);

export class Series {
  private readonly bounds: SeriesBounds;
  private tailSteps: Float64Array;
  private tailValues: Float64Array;
  private tailSize = 0;
  private readonly overview: Bucket[] = [];
  /** Points each new overview bucket takes before the next one starts (doubles at each merge). */
  private width = 1;
  private count = 0;
  /** Points the overview stands as (computed when it changes, not at each push). */
  private overviewPoints: number | undefined = 0;
  private cached: { steps: Float64Array; values: Float64Array } | undefined;

  constructor(initialCapacity = 256, bounds: Partial<SeriesBounds> = {}) {
    this.bounds = { ...DEFAULT_BOUNDS, ...bounds };
    const cap = Math.max(1, Math.min(initialCapacity, this.bounds.tailPoints * 2));
    this.tailSteps = new Float64Array(cap);
    this.tailValues = new Float64Array(cap);
  }

  /** Points of `steps` and `values`: the overview's, then the tail's. */
  get length(): number {
    if (this.overviewPoints === undefined) {
      const scratch: number[] = [];
      let n = 0;
      for (const b of this.overview) {
        n += bucketPoints(b, scratch, scratch);
        scratch.length = 0;
      }
      this.overviewPoints = n;
    }
    return this.overviewPoints + this.tailSize;
  }

  /** Points ever recorded, overview and tail together (the overview stands for them at its resolution). */
  get recorded(): number {
    return this.count;
  }

  /** Points held at full resolution (the newest). */
  get tailLength(): number {
    return this.tailSize;
  }

  get overviewLength(): number {
    return this.overview.length;
  }

  push(step: number, value: number): void {
    if (this.tailSize === this.tailSteps.length) {
      if (this.tailSize >= this.bounds.tailPoints * 2) this.foldTail();
      else this.growTail();
    }
    this.tailSteps[this.tailSize] = step;
    this.tailValues[this.tailSize] = value;
    this.tailSize += 1;
    this.count += 1;
    this.cached = undefined;
  }

  /**
   * Summaries of points older than any pushed yet (a run reopened from its columns: the summary of
   * each sealed segment), taken into the overview as they are.
   */
  absorb(buckets: readonly Bucket[]): void {
    for (const b of buckets) {
      this.addBucket({ ...b });
      this.count += b.count;
      this.overviewPoints = undefined;
      // Points folded from the tail later join buckets of a like size.
      while (this.width < b.count) this.width *= 2;
    }
    this.cached = undefined;
  }

  /** Overview and tail as one series in step order; the same arrays until the next push. */
  points(): { steps: Float64Array; values: Float64Array } {
    if (this.cached) return this.cached;
    const steps: number[] = [];
    const values: number[] = [];
    for (const b of this.overview) bucketPoints(b, steps, values);
    const n = steps.length;
    const out = { steps: new Float64Array(n + this.tailSize), values: new Float64Array(n + this.tailSize) };
    out.steps.set(steps);
    out.values.set(values);
    out.steps.set(this.tailSteps.subarray(0, this.tailSize), n);
    out.values.set(this.tailValues.subarray(0, this.tailSize), n);
    this.cached = out;
    return out;
  }

  get steps(): Float64Array {
    return this.points().steps;
  }

  get values(): Float64Array {
    return this.points().values;
  }

  last(): { step: number; value: number } | undefined {
    if (this.tailSize > 0) return { step: this.tailSteps[this.tailSize - 1], value: this.tailValues[this.tailSize - 1] };
    const b = this.overview[this.overview.length - 1];
    return b ? { step: b.lastStep, value: b.lastValue } : undefined;
  }

  /** Typed-array bytes this series holds: bounded by its SeriesBounds, never by the run's length. */
  get heldBytes(): number {
    return this.tailSteps.byteLength + this.tailValues.byteLength + this.overview.length * 12 * 8;
  }

  private growTail(): void {
    const capacity = Math.min(this.bounds.tailPoints * 2, Math.max(16, this.tailSteps.length * 2));
    const steps = new Float64Array(capacity);
    steps.set(this.tailSteps);
    const values = new Float64Array(capacity);
    values.set(this.tailValues);
    this.tailSteps = steps;
    this.tailValues = values;
  }

  /** The oldest half of the tail goes into the overview. */
  private foldTail(): void {
    const move = this.tailSize - this.bounds.tailPoints;
    for (let i = 0; i < move; i++) {
      const open = this.overview[this.overview.length - 1];
      if (open && open.count < this.width) mergeInto(open, bucketOf(this.tailSteps[i], this.tailValues[i]));
      else this.addBucket(bucketOf(this.tailSteps[i], this.tailValues[i]));
    }
    this.overviewPoints = undefined;
    this.tailSteps.copyWithin(0, move, this.tailSize);
    this.tailValues.copyWithin(0, move, this.tailSize);
    this.tailSize -= move;
  }

  private addBucket(b: Bucket): void {
    if (this.overview.length >= this.bounds.overviewBuckets) {
      // The next level: neighbours merge, so the overview halves and each bucket covers twice as many.
      let j = 0;
      for (let i = 0; i < this.overview.length; i += 2) {
        const a = this.overview[i];
        if (i + 1 < this.overview.length) mergeInto(a, this.overview[i + 1]);
        this.overview[j++] = a;
      }
      this.overview.length = j;
      this.width *= 2;
    }
    this.overview.push(b);
  }
}

export class SeriesSet {
  private readonly byMetric = new Map<string, Series>();

  constructor(private readonly bounds: Partial<SeriesBounds> = {}) {}

  append(step: number, values: Record<string, number>): void {
    for (const name in values) this.series(name).push(step, values[name]);
  }

  /** The series of `name`, created empty when the run has none yet. */
  series(name: string): Series {
    let series = this.byMetric.get(name);
    if (!series) {
      series = new Series(256, this.bounds);
      this.byMetric.set(name, series);
    }
    return series;
  }

  get(name: string): Series | undefined {
    return this.byMetric.get(name);
  }

  names(): string[] {
    return [...this.byMetric.keys()];
  }

  get heldBytes(): number {
    let n = 0;
    for (const s of this.byMetric.values()) n += s.heldBytes;
    return n;
  }
}
