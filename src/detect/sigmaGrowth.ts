// Growth of the layers' top singular values (sa/<layer>/sigma, the power iteration's ‖Wv₁‖) beyond
// each layer's own noise (docs/early-warning.md): over the corpus this is the signal that rises
// earliest before an explosion driven by the learning rate (a ramp, a too-high rate, a model
// without normalisation), while in healthy runs σ₁ grows fast only in the first steps and then
// settles. Each layer's growth over the last `sigmaObs` measurements is compared with that layer's
// own earlier growths (lagged median and robust σ); a warning needs several layers at once and
// stays open while any of them is still growing beyond half its threshold.
import type { MetricRow } from '../store/run';
import { fmt, type Detector } from './detector';
import type { AlertChange, EpisodeBook } from './episodes';
import type { DetectorSettings } from './settings';
import { LaggedReference } from './stats';

const LAYER_SIGMA = /^sa\/(.+)\/sigma$/;

class LayerSigma {
  readonly history: number[] = [];
  readonly reference: LaggedReference;
  observed = 0;
  z = Number.NaN;
  growth = Number.NaN;

  constructor(s: DetectorSettings) {
    // Lag and window in measurements, as the growth is: a quarter and twice the growth span.
    this.reference = new LaggedReference(Math.max(1, Math.round(s.sigmaObs / 2)), 2 * s.sigmaObs, Math.max(5, s.sigmaObs));
  }
}

export class SigmaGrowthDetector implements Detector {
  private readonly layers = new Map<string, LayerSigma>();
  private open = false;
  private since = Number.NaN;

  constructor(private readonly s: DetectorSettings) {}

  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void {
    if (this.s.sigmaZ <= 0) return;
    let saw = false;
    for (const name in row.values) {
      const match = LAYER_SIGMA.exec(name);
      if (!match) continue;
      const v = row.values[name];
      if (!Number.isFinite(v) || v <= 0) continue;
      saw = true;
      let layer = this.layers.get(match[1]);
      if (!layer) {
        layer = new LayerSigma(this.s);
        this.layers.set(match[1], layer);
      }
      layer.observed += 1;
      const x = Math.log(v);
      layer.history.push(x);
      if (layer.history.length > this.s.sigmaObs + 1) layer.history.shift();
      layer.z = Number.NaN;
      if (layer.history.length > this.s.sigmaObs) {
        layer.growth = x - layer.history[0];
        if (layer.reference.ready && layer.observed > this.s.sigmaWarmupObs) {
          layer.z = (layer.growth - layer.reference.median()) / layer.reference.sd(this.s.sigmaFloor);
        }
        layer.reference.push(layer.growth);
      }
    }
    if (!saw) return;
    const growing: [string, LayerSigma][] = [];
    let still = 0;
    for (const entry of this.layers) {
      const layer = entry[1];
      if (!(layer.growth >= Math.log(this.s.sigmaMinGrowth))) continue;
      if (layer.z >= this.s.sigmaZ) growing.push(entry);
      if (layer.z >= this.s.sigmaZ / 2) still += 1;
    }
    const was = this.open;
    this.open = was ? still >= 1 : growing.length >= this.s.sigmaMinLayers;
    if (this.open && !was) this.since = row.step;
    growing.sort((a, b) => b[1].z - a[1].z);
    book.judge('sigma-growth', this.open, row.step, row.source, () => {
      const top = growing[0];
      const [name, layer] = top ?? ['', undefined];
      return {
        kind: 'sigma-growth',
        severity: 'warning',
        metric: top ? `sa/${name}/sigma` : 'sa/min_sign_diversity',
        message: `the top singular value is growing beyond its own noise in ${growing.length} of ${this.layers.size} layers: ${name} grew ${fmt(Math.exp(layer?.growth ?? Number.NaN))}× over its last ${this.s.sigmaObs} measurements, z = ${fmt(layer?.z ?? Number.NaN)}, since step ${this.since}; weights growing this fast tend to precede a loss explosion`,
        values: { layers: growing.length, judgedLayers: this.layers.size, z: layer?.z ?? Number.NaN, growth: Math.exp(layer?.growth ?? Number.NaN), since: this.since },
      };
    }, out);
  }
}
