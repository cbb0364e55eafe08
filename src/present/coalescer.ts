// At most one call per interval, and never a lost last call: a burst of changes is shown at once,
// then at most every `ms`, and the final state always reaches the view (a run that ends between
// two ticks must not leave its view one delta short).

export class Coalescer {
  private timer: NodeJS.Timeout | undefined;
  private lastRunAt = Number.NEGATIVE_INFINITY;
  private disposed = false;

  constructor(
    private readonly fn: () => void,
    private readonly ms: number,
  ) {}

  /** `fn` runs now (next tick) unless it ran less than `ms` ago, then when `ms` has passed. */
  request(): void {
    if (this.timer || this.disposed) return;
    const delay = Math.max(0, this.lastRunAt + this.ms - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastRunAt = performance.now();
      this.fn();
    }, delay);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
