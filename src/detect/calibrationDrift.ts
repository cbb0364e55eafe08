// Calibration drift: the expected calibration error rising well above its own baseline and staying
// there: the model's confidence no longer matches its accuracy.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { Ema, RollingWindow, Streak } from './stats';

export class CalibrationDriftDetector implements Detector {
  private readonly baseline: RollingWindow;
  private readonly ema: Ema;
  private readonly streak = new Streak();
  private observed = 0;

  constructor(private readonly s: DetectorSettings) {
    this.baseline = new RollingWindow(Math.max(1, s.eceBaselineRows));
    this.ema = new Ema(s.eceAlpha);
  }

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    const ece = row.values['calibration/ece'];
    if (ece === undefined || !Number.isFinite(ece)) return;
    this.observed += 1;
    const smoothed = this.ema.push(ece);
    if (this.observed > this.s.warmupRows && this.baseline.count < this.s.eceBaselineRows) {
      this.baseline.push(ece);
      return;
    }
    if (this.baseline.count < this.s.eceBaselineRows) return;
    const base = this.baseline.median();
    const mad = Math.max(this.baseline.mad(), 1e-3);
    const condition = smoothed >= base * this.s.eceRatio && (smoothed - base) / mad >= this.s.eceZ;
    const firing = this.streak.push(condition) >= this.s.eceSustainRows;
    book.judge('calibration-drift', firing, row.step, row.source, () => ({
      kind: 'calibration-drift',
      severity: 'warning',
      metric: 'calibration/ece',
      message: `calibration is drifting: ECE ${fmt(smoothed)} against a baseline of ${fmt(base)}`,
      values: { 'calibration/ece': ece, smoothed, baseline: base },
    }), out);
  }
}
