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
