// grad_norm: a spike against its recent median, or a steady growth far above its lowest level.
// Both warn: a growing gradient norm often precedes a loss explosion by many steps.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { Ema, RollingWindow } from './stats';

export class GradSpikeDetector implements Detector {
  private readonly window: RollingWindow;
  private readonly slow = new Ema(0.05);
  private lowest = Number.POSITIVE_INFINITY;
  private rows = 0;

  constructor(private readonly s: DetectorSettings) {
    this.window = new RollingWindow(s.gradWindow);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const g = row.values.grad_norm;
    if (g === undefined || !Number.isFinite(g) || g <= 0) return;
    this.rows += 1;
    const x = Math.log(g);
    const judged = this.rows > this.s.warmupRows;
    let spike = false;
    let ratio = Number.NaN;
    let z = Number.NaN;
    if (judged && this.window.count >= 10) {
      const m = this.window.median();
      const mad = Math.max(this.window.mad(), 1e-3);
      ratio = Math.exp(x - m);
      z = (x - m) / mad;
      spike = ratio >= this.s.gradRatio && z >= this.s.gradZ;
    }
    this.window.push(x);
    const smooth = this.slow.push(x);
    if (judged && smooth < this.lowest) this.lowest = smooth;
    const growth = judged ? Math.exp(smooth - this.lowest) : 1;
    book.judge('grad-spike', spike, row.step, row.source, () => ({
      kind: 'grad-spike',
      severity: 'warning',
      metric: 'grad_norm',
      message: `gradient norm spiked to ${fmt(g)}, ${fmt(ratio)}× its recent median (${fmt(z)} MADs)`,
      values: { grad_norm: g, ratio, z },
    }), out);
    book.judge('grad-growth', judged && growth >= this.s.gradGrowth, row.step, row.source, () => ({
      kind: 'grad-spike',
      severity: 'warning',
      metric: 'grad_norm',
      message: `gradient norm keeps growing: its smoothed level is ${fmt(growth)}× its lowest`,
      values: { grad_norm: g, growth },
    }), out);
  }
}
