// The streaming detectors of one run, in one place: rows in, alert changes out (design.md §5).
import { RoleResolver, type RoleOverrides } from '../metrics/roles';
import type { MetricRow } from '../store/run';
import type { Alert } from './alert';
import { CalibrationDriftDetector } from './calibrationDrift';
import type { Detector } from './detector';
import { EntropyCollapseDetector } from './entropyCollapse';
import { EpisodeBook, type AlertChange } from './episodes';
import { GradSpikeDetector } from './gradSpike';
import { DivergenceDetector, LossSpikeDetector, NonFiniteDetector } from './lossDetectors';
import { LossScale } from './lossScale';
import { LrSteps } from './lrSteps';
import { NoiseRiseDetector } from './noiseRise';
import { SaCollapseDetector } from './saCollapse';
import { SigmaGrowthDetector } from './sigmaGrowth';
import { resolveSettings, type DetectorSettings } from './settings';

export class Watchdog {
  readonly settings: DetectorSettings;
  private readonly book: EpisodeBook;
  private readonly detectors: Detector[];
  /** Each row's step of the learning rate, read by the divergence and rise detectors. */
  private readonly lrSteps: LrSteps;
  /** The floor of the loss's ratios (lossScale.ts), read by the loss detectors. */
  private readonly lossScale = new LossScale();
  /** The detectors read canonical names (loss, lr, grad_norm, loss/val); this maps a run's own. */
  readonly roles: RoleResolver;

  constructor(settings: Partial<DetectorSettings> = {}, metrics: RoleOverrides = {}) {
    this.roles = new RoleResolver(metrics);
    this.settings = resolveSettings(settings);
    this.book = new EpisodeBook(this.settings.clearRows);
    const s = this.settings;
    this.lrSteps = new LrSteps(s.lrJumpRatio);
    this.detectors = [
      new NonFiniteDetector(s),
      new LossSpikeDetector(s, this.lossScale),
      new DivergenceDetector(s, this.lrSteps, this.lossScale),
      new NoiseRiseDetector({ key: 'divergence:rise', kind: 'divergence', metric: 'loss', noun: 'the loss', warmupRows: s.warmupRows, lag: s.riseLag, window: s.riseWindow, k: s.riseK, h: s.riseH, floor: 1e-3, lrSteps: this.lrSteps, scale: this.lossScale }),
      new GradSpikeDetector(s),
      new NoiseRiseDetector({ key: 'grad-growth:rise', kind: 'grad-spike', metric: 'grad_norm', noun: 'the gradient norm', warmupRows: s.warmupRows, lag: s.riseLag, window: s.riseWindow, k: s.riseK, h: s.gradRiseH, floor: 1e-3 }),
      new SigmaGrowthDetector(s),
      new SaCollapseDetector(s),
      new EntropyCollapseDetector(s),
      new CalibrationDriftDetector(s),
    ];
  }

  ingest(row: MetricRow): AlertChange[] {
    const out: AlertChange[] = [];
    this.roles.observe(row.values);
    const values = this.roles.canonical(row.values);
    const view = values === row.values ? row : { ...row, values };
    this.lrSteps.observe(values.lr);
    this.lossScale.observe(values.loss);
    for (const detector of this.detectors) detector.observe(view, this.book, out);
    // An alert names the metric the run logged, so its hover and chart find that series. The
    // episode keeps this very object, so its closing record names it too.
    for (const change of out) change.alert.metric = this.roles.actual(change.alert.metric);
    return out;
  }

  openAlerts(): Alert[] {
    return this.book.openAlerts();
  }
}
