// Draws at the next animation frame after data arrived (no refresh floor: the host already sends
// at most 10 messages a second), within a per-frame budget: work that does not fit goes on in the
// next frame, so a frame stays short however many charts changed. While work is pending the
// `busy` element carries data-drawing (tests and benchmarks wait for it to go).
export type FrameWork = (deadline: number) => boolean;

export class FrameScheduler {
  private pending = false;

  /** `work` draws until `deadline` (performance.now() time) and returns true when it is done. */
  constructor(
    private readonly work: FrameWork,
    private readonly busy: HTMLElement,
    private readonly budgetMs = 8,
  ) {}

  request(): void {
    if (this.pending) return;
    this.pending = true;
    this.busy.dataset.drawing = '';
    requestAnimationFrame(() => this.frame(performance.now() + this.budgetMs));
  }

  /** Does all pending work now, whatever it costs. */
  flush(): void {
    if (!this.pending) return;
    this.frame(Infinity);
  }

  private frame(deadline: number): void {
    if (!this.pending) return;
    this.pending = false;
    const done = this.work(deadline);
    if (done) delete this.busy.dataset.drawing;
    else this.request();
  }
}

/**
 * What each piece of a frame's work (a chart) recently cost, so a frame starts only the pieces
 * that fit in what is left of its budget. Checking the clock after a piece instead lets the last
 * piece overrun the budget by its whole cost, and that overrun is the long frame. The first piece
 * of a frame always runs, so the work progresses whatever it costs.
 */
export class WorkCosts<K> {
  private readonly ms = new Map<K, number>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  /** Runs `run` for each key in order while its expected cost fits before `deadline`; true when all ran. */
  runWithin(deadline: number, keys: Iterable<K>, run: (key: K) => void): boolean {
    let first = true;
    for (const key of keys) {
      const t0 = this.now();
      if (!first && t0 + (this.ms.get(key) ?? 0) > deadline) return false;
      run(key);
      const took = this.now() - t0;
      const prev = this.ms.get(key);
      // Rises at once, falls slowly: a piece that just got dearer (more points, a resize) is
      // believed straight away, one that got cheaper only after a few frames agree.
      this.ms.set(key, prev === undefined || took > prev ? took : 0.8 * prev + 0.2 * took);
      first = false;
    }
    return true;
  }
}
