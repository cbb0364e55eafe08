// Robust streaming statistics for the detectors. A fixed window keeps each update O(window),
// which is O(1) in the length of the run: a detector costs the same at step 10 and at step 10⁶.

/** Median and MAD over the last `size` values, kept sorted for O(log W + W) updates. */
export class RollingWindow {
  private readonly ring: number[];
  private readonly sorted: number[] = [];
  private next = 0;
  private filled = 0;

  constructor(readonly size: number) {
    this.ring = new Array<number>(size);
  }

  get count(): number {
    return this.filled;
  }

  push(value: number): void {
    if (this.filled === this.size) {
      const old = this.ring[this.next];
      this.sorted.splice(lowerBound(this.sorted, old), 1);
    } else {
      this.filled += 1;
    }
    this.ring[this.next] = value;
    this.next = (this.next + 1) % this.size;
    this.sorted.splice(lowerBound(this.sorted, value), 0, value);
  }

  median(): number {
    return quantileSorted(this.sorted, 0.5);
  }

  /** The q-quantile of the values (linear between order statistics). */
  quantile(q: number): number {
    return quantileSorted(this.sorted, q);
  }

  /** The values, oldest first. */
  inOrder(): number[] {
    if (this.filled < this.size) return this.ring.slice(0, this.filled);
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }

  /** Median absolute deviation, scaled by 1.4826 so it estimates σ for normal data. */
  mad(): number {
    return madOfSorted(this.sorted);
  }
}

/** The robust σ of a series' row-to-row noise, blind to its trend: the MAD of its first differences
 *  over √2 (for independent noise a difference has twice a value's variance). */
export function diffSigma(xs: readonly number[]): number {
  if (xs.length < 3) return 0;
  const diffs: number[] = [];
  for (let i = 1; i < xs.length; i++) diffs.push(xs[i] - xs[i - 1]);
  return madOfSorted(diffs.sort((a, b) => a - b)) / Math.SQRT2;
}

/** The σ of an EMA with smoothing α of white noise of σ `rowSigma`: rowSigma·√(α/(2−α)). */
export function emaSigma(rowSigma: number, alpha: number): number {
  return rowSigma * Math.sqrt(alpha / (2 - alpha));
}

/** 1.4826 × the median absolute deviation of values sorted ascending. */
function madOfSorted(sorted: number[]): number {
  const m = quantileSorted(sorted, 0.5);
  const deviations = sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
  return 1.4826 * quantileSorted(deviations, 0.5);
}

