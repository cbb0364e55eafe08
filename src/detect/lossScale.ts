// The scale a loss's ratios are read on (docs/early-warning.md, "The detectors", item 12). A ratio of the
// loss means the same on every run only while the loss is far from zero: a fine-tune that fits its
// data falls from 0.7 to 0.002 and then moves by 3× from batch to batch, and a negative loss (a
// VAE's ELBO) has no ratio at all. So below a tenth of the size of the loss's first rows, every
// loss detector reads the loss as that tenth: a rise that matters is one on the scale the run
// started at. The floor is fixed once the first rows are in, so a loss that sits under it reads
// flat (a floor that followed the loss down would itself look like a rise). On a loss far above
// it (an LM at 3.3 after 10.9, a classifier at 0.5 after 2.3) nothing changes. A loss whose first
// rows cross zero has its spread for its size. eval/label.py's labels have the same floor.
import { fmt } from './detector';
import { RollingWindow } from './stats';

/** The share of the size of the first rows' loss under which the loss reads flat. */
export const LOSS_FLOOR_SHARE = 0.1;
/** Rows whose median is the run's starting loss (eval/label.py's first window). */
const START_ROWS = 11;

/** What a loss detector reads of the run's scale. */
export interface LossScaleView {
  /** The loss as the detectors judge it: never below the floor. A non-finite loss is unchanged. */
  floored(loss: number): number;
  /** Whether a level (a median, a best) is the floor itself: the loss under it reads as it. */
  isFloor(level: number): boolean;
  /** What a message ends with when a level it quotes is the floor, not the loss (else ''). */
  note(level: number): string;
}

export class LossScale implements LossScaleView {
  private readonly first = new RollingWindow(START_ROWS);
  private floor = Number.NEGATIVE_INFINITY;
  /** The floor is the first rows' spread (they cross zero), not a tenth of their level. */
  private spread = false;

  observe(loss: number | undefined): void {
    if (loss === undefined || !Number.isFinite(loss) || this.first.count >= START_ROWS) return;
    this.first.push(loss);
    // Provisional until the first rows are in: a floor that appeared only at row 11 would make the
    // smoothed loss of a run under it climb to it.
    this.floor = LOSS_FLOOR_SHARE * Math.abs(this.first.median());
    // A loss whose first rows cross zero (a policy-gradient surrogate: −1.2, 0.6, −0.3 …) has a
    // spread but no level: its scale is its spread, and a move within it is no ratio at all.
    const rows = this.first.inOrder();
    this.spread = Math.min(...rows) < 0 && Math.max(...rows) > 0 && this.first.mad() > this.floor;
    if (this.spread) this.floor = this.first.mad();
  }

  floored(loss: number): number {
    return Number.isFinite(loss) ? Math.max(loss, this.floor) : loss;
  }

  isFloor(level: number): boolean {
    return Number.isFinite(this.floor) && Math.abs(level - this.floor) <= 1e-3 * Math.abs(this.floor);
  }

  note(level: number): string {
    const atFloor = this.isFloor(level);
    const what = this.spread ? 'the spread of its first rows’ loss, which crosses zero' : 'a tenth of its first rows’ loss';
    return atFloor ? `; ${fmt(level)} is the floor under the loss’s ratios, ${what}` : '';
  }
}
