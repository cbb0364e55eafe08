// grad_norm: a spike against its recent median, or a steady growth over the recent window while
// the loss has stopped improving. Both warn: a growing gradient norm often precedes a loss
// explosion by many steps. Growth alone is not enough: a model that starts to learn (an MAE loss
// on noisy labels, say) sees its gradient grow several times over while its loss falls.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { Ema, LossProgress, RollingWindow } from './stats';

export class GradSpikeDetector implements Detector {
  private readonly window: RollingWindow;
  private readonly slow = new Ema(0.05);
  private readonly recent: number[] = [];
  private rows = 0;
  private readonly loss: LossProgress;

  constructor(private readonly s: DetectorSettings) {
    this.window = new RollingWindow(s.gradWindow);
    this.loss = new LossProgress(s.divergenceAlpha, s.stallRows);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    this.loss.observe(row.values.loss);
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
    // Growth within the recent window: a gradient that rose once while the model started to learn
    // and then stayed up is the new normal, not a trend.
    this.recent.push(smooth);
    if (this.recent.length > this.s.stallRows + 1) this.recent.shift();
    const growth = judged && this.recent.length > this.s.stallRows ? Math.exp(smooth - this.recent[0]) : 1;
    book.judge('grad-spike', spike, row.step, row.source, () => ({
      kind: 'grad-spike',
      severity: 'warning',
      metric: 'grad_norm',
      message: `gradient norm spiked to ${fmt(g)}, ${fmt(ratio)}× its recent median (${fmt(z)} MADs)`,
      values: { grad_norm: g, ratio, z },
    }), out);
    const stalled = this.loss.progress() < this.s.minProgress;
    book.judge('grad-growth', judged && growth >= this.s.gradGrowth && stalled, row.step, row.source, () => ({
      kind: 'grad-spike',
      severity: 'warning',
      metric: 'grad_norm',
      message: `gradient norm keeps growing while the loss stalls: its smoothed level rose ${fmt(growth)}× over the last ${this.s.stallRows} rows`,
      values: { grad_norm: g, growth },
    }), out);
  }
}
