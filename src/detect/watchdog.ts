// The streaming detectors of one run, in one place: rows in, alert changes out (design.md §5).
import type { MetricRow } from '../store/run';
import type { Alert } from './alert';
import { CalibrationDriftDetector } from './calibrationDrift';
import type { Detector } from './detector';
import { EntropyCollapseDetector } from './entropyCollapse';
import { EpisodeBook, type AlertChange } from './episodes';
import { GradSpikeDetector } from './gradSpike';
import { DivergenceDetector, LossSpikeDetector, NonFiniteDetector } from './lossDetectors';
import { SaCollapseDetector } from './saCollapse';
import { resolveSettings, type DetectorSettings } from './settings';

export class Watchdog {
  readonly settings: DetectorSettings;
  private readonly book: EpisodeBook;
  private readonly detectors: Detector[];

  constructor(settings: Partial<DetectorSettings> = {}) {
    this.settings = resolveSettings(settings);
    this.book = new EpisodeBook(this.settings.clearRows);
    const s = this.settings;
    this.detectors = [
      new NonFiniteDetector(),
      new LossSpikeDetector(s),
      new DivergenceDetector(s),
      new GradSpikeDetector(s),
      new SaCollapseDetector(s),
      new EntropyCollapseDetector(s),
      new CalibrationDriftDetector(s),
    ];
  }

  ingest(row: MetricRow): AlertChange[] {
    const out: AlertChange[] = [];
    for (const detector of this.detectors) detector.observe(row, this.book, out);
    return out;
  }

  openAlerts(): Alert[] {
    return this.book.openAlerts();
  }
}
