// Spectral-alignment collapse (arXiv 2510.04202; design.md §4): the sign diversity of a layer's
// inputs along its top right singular vector falling far below that layer's own baseline, in
// enough layers at once. Layers that sit near zero from the start (an LM head, say) are not judged:
// for them a low value is normal, not a warning. Off by default (saCollapseRatio 0): on the corpus
// it warned on no exploding run before its onset and on healthy transformers (docs/early-warning.md).
import type { MetricRow } from '../store/run';
import type { Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { Ema, RollingWindow, Streak } from './stats';

const LAYER_METRIC = /^sa\/(.+)\/sign_diversity$/;

class LayerHistory {
  readonly baseline: RollingWindow;
  readonly ema: Ema;
  observed = 0;

  constructor(s: DetectorSettings) {
    this.baseline = new RollingWindow(Math.max(1, s.saBaselineRows));
    this.ema = new Ema(s.saAlpha);
  }
}

export class SaCollapseDetector implements Detector {
  private readonly layers = new Map<string, LayerHistory>();
  private readonly streak = new Streak();

  constructor(private readonly s: DetectorSettings) {}

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    if (!(this.s.saCollapseRatio > 0)) return;
    let sawAny = false;
    for (const name in row.values) {
      const match = LAYER_METRIC.exec(name);
      if (!match) continue;
      const d = row.values[name];
      if (!Number.isFinite(d)) continue;
      sawAny = true;
      let layer = this.layers.get(match[1]);
      if (!layer) {
        layer = new LayerHistory(this.s);
        this.layers.set(match[1], layer);
      }
      layer.observed += 1;
      layer.ema.push(d);
      // The baseline is the layer's median over its first rows after the warm-up, then frozen.
      if (layer.observed > this.s.warmupRows && layer.baseline.count < this.s.saBaselineRows) layer.baseline.push(d);
    }
    if (!sawAny) return;
    let judged = 0;
    const collapsed: string[] = [];
    for (const [name, layer] of this.layers) {
      if (layer.baseline.count < this.s.saBaselineRows) continue;
      const base = layer.baseline.median();
      if (base < this.s.saMinBaseline) continue;
      judged += 1;
      if (layer.ema.current <= base * this.s.saCollapseRatio) collapsed.push(name);
    }
    const fraction = judged > 0 ? collapsed.length / judged : 0;
    const condition = collapsed.length >= this.s.saMinLayers && fraction >= this.s.saLayerFraction;
    const firing = this.streak.push(condition) >= this.s.saSustainRows;
    book.judge('sa-collapse', firing, row.step, row.source, () => ({
      kind: 'sa-collapse',
      severity: 'warning',
      metric: 'sa/min_sign_diversity',
      message: `spectral alignment collapsed in ${collapsed.length} of ${judged} layers (${collapsed.slice(0, 3).join(', ')}${collapsed.length > 3 ? ', …' : ''}): their inputs all fall on one side of the top singular direction, which tends to precede a loss explosion`,
      values: { collapsedLayers: collapsed.length, judgedLayers: judged, fraction, ...this.detail(collapsed) },
    }), out);
  }

  private detail(collapsed: string[]): Record<string, number> {
    const out: Record<string, number> = {};
    for (const name of collapsed.slice(0, 5)) {
      const layer = this.layers.get(name)!;
      out[`sa/${name}/sign_diversity`] = layer.ema.current;
      out[`sa/${name}/baseline`] = layer.baseline.median();
    }
    return out;
  }
}
