// A rise of a metric in units of its own noise (docs/early-warning.md): the one-sided CUSUM of the
// metric's log against the median and robust σ of its own earlier values (a lagged reference, so
// that the rise is not its own yardstick). The loss of a classifier on noisy labels moves by tens
// of percent from batch to batch and the loss of an LM by a few: a fixed fraction above the best
// is noise for one and a blow-up for the other, while a CUSUM of z-scores means the same on both.
// The episode opens at `h` and stays open while the sum stays above h/2: the warning lasts as long
// as the risk does, instead of closing while the loss is still on its way up.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { AlertKind } from './alert';
import type { LossScaleView } from './lossScale';
import type { LrStepView } from './lrSteps';
import { FlooredNoise } from './flooredNoise';
import { BLOCK_MEANS_AT_LEAST, Cusum, LaggedReference } from './stats';

export interface RiseParams {
  key: string;
  kind: AlertKind;
  metric: string;
  /** What the metric is, for the message ("loss", "gradient norm"). */
  noun: string;
  warmupRows: number;
  lag: number;
  window: number;
  k: number;
  h: number;
  /** σ floor in log units: a series flatter than this (a constant LR-free loss) is not divided by ~0. */
  floor: number;
  /**
   * The Watchdog's reading of each row's rate: a warm restart (lrSteps.ts) starts the reference
   * afresh, since the loss rises after one by design. Absent: the reference never restarts.
   */
  lrSteps?: LrStepView;
  /** The loss's floor (lossScale.ts): the loss is judged floored. Absent: the metric as logged. */
  scale?: LossScaleView;
}

/** Rows per block of the reference's batch-means σ (stats.ts, LaggedReference): 10 blocks of 10 in
 *  the default 100-row reference. Chosen on the development splits (docs/early-warning.md, "The
 *  detectors", item 15). */
const RISE_BLOCK = 10;

/** The fewest rows whose sum can open the warning. */
const RISE_ROWS_AT_LEAST = 8;

export class NoiseRiseDetector implements Detector {
  private ref!: LaggedReference;
  /** The reference's noise, read for a loss under its floor too (flooredNoise.ts); absent without a floor. */
  private noise?: FlooredNoise;
  private cusum!: Cusum;
  private rows = 0;
  private open = false;
  private sinceStep = Number.NaN;

  constructor(private readonly p: RiseParams) {
    this.restart();
  }

  /** A fresh reference and sum: at the start, and after a warm restart. */
  private restart(): void {
    // Judged only once the reference holds the fewest blocks its batch-means σ is taken from (four):
    // twenty smooth first rows (a GAN's generator loss before its discriminator learns) made a 5 %
    // step read as z = 5 (docs/early-warning.md, "The detectors", item 22).
    this.ref = new LaggedReference(this.p.lag, this.p.window, BLOCK_MEANS_AT_LEAST * RISE_BLOCK, undefined, RISE_BLOCK);
    this.noise = this.p.scale ? new FlooredNoise(this.ref, this.p.scale) : undefined;
    // One row adds at most an eighth of the threshold: a rise is sustained, one row's excess is
    // loss-spike's. Against a reference pinned at the loss's floor (σ at its minimum) a single row
    // read as z = 300 and opened the warning alone (docs/early-warning.md, "The zoo").
    this.cusum = new Cusum(this.p.k, this.p.h / RISE_ROWS_AT_LEAST);
    this.rows = 0;
    this.open = false;
  }

  private sd(): number {
    return this.noise ? this.noise.sd(this.p.floor) : this.ref.sd(this.p.floor);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    if (this.p.h <= 0) return;
    if (this.p.lrSteps?.step === 'restart') this.restart();
    const logged = row.values[this.p.metric];
    if (logged === undefined || !Number.isFinite(logged)) return;
    const v = this.p.scale ? this.p.scale.floored(logged) : logged;
    if (v <= 0) return;
    this.rows += 1;
    const x = Math.log(v);
    let z = Number.NaN;
    let score = 0;
    const judged = this.rows > this.p.warmupRows && this.ref.ready;
    if (judged) {
      const sigma = this.sd();
      z = (x - this.ref.median()) / sigma;
      const before = this.cusum.value;
      score = this.cusum.push(z, this.rows);
      if (before === 0 && score > 0) this.sinceStep = row.step;
    }
    if (this.noise) this.noise.push(x, logged);
    else this.ref.push(x);
    this.open = this.open ? score >= this.p.h / 2 : score >= this.p.h;
    const firing = judged && this.open;
    book.judge(this.p.key, firing, row.step, row.source, () => {
      const sigma = this.sd();
      const median = Math.exp(this.ref.median());
      return {
        kind: this.p.kind,
        severity: 'warning',
        metric: this.p.metric,
        message: `${this.p.noun} is rising beyond its own noise: ${fmt(logged)} is z = ${fmt(z)} above its earlier median ${fmt(median)} (σ = ${fmt(sigma)} in log units), CUSUM ${fmt(score)} ≥ ${fmt(this.p.h)}, since step ${this.sinceStep}${this.p.scale?.note(median) ?? ''}`,
        values: { [this.p.metric]: logged, z, cusum: score, sigma, median, since: this.sinceStep },
      };
    }, out);
  }
}
