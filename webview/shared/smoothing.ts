// The smoothing slider's line (docs/charts.md): an exponential moving average debiased at the start,
// as TensorBoard's scalar dashboard draws it. A plain EMA starts from 0, so its first points are
// pulled toward zero; dividing by 1 − w^n (n finite points so far) removes that bias, and the first
// smoothed point is the first value. A non-finite value stays what it is (drawn as a marker) and
// does not enter the average. The EMA runs over the points the view holds (M4-thinned once a series
// passes its point cap), and is extended point by point as a series grows.
import type { SeriesView } from './chartPanel';

/** Writes the debiased EMA of values[from, length) into out, continuing from `state`. */
export function debiasedEma(values: ArrayLike<number>, length: number, weight: number, out: Float64Array, from = 0, state: EmaState = { last: 0, n: 0 }): EmaState {
  let { last, n } = state;
  for (let i = from; i < length; i++) {
    const v = values[i];
    if (v !== v || v === Infinity || v === -Infinity) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    n++;
    out[i] = weight === 1 ? last : last / (1 - weight ** n);
  }
  return { last, n };
}

export interface EmaState {
  last: number;
  n: number;
}

/** A series as the charts read it, with a `rewrites` count that says when earlier points changed. */
export interface SmoothableSeries extends SeriesView {
  readonly version: number;
  readonly rewrites: number;
}

/**
 * The smoothed line of each series the view draws, kept between frames: a delta extends it by its
 * new points; a compaction, a new weight or a new series recomputes it.
 */
export class Smoother {
  private readonly cache = new WeakMap<SmoothableSeries, { weight: number; rewrites: number; length: number; state: EmaState; values: Float64Array }>();

  smooth(series: SmoothableSeries, weight: number): SeriesView {
    let c = this.cache.get(series);
    if (!c || c.weight !== weight || c.rewrites !== series.rewrites || c.length > series.length) {
      c = { weight, rewrites: series.rewrites, length: 0, state: { last: 0, n: 0 }, values: new Float64Array(Math.max(16, series.values.length)) };
      this.cache.set(series, c);
    }
    if (c.values.length < series.length) {
      const grown = new Float64Array(Math.max(series.values.length, c.values.length * 2));
      grown.set(c.values.subarray(0, c.length));
      c.values = grown;
    }
    if (c.length < series.length) {
      c.state = debiasedEma(series.values, series.length, weight, c.values, c.length, c.state);
      c.length = series.length;
    }
    return { steps: series.steps, values: c.values, length: series.length };
  }
}
