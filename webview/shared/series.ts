// Series as the views hold them: steps and values in growable Float64Arrays, appended to by the
// host's deltas. A series with a point cap compacts itself with M4 when it reaches it (extrema and
// non-finite values kept), so a view that runs for hours holds a bounded, evenly resolved series.
import type { SeriesPoints } from '../contract';
import { m4Select } from '../../src/store/downsample';

export class GrowableSeries {
  steps: Float64Array;
  values: Float64Array;
  length = 0;
  /** Bumped on every change, so a chart knows whether it must rebuild its points. */
  version = 0;
  /** Points that arrived with a step below the last one (a series stays sorted by step). */
  outOfOrder = 0;
  /** Bumped when points already held changed (a compaction, a clear): derived lines start over. */
  rewrites = 0;

  constructor(
    readonly maxPoints = Infinity,
    initialCapacity = 256,
  ) {
    const cap = Math.max(16, Math.min(initialCapacity, Number.isFinite(maxPoints) ? maxPoints : initialCapacity));
    this.steps = new Float64Array(cap);
    this.values = new Float64Array(cap);
  }

  get firstStep(): number {
    return this.length > 0 ? this.steps[0] : NaN;
  }

  get lastStep(): number {
    return this.length > 0 ? this.steps[this.length - 1] : NaN;
  }

  get lastValue(): number {
    return this.length > 0 ? this.values[this.length - 1] : NaN;
  }

  clear(): void {
    this.length = 0;
    this.version++;
    this.rewrites++;
  }

  /** Appends points in step order; returns how many were taken. */
  append(steps: ArrayLike<number>, values: ArrayLike<number>): number {
    const n = Math.min(steps.length, values.length);
    if (this.length === 0 && n > this.maxPoints) return this.appendThinned(steps, values, n);
    return this.appendEach(steps, values, n);
  }

  private appendEach(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): number {
    let taken = 0;
    for (let i = 0; i < n; i++) {
      const s = steps[i];
      if (typeof s !== 'number' || !Number.isFinite(s) || (this.length > 0 && s < this.steps[this.length - 1])) {
        this.outOfOrder++;
        continue;
      }
      if (this.length === this.steps.length) this.makeRoom();
      this.steps[this.length] = s;
      this.values[this.length] = values[i];
      this.length++;
      taken++;
    }
    if (taken > 0) this.version++;
    return taken;
  }

  /** A batch bigger than the cap into an empty series: one M4 pass instead of repeated compaction. */
  private appendThinned(steps: ArrayLike<number>, values: ArrayLike<number>, n: number): number {
    const s = new Float64Array(n);
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      s[i] = steps[i];
      v[i] = values[i];
    }
    let sorted = true;
    for (let i = 1; i < n && sorted; i++) sorted = s[i] >= s[i - 1];
    if (!sorted || !Number.isFinite(s[0]) || !Number.isFinite(s[n - 1])) {
      // Out-of-order or non-finite steps: the point-by-point path skips them.
      return this.appendEach(steps, values, n);
    }
    const cap = Math.max(this.steps.length, Math.ceil(this.maxPoints));
    if (this.steps.length < cap) {
      this.steps = new Float64Array(cap);
      this.values = new Float64Array(cap);
    }
    let w = 0;
    m4Select(s, v, 0, n, s[0], s[n - 1], Math.max(1, Math.floor(this.maxPoints / 8)), (i) => {
      if (w >= this.steps.length) return;
      this.steps[w] = s[i];
      this.values[w] = v[i];
      w++;
    });
    this.length = w;
    this.version++;
    this.rewrites++;
    return n;
  }

  private makeRoom(): void {
    if (this.length >= this.maxPoints) {
      this.compact(Math.max(1, Math.floor(this.maxPoints / 8)));
      if (this.length < this.steps.length) return;
    }
    const cap = Math.min(Math.max(this.steps.length * 2, 16), Number.isFinite(this.maxPoints) ? Math.max(this.maxPoints, this.length + 1) : Infinity);
    const steps = new Float64Array(cap);
    const values = new Float64Array(cap);
    steps.set(this.steps.subarray(0, this.length));
    values.set(this.values.subarray(0, this.length));
    this.steps = steps;
    this.values = values;
  }

  /** M4 over the whole range, in place: at most 4 points per bucket (plus non-finite ones). */
  compact(buckets: number): void {
    let w = 0;
    const steps = this.steps;
    const values = this.values;
    m4Select(steps, values, 0, this.length, steps[0], steps[this.length - 1], buckets, (i) => {
      steps[w] = steps[i];
      values[w] = values[i];
      w++;
    });
    this.length = w;
    this.version++;
    this.rewrites++;
  }

  toPoints(): SeriesPoints<number> {
    return { steps: Array.from(this.steps.subarray(0, this.length)), values: Array.from(this.values.subarray(0, this.length)) };
  }
}

/** The named series of one run. `accept` filters the metric names a view keeps. */
export class SeriesStore {
  private readonly map = new Map<string, GrowableSeries>();

  constructor(
    private readonly maxPoints = Infinity,
    private readonly accept: (name: string) => boolean = () => true,
  ) {}

  get(name: string): GrowableSeries | undefined {
    return this.map.get(name);
  }

  has(name: string): boolean {
    const s = this.map.get(name);
    return s !== undefined && s.length > 0;
  }

  names(): string[] {
    return [...this.map.keys()];
  }

  clear(): void {
    this.map.clear();
  }

  /** Replaces everything with `series`; returns the names it holds. */
  reset(series: Record<string, SeriesPoints<number>>): Set<string> {
    this.map.clear();
    return this.append(series);
  }

  /** Appends a delta; returns the names that changed. */
  append(series: Record<string, SeriesPoints<number>>): Set<string> {
    const changed = new Set<string>();
    for (const name of Object.keys(series)) {
      if (!this.accept(name)) continue;
      const points = series[name];
      if (!points || !Array.isArray(points.steps) || !Array.isArray(points.values)) continue;
      let s = this.map.get(name);
      if (!s) {
        s = new GrowableSeries(this.maxPoints, Math.max(256, points.steps.length));
        this.map.set(name, s);
      }
      if (s.append(points.steps, points.values) > 0) changed.add(name);
    }
    return changed;
  }
}
