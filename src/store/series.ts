// Columnar, append-only series for one metric: typed arrays that double when full, so an append
// is amortised O(1) and a million points cost 16 MB rather than a million objects.
export class Series {
  private stepsBuf: Float64Array;
  private valuesBuf: Float64Array;
  private size = 0;

  constructor(initialCapacity = 256) {
    this.stepsBuf = new Float64Array(initialCapacity);
    this.valuesBuf = new Float64Array(initialCapacity);
  }

  get length(): number {
    return this.size;
  }

  push(step: number, value: number): void {
    if (this.size === this.stepsBuf.length) this.grow();
    this.stepsBuf[this.size] = step;
    this.valuesBuf[this.size] = value;
    this.size += 1;
  }

  /** Views on the filled part; they stay valid until the next push that grows the buffers. */
  get steps(): Float64Array {
    return this.stepsBuf.subarray(0, this.size);
  }

  get values(): Float64Array {
    return this.valuesBuf.subarray(0, this.size);
  }

  last(): { step: number; value: number } | undefined {
    if (this.size === 0) return undefined;
    return { step: this.stepsBuf[this.size - 1], value: this.valuesBuf[this.size - 1] };
  }

  private grow(): void {
    const capacity = Math.max(16, this.stepsBuf.length * 2);
    const steps = new Float64Array(capacity);
    steps.set(this.stepsBuf);
    const values = new Float64Array(capacity);
    values.set(this.valuesBuf);
    this.stepsBuf = steps;
    this.valuesBuf = values;
  }
}

export class SeriesSet {
  private readonly byMetric = new Map<string, Series>();

  append(step: number, values: Record<string, number>): void {
    for (const name in values) {
      let series = this.byMetric.get(name);
      if (!series) {
        series = new Series();
        this.byMetric.set(name, series);
      }
      series.push(step, values[name]);
    }
  }

  get(name: string): Series | undefined {
    return this.byMetric.get(name);
  }

  names(): string[] {
    return [...this.byMetric.keys()];
  }
}
