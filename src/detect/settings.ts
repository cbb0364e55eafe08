// Every threshold of the detectors, with the defaults chosen on the development split of the corpus
// (docs/early-warning.md; README, "Detectors"): never on its sealed split.
// The VS Code settings `lossradar.detect.*` mirror these names; a test keeps the two in step.
export interface DetectorSettings {
  /** Rows of a metric ignored before it is judged: the first steps' transients. */
  warmupRows: number;
  /** Consecutive quiet rows after which an open alert closes. */
  clearRows: number;

  /** loss-spike: rolling window of the loss, the ratio to its median and the MAD z-score, held spikeFloorRows rows in a row while its median is the floor. */
  spikeWindow: number;
  spikeRatio: number;
  spikeZ: number;
  spikeFloorRows: number;

  /** divergence: EMA of log loss against its best; critical rise, rows sustained. */
  divergenceAlpha: number;
  divergenceCriticalRise: number;
  divergenceSustainRows: number;
  /**
   * divergence (rise beyond noise): CUSUM of the log loss's z-scores against the median and robust σ
   * of its values riseLag … riseLag + riseWindow rows back; allowance riseK σ, warning at riseH.
   */
  riseLag: number;
  riseWindow: number;
  riseK: number;
  riseH: number;
  /** grad-growth: the same CUSUM on log grad_norm, warning at gradRiseH (0: off). */
  gradRiseH: number;
  /** divergence (edge of stability): less than minProgress loss improvement over stallRows rows while the LR rose lrRiseRatio×. */
  stallRows: number;
  minProgress: number;
  lrRiseRatio: number;
  /** …and only once the loss has fallen this fraction below its first value (after a healthy phase). */
  minLearned: number;
  /** divergence (LR jump): the LR multiplied by at least this much from one row to the next. */
  lrJumpRatio: number;

  /** grad-spike: ratio of grad_norm to its rolling median and MAD z-score (in log space). */
  gradWindow: number;
  gradRatio: number;
  gradPreClipRatio: number;
  gradZ: number;
  /** grad-spike growth: slow EMA of grad_norm this many times its level stallRows rows ago, while the loss stalls. */
  gradGrowth: number;

  /**
   * sigma-growth: each layer's log σ₁ growth over its last sigmaObs measurements, in units of its own
   * earlier growths; warn when sigmaMinLayers layers are at z ≥ sigmaZ (0: off) and grew at least
   * sigmaMinGrowth×, after sigmaWarmupObs measurements; σ floor sigmaFloor (log units).
   */
  sigmaObs: number;
  sigmaZ: number;
  sigmaMinLayers: number;
  sigmaMinGrowth: number;
  sigmaWarmupObs: number;
  sigmaFloor: number;

  /** sa-collapse: per-layer baseline window and EMA; a layer collapses below ratio × baseline (0: off). */
  saBaselineRows: number;
  saAlpha: number;
  saCollapseRatio: number;
  /** Layers whose own baseline sign diversity is below this are not judged (an LM head at ≈0). */
  saMinBaseline: number;
  /** Share of judged layers collapsed at once to warn, and the least number of such layers. */
  saLayerFraction: number;
  saMinLayers: number;
  saSustainRows: number;

  /** entropy-collapse: entropy/loss ratio (or entropy) this far below its baseline. */
  entropyBaselineRows: number;
  entropyAlpha: number;
  entropyDropRatio: number;
  entropySustainRows: number;

  /** calibration-drift: ECE this many times its baseline median and this many MADs above it. */
  eceBaselineRows: number;
  eceAlpha: number;
  eceRatio: number;
  eceZ: number;
  eceSustainRows: number;
}

export const DEFAULT_SETTINGS: DetectorSettings = {
  warmupRows: 30,
  clearRows: 20,

  spikeWindow: 50,
  spikeRatio: 2,
  spikeZ: 10,
  spikeFloorRows: 2,

  divergenceAlpha: 0.1,
  divergenceCriticalRise: 1,
  divergenceSustainRows: 5,
  riseLag: 20,
  riseWindow: 100,
  riseK: 0.5,
  riseH: 40,
  gradRiseH: 0,
  stallRows: 40,
  minProgress: 0.05,
  lrRiseRatio: 1.5,
  minLearned: 0.1,
  lrJumpRatio: 4,

  gradWindow: 50,
  gradRatio: 10,
  gradPreClipRatio: 30,
  gradZ: 10,
  gradGrowth: 3,

  sigmaObs: 10,
  sigmaZ: 0,
  sigmaMinLayers: 2,
  sigmaMinGrowth: 1.1,
  sigmaWarmupObs: 20,
  sigmaFloor: 0.02,

  saBaselineRows: 20,
  saAlpha: 0.3,
  saCollapseRatio: 0,
  saMinBaseline: 0.2,
  saLayerFraction: 0.3,
  saMinLayers: 2,
  saSustainRows: 2,

  entropyBaselineRows: 30,
  entropyAlpha: 0.2,
  entropyDropRatio: 0.2,
  entropySustainRows: 10,

  eceBaselineRows: 30,
  eceAlpha: 0.2,
  eceRatio: 2,
  eceZ: 6,
  eceSustainRows: 5,
};

