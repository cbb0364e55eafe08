// Detectors on the loss itself: non-finite values, sudden spikes and a sustained rise.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import type { LrStepView } from './lrSteps';
import type { LossScaleView } from './lossScale';
import { FlooredNoise } from './flooredNoise';
import { Ema, emaSigma, LaggedReference, RollingWindow, Streak } from './stats';

/** Metrics whose non-finite value means the run is broken now. */
function watchedForNonFinite(name: string): boolean {
  return name === 'loss' || name.startsWith('loss/') || name === 'grad_norm';
}

export class NonFiniteDetector implements Detector {
  private readonly seen = new Set<string>();
  /** Rows in a row on which the gradient norm was non-finite. */
  private gradStreak = 0;
  private rows = 0;

  constructor(private readonly s: DetectorSettings) {}

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    for (const name in row.values) {
      if (!watchedForNonFinite(name)) continue;
      this.seen.add(name);
    }
    const loss = row.values.loss;
    this.rows += 1;
    for (const name of this.seen) {
      const value = row.values[name];
      if (value === undefined) continue;
      let broken = !Number.isFinite(value);
      if (name === 'grad_norm') {
        // An overflowed gradient beside a finite loss is a step the loss scaler skipped: fp16 AMP
        // skips several in a row while it finds its scale in the first steps, and one now and then
        // after. Healthy GPT-2 and fine-tuning logs have both (docs/early-warning.md, "Published
        // runs"). After the warm-up, two rows in a row are no skip.
        this.gradStreak = broken ? this.gradStreak + 1 : 0;
        const lossBroken = loss !== undefined && !Number.isFinite(loss);
        broken = broken && (lossBroken || (this.rows > this.s.warmupRows && this.gradStreak >= 2));
      }
      book.judge(`nonfinite:${name}`, broken, row.step, row.source, () => ({
        kind: 'nonfinite',
        severity: 'critical',
        metric: name,
        message: `${name} is ${fmt(value)} at step ${row.step}${name === 'grad_norm' && this.gradStreak >= 2 ? ` (${this.gradStreak} rows in a row)` : ''}: the run has blown up`,
        values: { [name]: value },
      }), out);
    }
  }
}

/** A loss far above its recent median, by ratio and by robust z-score at once (no absolute level).
 *  While that median is the loss's floor (a fitted loss, under a tenth of its first rows), on
 *  spikeFloorRows rows in a row: one row there that comes straight back is a fitted loss's ordinary
 *  tail (a DQN's target sync, an SFT run's odd batch), and the corpus's labels call a spike that
 *  comes back no explosion (eval/README.md). Above the floor one row is enough: a lone spike of a
 *  loss still learning is the precursor of an attention-logit blow-up (docs/early-warning.md, item 24).
 *  The ratio is read on the loss floored at a tenth of its first rows' size (lossScale.ts): it is a
 *  question of scale. The z-score is of the log of the loss as logged, as grad-spike's is of the log
 *  norm: it is a question of noise. A per-sample or tiny-batch loss is heavy-tailed (a hard example's
 *  loss is 30× the median) and often under the floor, and both a MAD in linear units and a MAD of
 *  the floored loss (which sits at the floor, MAD 0) read its ordinary tail as hundreds of MADs
 *  (docs/early-warning.md, "The zoo"). */
export class LossSpikeDetector implements Detector {
  /** The log of each row's loss as logged (a loss ≤ 0 as its floor's log). */
  private readonly window: RollingWindow;
  private readonly held = new Streak();
  /** The step of the first row of the spike now held. */
  private since = 0;
  private rows = 0;

  constructor(
    private readonly s: DetectorSettings,
    private readonly scale: LossScaleView,
  ) {
    this.window = new RollingWindow(s.spikeWindow);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const raw = row.values.loss;
    if (raw === undefined || !Number.isFinite(raw)) return;
    const loss = this.scale.floored(raw);
    const positive = raw > 0 ? raw : loss;
    if (!(positive > 0)) return;
    const x = Math.log(positive);
    this.rows += 1;
    let firing = false;
    let median = Number.NaN;
    let z = Number.NaN;
    if (this.rows > this.s.warmupRows && this.window.count >= Math.min(10, this.s.spikeWindow)) {
      const m = this.window.median();
      // The floor is monotone: the median of the floored losses is the floored median.
      median = this.scale.floored(Math.exp(m));
      z = (x - m) / Math.max(this.window.mad(), 1e-3);
      firing = loss >= median * this.s.spikeRatio && z >= this.s.spikeZ;
    }
    const rows = this.held.push(firing);
    if (rows === 1) this.since = row.step;
    firing = firing && (rows >= this.s.spikeFloorRows || !this.scale.isFloor(median));
    book.judge('loss-spike', firing, row.step, row.source, () => ({
      kind: 'loss-spike',
      severity: 'critical',
      metric: 'loss',
      message: `loss spiked to ${fmt(raw)}, ${fmt(loss / median)}× its recent median ${fmt(median)} (${fmt(z)} MADs of its log)${rows > 1 ? `, ${rows} rows in a row since step ${this.since}` : ''}${this.scale.note(median)}`,
      values: { loss: raw, median, z, from: this.since },
    }), out);
    this.window.push(x);
  }
}

