// Entropy collapse: the model's predictions turning over-confident. For a calibrated classifier the
// mean prediction entropy tracks the cross-entropy loss; when the entropy falls far below the loss
// relative to the run's own baseline of that ratio, logits are growing faster than the model learns
// (output-logit divergence, Wortsman et al. 2023). Without a loss, the entropy's own drop is judged.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { Ema, RollingWindow, Streak } from './stats';

export class EntropyCollapseDetector implements Detector {
  private readonly baseline: RollingWindow;
  private readonly ema: Ema;
  private readonly streak = new Streak();
  private observed = 0;
  private lastLoss = Number.NaN;

  constructor(private readonly s: DetectorSettings) {
    this.baseline = new RollingWindow(Math.max(1, s.entropyBaselineRows));
    this.ema = new Ema(s.entropyAlpha);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const loss = row.values.loss;
    if (loss !== undefined && Number.isFinite(loss)) this.lastLoss = loss;
    const entropy = row.values['entropy/mean'];
    if (entropy === undefined || !Number.isFinite(entropy)) return;
    const signal = Number.isFinite(this.lastLoss) && this.lastLoss > 0 ? entropy / this.lastLoss : entropy;
    this.observed += 1;
    const smoothed = this.ema.push(signal);
    if (this.observed > this.s.warmupRows && this.baseline.count < this.s.entropyBaselineRows) {
      this.baseline.push(signal);
      return;
    }
    if (this.baseline.count < this.s.entropyBaselineRows) return;
    const base = this.baseline.median();
    const condition = base > 0 && smoothed <= base * this.s.entropyDropRatio;
    const firing = this.streak.push(condition) >= this.s.entropySustainRows;
    book.judge('entropy-collapse', firing, row.step, row.source, () => ({
      kind: 'entropy-collapse',
      severity: 'warning',
      metric: 'entropy/mean',
      message: `prediction entropy collapsed: entropy/loss is ${fmt(smoothed)}, down from ${fmt(base)}; the model is growing over-confident`,
      values: { 'entropy/mean': entropy, loss: this.lastLoss, ratio: smoothed, baseline: base },
    }), out);
  }
}