/** One line per setting, shown in VS Code's settings editor (`lossradar.detect.<name>`). */
export const SETTING_DOCS: Record<keyof DetectorSettings, string> = {
  warmupRows: 'Rows of a metric ignored before it is judged (the first steps are transients).',
  clearRows: 'Consecutive quiet rows after which an open alert closes.',
  spikeWindow: 'loss-spike: rows in the rolling window of the loss.',
  spikeRatio: 'loss-spike: the loss must be at least this many times its rolling median…',
  spikeZ: '…and this many robust standard deviations (MAD) above it.',
  spikeFloorRows: 'loss-spike, while the median is the loss’s floor (a tenth of its first rows): the spike must hold this many rows in a row (a fitted loss’s one-row spike that comes straight back is not blowing up).',
  divergenceAlpha: 'divergence: smoothing factor of the EMA of log loss.',
  divergenceCriticalRise: 'divergence: critical when the smoothed loss is this fraction above its best (1 = twice the best).',
  divergenceSustainRows: 'divergence: the critical rise must last half this many rows (rounded up).',
  riseLag: 'divergence (rise beyond noise): rows between the loss and the reference it is judged against (so a rise is not its own yardstick).',
  riseWindow: 'divergence (rise beyond noise): rows in the reference whose median and robust σ (MAD) are the loss’s own noise.',
  riseK: 'divergence (rise beyond noise): CUSUM allowance, in σ: rows less than this far above the reference median do not add up.',
  riseH: 'divergence (rise beyond noise): warn when the CUSUM of the loss’s z-scores reaches this; the warning stays open while it is above half of it.',
  gradRiseH: 'grad-growth: the same CUSUM on log grad_norm; warn at this value (0 turns it off).',
  stallRows: 'divergence (edge of stability): the window, in rows, over which progress and the learning rate are compared.',
  minProgress: 'divergence (edge of stability): warn when the smoothed loss improved less than this fraction over the window…',
  lrRiseRatio: '…while the learning rate rose at least this many times over it…',
  minLearned: '…once the loss has fallen at least this fraction below its first value (after a healthy phase).',
  lrJumpRatio: 'divergence: warn when the learning rate jumps this many times from one row to the next.',
  gradWindow: 'grad-spike: rows in the rolling window of log grad_norm.',
  gradRatio: 'grad-spike: the gradient norm must be this many times its rolling median…',
  gradPreClipRatio: '…or this many times, when the run logs only the norm before clipping (no grad_norm/applied): most runs clip, so a spike of that norm is mostly one the clip absorbed.',
  gradZ: '…and this many robust standard deviations above it (in log space).',
  gradGrowth: 'grad-spike: warn when the smoothed grad_norm rose this many times over the last stallRows rows while the loss made no progress.',
  sigmaObs: 'sigma-growth: SA measurements over which each layer’s top singular value growth is measured.',
  sigmaZ: 'sigma-growth: warn when a layer’s σ₁ growth is this many robust σ above its own earlier growths (0 turns it off)…',
  sigmaMinLayers: '…in at least this many layers at once.',
  sigmaMinGrowth: 'sigma-growth: …and grew at least this many times over the span.',
  sigmaWarmupObs: 'sigma-growth: a layer’s first measurements not judged (σ₁ grows fast while a model starts to learn).',
  sigmaFloor: 'sigma-growth: least σ of a layer’s growth, in log units (a layer whose σ₁ barely moves is not divided by ≈0).',
  saBaselineRows: 'sa-collapse: rows after the warm-up that make each layer’s baseline sign diversity.',
  saAlpha: 'sa-collapse: smoothing factor of each layer’s sign diversity.',
  saCollapseRatio: 'sa-collapse: a layer collapses when its sign diversity falls below this fraction of its baseline (0 turns it off, the default; 0.3 was its value when on).',
  saMinBaseline: 'sa-collapse: layers whose baseline is below this are not judged (an LM head can sit near 0 all along).',
  saLayerFraction: 'sa-collapse: warn when at least this share of the judged layers has collapsed…',
  saMinLayers: '…and at least this many layers.',
  saSustainRows: 'sa-collapse: SA observations the collapse must last.',
  entropyBaselineRows: 'entropy-collapse: rows after the warm-up that make the baseline of entropy/loss.',
  entropyAlpha: 'entropy-collapse: smoothing factor.',
  entropyDropRatio: 'entropy-collapse: warn when entropy/loss falls below this fraction of its baseline.',
  entropySustainRows: 'entropy-collapse: rows the drop must last.',
  eceBaselineRows: 'calibration-drift: rows after the warm-up that make the ECE baseline.',
  eceAlpha: 'calibration-drift: smoothing factor of the ECE.',
  eceRatio: 'calibration-drift: warn when the ECE is this many times its baseline…',
  eceZ: '…and this many robust standard deviations above it.',
  eceSustainRows: 'calibration-drift: rows the drift must last.',
};

/** Defaults overridden by whatever `partial` sets; unknown or non-numeric keys are errors. */
export function resolveSettings(partial: Record<string, unknown> = {}): DetectorSettings {
  const out: DetectorSettings = { ...DEFAULT_SETTINGS };
  for (const [key, value] of Object.entries(partial)) {
    if (!Object.hasOwn(DEFAULT_SETTINGS, key)) throw new Error(`unknown detector setting ${JSON.stringify(key)}`);
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(`detector setting ${key}: expected a non-negative number, got ${JSON.stringify(value)}`);
    }
    out[key as keyof DetectorSettings] = value;
  }
  return out;
}
