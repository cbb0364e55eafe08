// A step up of the learning rate between two rows, told apart by where it lands: above every rate
// the run has trained at (a jump into rates it has never survived, which the divergence warning is
// for) or back to one it has (a warm restart: SGDR, HF's cosine_with_restarts), after which the loss
// rises for a while as expected (docs/early-warning.md, "The detectors").
export type LrStep = 'jump' | 'restart';

export class LrSteps {
  /** The rate of the row before the last one observed. */
  previous = Number.NaN;
  private last = Number.NaN;
  private highest = Number.NEGATIVE_INFINITY;

  constructor(private readonly ratio: number) {}

  /** A step of at least `ratio`× from the last row, or null. */
  observe(lr: number): LrStep | null {
    const highest = this.highest;
    this.previous = this.last;
    this.last = lr;
    this.highest = Math.max(highest, lr);
    if (!(this.ratio > 0 && lr >= this.previous * this.ratio)) return null;
    return lr > highest * (1 + 1e-6) ? 'jump' : 'restart';
  }
}
