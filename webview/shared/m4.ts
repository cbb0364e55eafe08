// What a chart draws of a step range: M4's points (src/store/downsample.ts, shared with the host's
// snapshots) as line points and non-finite markers.
import { m4Select } from '../../src/store/downsample';
import { lowerBound, upperBound } from '../../src/store/sortedSearch';

export type NonFiniteKind = 'nan' | 'pos' | 'neg';

export interface XY {
  x: number;
  y: number;
}

export interface NonFinitePoint {
  x: number;
  kind: NonFiniteKind;
}

export interface DisplaySeries {
  points: XY[];
  nonFinite: NonFinitePoint[];
}

function nonFiniteKind(v: number): NonFiniteKind {
  return v !== v ? 'nan' : v > 0 ? 'pos' : 'neg';
}

/**
 * The points of [x0, x1] to draw at `buckets` pixels wide: finite values as line points (plus one
 * neighbour each side so the line reaches the edges) and non-finite values as markers.
 */
export function m4Display(steps: Float64Array, values: Float64Array, length: number, x0: number, x1: number, buckets: number): DisplaySeries {
  const points: XY[] = [];
  const nonFinite: NonFinitePoint[] = [];
  const lo = Math.max(0, lowerBound(steps, length, x0) - 1);
  const hi = Math.min(length, upperBound(steps, length, x1) + 1);
  const take = (i: number) => {
    const v = values[i];
    if (v === v && v !== Infinity && v !== -Infinity) points.push({ x: steps[i], y: v });
    else if (steps[i] >= x0 && steps[i] <= x1) nonFinite.push({ x: steps[i], kind: nonFiniteKind(v) });
  };
  if (hi - lo <= buckets * 4) {
    for (let i = lo; i < hi; i++) take(i);
  } else {
    m4Select(steps, values, lo, hi, x0, x1, Math.max(1, Math.floor(buckets)), take);
  }
  return { points, nonFinite };
}