/** The rate's rise over the last stallRows rows, in log units, as a share of its rise over the
 *  stallRows before, at which it still counts as rising steadily (a ramp reads 1, noise aside). */
const EDGE_STEADY = 0.8;

/** How many σ of its own smoothed value the loss must rise beyond its critical ratio. The best of
 *  an EMA is its lowest excursion, biased low by about this much on a long noisy run (a per-sample
 *  loss's EMA wanders 4× either way), and a real explosion multiplies the loss many times over
 *  (docs/early-warning.md, "The zoo"). */
const CRITICAL_NOISE_Z = 4;
/** Rows per block of the batch-means σ of the reference (stats.ts, LaggedReference), as the rise beyond noise's. */
const CRITICAL_NOISE_BLOCK = 10;

/**
 * The smoothed loss at a multiple of its best is critical (it is exploding now); the LR at the edge
 * of stability and a jump of the LR warn. A creeping rise is noiseRise.ts's.
 */
export class DivergenceDetector implements Detector {
  private observeLr(row: MetricRow, lr: number, book: EpisodeBook, out: AlertChange[]): void {
    this.lr = lr;
    // Only a jump above every rate the run has trained at (lrSteps.ts): a warm restart goes back to
    // a peak the run survived. The risk of a jump lasts as long as the rate stays up: the warning
    // stays open until the rate is back below lrJumpRatio× its level before the jump.
    const { step, previous } = this.lrSteps;
    const jump = lr / previous;
    if (this.rows > this.s.warmupRows && step === 'jump') {
      this.jumpFrom = previous;
      this.jumpStep = row.step;
    }
    // After a restart the rate falls again while the loss climbs back: the edge of stability's
    // window starts afresh, or the restart itself would read as "the rate rose, no progress".
    if (step === 'restart') this.window.length = 0;
    const high = Number.isFinite(this.jumpFrom) && lr >= this.jumpFrom * this.s.lrJumpRatio;
    if (!high) this.jumpFrom = Number.NaN;
    const from = this.jumpFrom;
    book.judge('divergence:lr-jump', high, row.step, row.source, () => ({
      kind: 'divergence',
      severity: 'warning',
      metric: 'lr',
      message: `the learning rate jumped ${fmt(jump)}× (${fmt(previous)} → ${fmt(lr)}) at step ${this.jumpStep}, above any rate the run had trained at: a jump this size often sets off a loss explosion; open while the rate stays ${fmt(this.s.lrJumpRatio)}× above ${fmt(from)}`,
      values: { lr, previous, jump },
    }), out);
  }

  private edgeOpen = false;
  private edgeLr = Number.NaN;
  private edgeStep = Number.NaN;
  private jumpFrom = Number.NaN;
  private jumpStep = Number.NaN;
  private readonly ema: Ema;
  private best = Number.POSITIVE_INFINITY;
  private rows = 0;
  private readonly critStreak = new Streak();
  private lr = Number.NaN;
  private first = Number.NaN;
  /** The log loss's median and robust σ some rows back: the smoothed loss's own noise, read for a
   *  loss under its floor too (flooredNoise.ts). */
  private readonly noise: FlooredNoise;
  /** [smoothed log loss, lr, the highest lr so far] of the last 2 × stallRows + 1 rows. */
  private readonly window: [number, number, number][] = [];

