// Every threshold of the detectors, with the defaults tuned on the fixture runs (README, "Detectors").
// The VS Code settings `lossradar.detect.*` mirror these names; a test keeps the two in step.
export interface DetectorSettings {
  /** Rows of a metric ignored before it is judged: the first steps' transients. */
  warmupRows: number;
  /** Consecutive quiet rows after which an open alert closes. */
  clearRows: number;

  /** loss-spike: rolling window of the loss, the ratio to its median and the MAD z-score. */
  spikeWindow: number;
  spikeRatio: number;
  spikeZ: number;

  /** divergence: EMA of log loss against its best; warning rise, critical rise, rows sustained. */
  divergenceAlpha: number;
  divergenceWarnRise: number;
  divergenceCriticalRise: number;
  divergenceSustainRows: number;
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
  gradZ: number;
  /** grad-spike growth: slow EMA of grad_norm this many times its level stallRows rows ago, while the loss stalls. */
  gradGrowth: number;

  /** sa-collapse: per-layer baseline window and EMA; a layer collapses below ratio × baseline. */
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

  divergenceAlpha: 0.1,
  divergenceWarnRise: 0.15,
  divergenceCriticalRise: 1,
  divergenceSustainRows: 5,
  stallRows: 40,
  minProgress: 0.05,
  lrRiseRatio: 1.5,
  minLearned: 0.1,
  lrJumpRatio: 4,

  gradWindow: 50,
  gradRatio: 4,
  gradZ: 8,
  gradGrowth: 3,

  saBaselineRows: 20,
  saAlpha: 0.3,
  saCollapseRatio: 0.3,
  saMinBaseline: 0.2,
  saLayerFraction: 0.3,
  saMinLayers: 2,
  saSustainRows: 2,

  entropyBaselineRows: 30,
  entropyAlpha: 0.2,
  entropyDropRatio: 0.5,
  entropySustainRows: 5,

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
  divergenceAlpha: 'divergence: smoothing factor of the EMA of log loss.',
  divergenceWarnRise: 'divergence: warn when the smoothed loss is this fraction above its best (0.15 = 15 %).',
  divergenceCriticalRise: 'divergence: critical when the smoothed loss is this fraction above its best (1 = twice the best).',
  divergenceSustainRows: 'divergence: rows the rise must last (half of it for critical).',
  stallRows: 'divergence (edge of stability): the window, in rows, over which progress and the learning rate are compared.',
  minProgress: 'divergence (edge of stability): warn when the smoothed loss improved less than this fraction over the window…',
  lrRiseRatio: '…while the learning rate rose at least this many times over it…',
  minLearned: '…once the loss has fallen at least this fraction below its first value (after a healthy phase).',
  lrJumpRatio: 'divergence: warn when the learning rate jumps this many times from one row to the next.',
  gradWindow: 'grad-spike: rows in the rolling window of log grad_norm.',
  gradRatio: 'grad-spike: the gradient norm must be this many times its rolling median…',
  gradZ: '…and this many robust standard deviations above it (in log space).',
  gradGrowth: 'grad-spike: warn when the smoothed grad_norm rose this many times over the last stallRows rows while the loss made no progress.',
  saBaselineRows: 'sa-collapse: rows after the warm-up that make each layer’s baseline sign diversity.',
  saAlpha: 'sa-collapse: smoothing factor of each layer’s sign diversity.',
  saCollapseRatio: 'sa-collapse: a layer collapses when its sign diversity falls below this fraction of its baseline.',
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
