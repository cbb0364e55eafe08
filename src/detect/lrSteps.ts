// A step up of the learning rate between two rows, told apart by where it lands: above every rate
// the run has trained at (a jump into rates it has never survived, which the divergence warning is
// for) or back to one it has (a warm restart: SGDR, HF's cosine_with_restarts), after which the loss
// rises for a while as expected (docs/early-warning.md, "The detectors"). The Watchdog observes each
// row's rate once; the detectors that care read the step of the row (one owner of the LR history).
export type LrStep = 'jump' | 'restart';

/** What a detector reads of the latest row's rate. */
export interface LrStepView {
  /** The step the latest row made: null when it logged no rate or the rate moved less than ratio×. */
  readonly step: LrStep | null;
  /** The rate of the row with a rate before the latest one. */
  readonly previous: number;
  /** The highest rate of any row so far, the latest included. */
  readonly highest: number;
}

export class LrSteps implements LrStepView {
  step: LrStep | null = null;
  previous = Number.NaN;
  private last = Number.NaN;
  highest = Number.NEGATIVE_INFINITY;

  constructor(private readonly ratio: number) {}

  observe(lr: number | undefined): void {
    this.step = null;
    if (lr === undefined || !Number.isFinite(lr) || lr <= 0) return;
    const highest = this.highest;
    this.previous = this.last;
    this.last = lr;
    this.highest = Math.max(highest, lr);
    if (!(this.ratio > 0 && lr >= this.previous * this.ratio)) return;
    this.step = lr > highest * (1 + 1e-6) ? 'jump' : 'restart';
  }
}