function lowerBound(sorted: number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function quantileSorted(sorted: number[], q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/** Exponential moving average with a bias-corrected start. */
export class Ema {
  private value = 0;
  private weight = 0;

  constructor(readonly alpha: number) {}

  push(x: number): number {
    this.value = (1 - this.alpha) * this.value + this.alpha * x;
    this.weight = (1 - this.alpha) * this.weight + this.alpha;
    return this.current;
  }

  get current(): number {
    return this.weight === 0 ? Number.NaN : this.value / this.weight;
  }

  get ready(): boolean {
    return this.weight > 0;
  }
}

/** Counts consecutive true observations: the sustain test of every "for K rows" rule. */
export class Streak {
  private n = 0;

  push(condition: boolean): number {
    this.n = condition ? this.n + 1 : 0;
    return this.n;
  }

  get length(): number {
    return this.n;
  }
}

/** How much the smoothed loss improved over the last `window` rows, as a fraction (0.1 = 10 % lower). */
export class LossProgress {
  private readonly ema: Ema;
  private readonly history: number[] = [];

  constructor(alpha: number, private readonly window: number) {
    this.ema = new Ema(alpha);
  }

  observe(loss: number | undefined): void {
    if (loss === undefined || !Number.isFinite(loss) || loss <= 0) return;
    this.history.push(this.ema.push(Math.log(loss)));
    if (this.history.length > this.window + 1) this.history.shift();
  }

  /** NaN until the window is full. */
  progress(): number {
    if (this.history.length <= this.window) return Number.NaN;
    return 1 - Math.exp(this.history[this.history.length - 1] - this.history[0]);
  }
}

/** The quantile one σ above the median of a normal distribution. */
const UPPER_SIGMA_Q = 0.8413;

/** The fewest block means a LaggedReference's batch-means σ is taken from. */
export const BLOCK_MEANS_AT_LEAST = 4;

/**
 * The noise reference of a series: median and robust σ (1.4826·MAD) of its values from `lag` to
 * `lag + size` rows back. The lag keeps a rise out of its own reference for `lag` rows, so a
 * rise reads in units of the noise the series had before it (docs/early-warning.md).
 *
 * With `block` > 1 the σ is at least the batch-means estimate: the robust spread of the means of
 * consecutive blocks of `block` rows, times √block. For independent noise the two agree; for a
 * series whose level wanders (an LM's loss as the data shards change: GPT-2 logs drift 1.5 % for
 * hundreds of steps on a per-row σ of 1 %) the per-row σ understates how far its mean moves, and a
 * CUSUM of per-row z-scores reads every wander as a rise. Batch means are the textbook long-run
 * variance for a CUSUM on autocorrelated data.
 */
export class LaggedReference {
  private readonly delay: number[] = [];
  private readonly window: RollingWindow;
  private pending = 0;
  private med = Number.NaN;
  private sigma = Number.NaN;

  /** The median and MAD are recomputed every `refreshEvery` pushes: a reference of `size` rows moves
   *  little in a few, and the MAD's sort is the detectors' largest cost per row. */
  constructor(
    readonly lag: number,
    readonly size: number,
    private readonly minCount = 20,
    private readonly refreshEvery = 5,
    private readonly block = 1,
  ) {
    this.window = new RollingWindow(Math.max(1, size));
  }

  push(x: number): void {
    this.delay.push(x);
    if (this.delay.length > this.lag) {
      this.window.push(this.delay.shift()!);
      this.pending += 1;
    }
  }

  get ready(): boolean {
    return this.window.count >= this.minCount;
  }

  private refresh(): void {
    if (Number.isFinite(this.med) && this.pending < this.refreshEvery) return;
    this.med = this.window.median();
    // The upper half's spread too (the 84th percentile less the median: σ for normal data): a rise
    // is judged against how far the series goes up by chance, and a loss pinned at its floor
    // (lossScale.ts) for over half its rows has a MAD of 0 and its noise all above (docs/early-warning.md,
    // "The zoo").
    this.sigma = Math.max(this.window.mad(), this.window.quantile(UPPER_SIGMA_Q) - this.med);
    if (this.block > 1) {
      const means = blockMeans(this.window.inOrder(), this.block);
      if (means.length >= BLOCK_MEANS_AT_LEAST) {
        // The centre is the median of the block means: the level the loss's mean held, robust to a
        // spike in one block. A skewed loss (a per-sample loss, or one that sits at its floor with a
        // tail above) has its mean well above its median, and a CUSUM centred on the median drifts
        // up on it forever (docs/early-warning.md, "The zoo").
        this.med = Math.max(this.med, quantileSorted(means, 0.5));
        this.sigma = Math.max(this.sigma, madOfSorted(means) * Math.sqrt(this.block));
      }
    }
    this.pending = 0;
  }

  median(): number {
    this.refresh();
    return this.med;
  }

  /** Robust σ of the reference, at least `floor`. */
  sd(floor: number): number {
    this.refresh();
    return Math.max(this.sigma, floor);
  }
}

/** The means of consecutive blocks of b values, sorted ascending. */
function blockMeans(xs: number[], b: number): number[] {
  const means: number[] = [];
  for (let i = 0; i + b <= xs.length; i += b) {
    let sum = 0;
    for (let j = i; j < i + b; j++) sum += xs[j];
    means.push(sum / b);
  }
  return means.sort((x, y) => x - y);
}

/** One-sided upper CUSUM of standardised values: S = max(0, S + z − k), and where it last left 0. */
export class Cusum {
  value = 0;
  /** The index passed to push when S last rose from 0: when the current rise began. */
  since = Number.NaN;

  constructor(readonly k: number, readonly cap = 50) {}

  push(z: number, at: number): number {
    const next = Math.max(0, this.value + Math.min(z, this.cap) - this.k);
    if (this.value === 0 && next > 0) this.since = at;
    this.value = next;
    return next;
  }

  reset(): void {
    this.value = 0;
    this.since = Number.NaN;
  }
}
