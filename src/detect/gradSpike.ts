// grad_norm: a spike against its recent median, or a steady growth over the recent window while
// the loss has stopped improving. Both warn: a growing gradient norm often precedes a loss
// explosion by many steps. Growth alone is not enough: a model that starts to learn (an MAE loss
// on noisy labels, say) sees its gradient grow several times over while its loss falls.
// The gradient judged is the one the optimizer applied (`grad_norm/applied`, which the SDK logs once
// `run.watch(optimizer=…)` has an optimizer) whenever a run has it: most scripts log the norm before
// clipping, and a spike that the clip absorbs never reaches the weights (docs/early-warning.md).
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { diffSigma, Ema, emaSigma, LossProgress, RollingWindow } from './stats';

/** The SDK's post-clip gradient norm (trainer/lossradar/applied.py). */
export const APPLIED_GRAD_NORM = 'grad_norm/applied';

/** The smoothing of the gradient's growth rule. */
const SLOW_ALPHA = 0.05;
/** How many σ of its own noise the smoothed level's growth must pass, as divergence's critical rise (lossDetectors.ts). */
const GROWTH_NOISE_Z = 4;

export class GradSpikeDetector implements Detector {
  private window!: RollingWindow;
  private slow!: Ema;
  private recent!: number[];
  private rows = 0;
  private readonly loss: LossProgress;
  /** Once a run has sent the applied norm, it is the one judged for the rest of the run. */
  private metric!: 'grad_norm' | typeof APPLIED_GRAD_NORM;

  constructor(private readonly s: DetectorSettings) {
    this.judge('grad_norm');
    this.loss = new LossProgress(s.divergenceAlpha, s.stallRows);
  }

  /** Judge `metric` from a fresh history: the pre-clip norm's says nothing of the applied norm's level. */
  private judge(metric: 'grad_norm' | typeof APPLIED_GRAD_NORM): void {
    this.metric = metric;
    this.window = new RollingWindow(this.s.gradWindow);
    this.slow = new Ema(SLOW_ALPHA);
    this.recent = [];
    this.rows = 0;
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    this.loss.observe(row.values.loss);
    if (this.metric === 'grad_norm' && row.values[APPLIED_GRAD_NORM] !== undefined) this.judge(APPLIED_GRAD_NORM);
    const metric = this.metric;
    const noun = metric === APPLIED_GRAD_NORM ? 'the gradient applied (after clipping)' : 'gradient norm';
    const g = row.values[metric];
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
      // The norm before clipping spikes 10–18× on healthy GPT-2 and fine-tuning runs that clip at 1
      // (test/fixtures/published, development split), and most runs clip: without the applied
      // norm, only a spike well past those counts (docs/early-warning.md, "Published runs").
      const needed = metric === APPLIED_GRAD_NORM ? this.s.gradRatio : Math.max(this.s.gradRatio, this.s.gradPreClipRatio);
      spike = ratio >= needed && z >= this.s.gradZ;
    }
    this.window.push(x);
    const smooth = this.slow.push(x);
    // Growth within the recent window: a gradient that rose once while the model started to learn
    // and then stayed up is the new normal, not a trend. The window fills only after the warm-up,
    // like every judgement: measured from the first rows, a gradient that starts near 0 "grew".
    if (judged) this.recent.push(smooth);
    if (this.recent.length > this.s.stallRows + 1) this.recent.shift();
    const growth = judged && this.recent.length > this.s.stallRows ? Math.exp(smooth - this.recent[0]) : 1;
    // The growth must also pass what the smoothed level's own noise moves it: two readings of an EMA
    // of white noise, far apart, differ by √2 × the EMA's σ. A per-sample gradient's log spreads by a
    // whole unit and its EMA wanders 3× either way on a healthy run (docs/early-warning.md, "The zoo").
    // The row-to-row σ comes from differences, so the growth itself is no noise; it is measured only
    // when the growth is large enough to matter.
    const noise = growth >= this.s.gradGrowth ? Math.exp(GROWTH_NOISE_Z * Math.SQRT2 * emaSigma(diffSigma(this.window.inOrder()), SLOW_ALPHA)) : 1;
    const growing = growth >= this.s.gradGrowth * noise;
    book.judge('grad-spike', spike, row.step, row.source, () => ({
      kind: 'grad-spike',
      severity: 'warning',
      metric,
      message: `${noun} spiked to ${fmt(g)}, ${fmt(ratio)}× its recent median (${fmt(z)} MADs)`,
      values: { [metric]: g, ratio, z },
    }), out);
    const stalled = this.loss.progress() < this.s.minProgress;
    book.judge('grad-growth', judged && growing && stalled, row.step, row.source, () => ({
      kind: 'grad-spike',
      severity: 'warning',
      metric,
      message: `${noun} keeps growing while the loss stalls: its smoothed level rose ${fmt(growth)}× over the last ${this.s.stallRows} rows${noise >= 1.1 ? ` (its noise alone moves it ${fmt(noise)}×)` : ''}`,
      values: { [metric]: g, growth, noise },
    }), out);
  }
}
