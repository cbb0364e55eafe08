// The value axis of a chart (docs/charts.md): with "ignore outliers" on, the range holds the
// 1st to 99th percentile of the points drawn, padded, so one huge early spike does not flatten
// every later value into a line at the bottom (what TensorBoard's "ignore outliers in chart
// scaling" does); the spike still runs off the top of the plot. A log axis is the default for a
// loss once its finite positive values span more than a decade.
import type { SeriesView } from './chartPanel';
import type { XY } from './m4';

const LOW = 0.01;
const HIGH = 0.99;

export interface YRange {
  min: number;
  max: number;
}

/** The value at quantile q of a sorted array (linear between neighbours). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The robust range of the lines' points, or null when it would hide nothing (fewer than 20 points,
 * or the outliers are within the padding anyway). On a log axis the quantiles are of the logs.
 */
export function robustRange(lines: readonly (readonly XY[])[], log: boolean): YRange | null {
  let n = 0;
  for (const pts of lines) n += pts.length;
  if (n < 20) return null;
  const ys = new Float64Array(n);
  let k = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const pts of lines) {
    for (const p of pts) {
      if (log && !(p.y > 0)) continue;
      const y = log ? Math.log10(p.y) : p.y;
      ys[k++] = y;
      if (y < min) min = y;
      if (y > max) max = y;
    }
  }
  if (k < 20) return null;
  const sorted = ys.subarray(0, k).sort();
  const lo = quantile(sorted, LOW);
  const hi = quantile(sorted, HIGH);
  const pad = Math.max((hi - lo) * 0.1, Math.abs(hi) * 1e-9, 1e-12);
  const out = { min: Math.max(min, lo - pad), max: Math.min(max, hi + pad) };
  // Nothing to hide: the full range is what the padding would show.
  if (out.min <= min && out.max >= max) return null;
  return log ? { min: 10 ** out.min, max: 10 ** out.max } : out;
}

/** The loss chart's default: a log axis once its finite positive values span more than a decade. */
export function spansDecade(lines: readonly { series: SeriesView }[]): boolean {
  let min = Infinity;
  let max = -Infinity;
  for (const { series: s } of lines) {
    for (let i = 0; i < s.length; i++) {
      const v = s.values[i];
      if (!(v > 0) || v === Infinity) continue;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return max > 10 * min;
}
