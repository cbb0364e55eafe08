// Detectors on the loss itself: non-finite values, sudden spikes and a sustained rise.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { Ema, RollingWindow, Streak } from './stats';

/** Metrics whose non-finite value means the run is broken now. */
function watchedForNonFinite(name: string): boolean {
  return name === 'loss' || name.startsWith('loss/') || name === 'grad_norm';
}

export class NonFiniteDetector implements Detector {
  private readonly seen = new Set<string>();

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    for (const name in row.values) {
      if (!watchedForNonFinite(name)) continue;
      this.seen.add(name);
    }
    for (const name of this.seen) {
      const value = row.values[name];
      if (value === undefined) continue;
      book.judge(`nonfinite:${name}`, !Number.isFinite(value), row.step, row.source, () => ({
        kind: 'nonfinite',
        severity: 'critical',
        metric: name,
        message: `${name} is ${fmt(value)} at step ${row.step}: the run has blown up`,
        values: { [name]: value },
      }), out);
    }
  }
}

/** A loss far above its recent median, by ratio and by robust z-score at once (no absolute level). */
export class LossSpikeDetector implements Detector {
  private readonly window: RollingWindow;
  private rows = 0;

  constructor(private readonly s: DetectorSettings) {
    this.window = new RollingWindow(s.spikeWindow);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const loss = row.values.loss;
    if (loss === undefined || !Number.isFinite(loss)) return;
    this.rows += 1;
    let firing = false;
    let median = Number.NaN;
    let z = Number.NaN;
    if (this.rows > this.s.warmupRows && this.window.count >= Math.min(10, this.s.spikeWindow)) {
      median = this.window.median();
      const mad = Math.max(this.window.mad(), 1e-3 * Math.abs(median), 1e-12);
      z = (loss - median) / mad;
      firing = median > 0 && loss >= median * this.s.spikeRatio && z >= this.s.spikeZ;
    }
    book.judge('loss-spike', firing, row.step, row.source, () => ({
      kind: 'loss-spike',
      severity: 'critical',
      metric: 'loss',
      message: `loss spiked to ${fmt(loss)}, ${fmt(loss / median)}× its recent median ${fmt(median)} (${fmt(z)} MADs)`,
      values: { loss, median, z },
    }), out);
    this.window.push(loss);
  }
}

/**
 * A sustained rise of the smoothed loss above its best so far. A creeping rise warns (the run is
 * heading somewhere bad); the loss at a multiple of its best is critical (it is exploding now).
 */
export class DivergenceDetector implements Detector {
  private readonly ema: Ema;
  private best = Number.POSITIVE_INFINITY;
  private rows = 0;
  private readonly warnStreak = new Streak();
  private readonly critStreak = new Streak();

  constructor(private readonly s: DetectorSettings) {
    this.ema = new Ema(s.divergenceAlpha);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const loss = row.values.loss;
    if (loss === undefined) return;
    this.rows += 1;
    // Log space: a rise is a ratio, whatever the loss's scale. A non-finite loss counts as far up.
    const x = Number.isFinite(loss) ? Math.log(Math.max(loss, 1e-12)) : (this.ema.ready ? this.ema.current : 0) + Math.log(1e6);
    const smoothed = this.ema.push(x);
    const judged = this.rows > this.s.warmupRows;
    if (judged && smoothed < this.best) this.best = smoothed;
    const rise = judged && Number.isFinite(this.best) ? Math.exp(smoothed - this.best) - 1 : 0;
    const warn = this.warnStreak.push(rise >= this.s.divergenceWarnRise) >= this.s.divergenceSustainRows;
    const crit = this.critStreak.push(rise >= this.s.divergenceCriticalRise) >= Math.max(1, Math.ceil(this.s.divergenceSustainRows / 2));
    const values = { loss, smoothed: Math.exp(smoothed), best: Math.exp(this.best), rise };
    book.judge('divergence:warning', warn && !crit, row.step, row.source, () => ({
      kind: 'divergence',
      severity: 'warning',
      metric: 'loss',
      message: `loss is creeping up: smoothed ${fmt(values.smoothed)} is ${fmt(rise * 100)}% above its best ${fmt(values.best)}`,
      values,
    }), out);
    book.judge('divergence:critical', crit, row.step, row.source, () => ({
      kind: 'divergence',
      severity: 'critical',
      metric: 'loss',
      message: `loss is diverging: smoothed ${fmt(values.smoothed)} is ${fmt(rise + 1)}× its best ${fmt(values.best)}`,
      values,
    }), out);
  }
}
