// SA sign diversity over the layers, computed in the view from the `sa/<layer>/sign_diversity`
// series: at every step where some layer reports, the minimum and the median over each layer's
// latest value (sample and hold, so layers logged at different steps, or M4-thinned differently,
// still combine). A non-finite layer value makes the minimum non-finite: it is drawn as a marker.
import type { SeriesPoints } from '../contract';
import { GrowableSeries } from './series';

const LAYER_METRIC = /^sa\/(.+)\/sign_diversity$/;

/** The layer name of a `sa/<layer>/sign_diversity` metric, else null. */
export function signDiversityLayer(metric: string): string | null {
  const m = LAYER_METRIC.exec(metric);
  return m ? m[1] : null;
}

export class LayerSpread {
  readonly min: GrowableSeries;
  readonly median: GrowableSeries;
  private readonly latest = new Map<string, number>();
  /** The finite latest values, ascending. */
  private readonly sorted: number[] = [];
  private nonFinite = 0;
  private lastStep = -Infinity;

  constructor(maxPoints = Infinity) {
    this.min = new GrowableSeries(maxPoints);
    this.median = new GrowableSeries(maxPoints);
  }

  get layerCount(): number {
    return this.latest.size;
  }

  clear(): void {
    this.latest.clear();
    this.sorted.length = 0;
    this.nonFinite = 0;
    this.lastStep = -Infinity;
    this.min.clear();
    this.median.clear();
  }

  /** Takes the layer series of a reset or delta (other metrics are ignored); true if it added points. */
  ingest(series: Record<string, SeriesPoints<number>>): boolean {
    const layers: string[] = [];
    const steps: number[] = [];
    const values: number[] = [];
    const owner: number[] = [];
    for (const name of Object.keys(series)) {
      const layer = signDiversityLayer(name);
      const pts = series[name];
      if (layer === null || !pts || !Array.isArray(pts.steps) || !Array.isArray(pts.values)) continue;
      const li = layers.push(layer) - 1;
      const n = Math.min(pts.steps.length, pts.values.length);
      for (let i = 0; i < n; i++) {
        if (!(pts.steps[i] >= this.lastStep)) continue;
        steps.push(pts.steps[i]);
        values.push(pts.values[i]);
        owner.push(li);
      }
    }
    if (steps.length === 0) return false;
    const order = new Uint32Array(steps.length);
    for (let i = 0; i < order.length; i++) order[i] = i;
    order.sort((a, b) => steps[a] - steps[b] || a - b);
    const outSteps: number[] = [];
    const outMin: number[] = [];
    const outMedian: number[] = [];
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      this.set(layers[owner[i]], values[i]);
      const next = k + 1 < order.length ? steps[order[k + 1]] : NaN;
      if (next === steps[i]) continue;
      outSteps.push(steps[i]);
      outMin.push(this.currentMin());
      outMedian.push(this.currentMedian());
    }
    this.lastStep = outSteps[outSteps.length - 1];
    this.min.append(outSteps, outMin);
    this.median.append(outSteps, outMedian);
    return true;
  }

  /** The latest value per layer, to persist with the view's state. */
  snapshot(): { layers: Record<string, number>; lastStep: number } {
    return { layers: Object.fromEntries(this.latest), lastStep: this.lastStep };
  }

  restore(snapshot: { layers: Record<string, number>; lastStep: number }): void {
    for (const [layer, value] of Object.entries(snapshot.layers)) this.set(layer, value);
    this.lastStep = snapshot.lastStep;
  }

  private set(layer: string, value: number): void {
    const old = this.latest.get(layer);
    if (old !== undefined) {
      if (Number.isFinite(old)) this.sorted.splice(this.search(old), 1);
      else this.nonFinite--;
    }
    this.latest.set(layer, value);
    if (Number.isFinite(value)) this.sorted.splice(this.search(value), 0, value);
    else this.nonFinite++;
  }

  private search(value: number): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid] < value) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private currentMin(): number {
    if (this.nonFinite > 0) {
      for (const v of this.latest.values()) if (!Number.isFinite(v)) return v;
    }
    return this.sorted.length > 0 ? this.sorted[0] : NaN;
  }

  private currentMedian(): number {
    const n = this.sorted.length;
    if (n === 0) return NaN;
    return n % 2 === 1 ? this.sorted[(n - 1) / 2] : (this.sorted[n / 2 - 1] + this.sorted[n / 2]) / 2;
  }
}
