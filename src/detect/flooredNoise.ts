// The noise of a loss that sits under its floor (lossScale.ts; docs/early-warning.md, "The
// detectors", item 23). The loss detectors read the loss floored, so that a fitted loss's ratios
// (0.004 → 0.012 from one batch to the next) mean nothing; but a reference of floored values that
// are all the floor has no spread at all, and the first row above it read as z = 30 at 3 % over
// the floor. The floor erased that noise; it did not remove it. So while the reference's centre is
// the floor, its σ is at least the row-to-row noise of the loss as logged: the robust spread of its
// log's first differences, blind to its level (how far under the floor it sits) and to a trend.
import type { LossScaleView } from './lossScale';
import { diffSigma, type LaggedReference } from './stats';

export class FlooredNoise {
  /** The log of the loss as logged, the last lag + size rows: the reference's rows are the oldest `size`. */
  private readonly logged: number[] = [];
  private sigma = Number.NaN;
  private pending = 0;

  constructor(
    /** The reference of the floored log loss this reads the noise for. */
    readonly ref: LaggedReference,
    private readonly scale: LossScaleView,
    private readonly refreshEvery = 5,
  ) {}

  /** One row: the log of the floored loss, and the loss as logged. */
  push(flooredLog: number, logged: number): void {
    this.ref.push(flooredLog);
    this.logged.push(logged > 0 ? Math.log(logged) : flooredLog);
    if (this.logged.length > this.ref.lag + this.ref.size) this.logged.shift();
    this.pending += 1;
  }

  /** The reference's σ, at least `floor`, and at least the logged loss's noise while its centre is the floor. */
  sd(floor: number): number {
    const sd = this.ref.sd(floor);
    if (!this.scale.isFloor(Math.exp(this.ref.median()))) return sd;
    // Only while the floor holds the reference: computed then, and at most every few rows.
    if (this.pending >= this.refreshEvery || Number.isNaN(this.sigma)) {
      this.sigma = diffSigma(this.logged.slice(0, Math.max(0, this.logged.length - this.ref.lag)));
      this.pending = 0;
    }
    return Math.max(sd, this.sigma);
  }
}