  constructor(
    private readonly s: DetectorSettings,
    /** The Watchdog's reading of each row's rate (lrSteps.ts), ratio lrJumpRatio. */
    private readonly lrSteps: LrStepView,
    /** The floor under the loss's ratios (lossScale.ts). */
    private readonly scale: LossScaleView,
  ) {
    this.ema = new Ema(s.divergenceAlpha);
    // Refreshed every 20 rows: a margin of 100 rows' noise moves slowly, and each refresh sorts them.
    this.noise = new FlooredNoise(new LaggedReference(s.riseLag, s.riseWindow, undefined, 20, CRITICAL_NOISE_BLOCK), scale, 20);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const lr = row.values.lr;
    if (lr !== undefined && Number.isFinite(lr) && lr > 0) this.observeLr(row, lr, book, out);
    const loss = row.values.loss;
    if (loss === undefined) return;
    this.rows += 1;
    // Log space: a rise is a ratio, whatever the loss's scale. A non-finite loss counts as far up.
    const x = Number.isFinite(loss) ? Math.log(Math.max(this.scale.floored(loss), 1e-12)) : (this.ema.ready ? this.ema.current : 0) + Math.log(1e6);
    const smoothed = this.ema.push(x);
    if (Number.isFinite(loss)) this.noise.push(x, loss);
    if (this.rows === 1) this.first = x;
    const judged = this.rows > this.s.warmupRows;
    if (judged && smoothed < this.best) this.best = smoothed;
    // The edge of stability: over the last `stallRows` rows the loss made (almost) no progress while
    // the learning rate kept rising. Past it, a small model without normalisation soon blows up; a
    // healthy warm-up makes progress all the while its learning rate rises. "Kept rising" means no
    // slower than over the `stallRows` rows before: a ramp multiplies the rate at a steady pace,
    // while a linear warm-up's relative rise fades (×1.7 over rows 60–100 after ×3 over 20–60), and
    // a warm-up's slow early progress is no instability (docs/early-warning.md).
    const window = this.window;
    const span = this.s.stallRows;
    window.push([smoothed, this.lr, this.lrSteps.highest]);
    if (window.length > 2 * span + 1) window.shift();
    let stalled = false;
    let progress = Number.NaN;
    let lrRise = Number.NaN;
    if (judged && window.length > 2 * span) {
      const [oldLoss, oldLr, oldHighest] = window[span];
      const olderLr = window[0][1];
      progress = 1 - Math.exp(smoothed - oldLoss);
      lrRise = this.lr / oldLr;
      const steady = Math.log(lrRise) >= EDGE_STEADY * Math.log(oldLr / olderLr);
      // Only a rise into rates the run has not trained at: a cyclic schedule (CyclicLR, a warm
      // restart's re-warm-up) climbs back through rates it has survived, as a restart jumps back to
      // one (item 8; docs/early-warning.md, "The zoo").
      const unseen = this.lr > oldHighest * (1 + 1e-6);
      // Only after a healthy phase: a loss still at its starting level has not begun to learn yet
      // (an MAE loss on noisy labels is slow to start), which is no sign of instability.
      const learned = 1 - Math.exp(this.best - this.first) >= this.s.minLearned;
      stalled = learned && unseen && progress < this.s.minProgress && lrRise >= this.s.lrRiseRatio && steady;
    }
    // The risk lasts while the rate stays at least where it was when the stall was seen: on a ramp
    // it keeps rising until the loss blows up, and a warning that closed when the loss moved again
    // (as it did after 40 rows) would be closed at the onset. Only a falling rate ends it.
    if (stalled && !this.edgeOpen) {
      this.edgeOpen = true;
      this.edgeLr = this.lr;
      this.edgeStep = row.step;
    } else if (this.edgeOpen && !(this.lr >= this.edgeLr)) {
      this.edgeOpen = false;
    }
    book.judge('divergence:edge', stalled || this.edgeOpen, row.step, row.source, () => ({
      kind: 'divergence',
      severity: 'warning',
      metric: 'loss',
      message: `no progress over ${this.s.stallRows} rows (${fmt(progress * 100)}%) while the learning rate rose ${fmt(lrRise)}× to ${fmt(this.lr)}: the run is at the edge of stability since step ${this.edgeStep}; open while the rate stays at or above ${fmt(this.edgeLr)}`,
      values: { loss, smoothed: Math.exp(smoothed), lr: this.lr, lrRise, progress },
    }), out);
    // The creeping rise is judged in units of the loss's own noise (noiseRise.ts, divergence:rise):
    // a fixed fraction above a best that is biased low on a noisy loss fired on healthy classifiers.
    const rise = judged && Number.isFinite(this.best) ? Math.exp(smoothed - this.best) - 1 : 0;
    const margin = this.noise.ref.ready ? CRITICAL_NOISE_Z * emaSigma(this.noise.sd(0), this.s.divergenceAlpha) : 0;
    const beyond = rise > 0 && Math.log1p(rise) >= Math.log1p(this.s.divergenceCriticalRise) + margin;
    const crit = this.critStreak.push(beyond) >= Math.max(1, Math.ceil(this.s.divergenceSustainRows / 2));
    const values = { loss, smoothed: Math.exp(smoothed), best: Math.exp(this.best), rise, noise: Math.exp(margin) };
    book.judge('divergence:critical', crit, row.step, row.source, () => ({
      kind: 'divergence',
      severity: 'critical',
      metric: 'loss',
      message: `loss is diverging: smoothed ${fmt(values.smoothed)} is ${fmt(rise + 1)}× its best ${fmt(values.best)}${values.noise >= 1.1 ? ` (its noise alone moves it ${fmt(values.noise)}×)` : ''}${this.scale.note(values.best)}`,
      values,
    }), out);
  }
}
