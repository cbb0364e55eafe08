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

  /** Median absolute deviation, scaled by 1.4826 so it estimates σ for normal data. */
  mad(): number {
    const m = this.median();
    const deviations = this.sorted.map((v) => Math.abs(v - m)).sort((a, b) => a - b);
    return 1.4826 * quantileSorted(deviations, 0.5);
  }
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
