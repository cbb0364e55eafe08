// M4 over a step range of typed arrays (Jugel et al., VLDB 2014): per pixel-wide bucket keep the
// first, last, minimum and maximum finite point, so a line drawn from the result is the line drawn
// from every point. The first NaN, +∞ and −∞ of each bucket are kept too: a non-finite value is
// the one point a chart must never lose.

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

export function isFiniteNumber(v: number): boolean {
  return v === v && v !== Infinity && v !== -Infinity;
}

export function nonFiniteKind(v: number): NonFiniteKind {
  return v !== v ? 'nan' : v > 0 ? 'pos' : 'neg';
}

/** First index in [0, length) whose value is ≥ x (length when none). */
export function lowerBound(arr: Float64Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index in [0, length) whose value is > x (length when none). */
export function upperBound(arr: Float64Array, length: number, x: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid] <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Calls `keep(i)` in ascending order for the indices of [lo, hi) that M4 keeps with `buckets`
 * equal-width buckets over [x0, x1] (points outside fall into the end buckets).
 */
export function m4Select(
  steps: Float64Array,
  values: Float64Array,
  lo: number,
  hi: number,
  x0: number,
  x1: number,
  buckets: number,
  keep: (i: number) => void,
): void {
  const scale = x1 > x0 ? buckets / (x1 - x0) : 0;
  const picked = [0, 0, 0, 0, 0, 0, 0];
  let bucket = -1;
  let first = -1;
  let last = -1;
  let minI = -1;
  let maxI = -1;
  let nan = -1;
  let pos = -1;
  let neg = -1;
  const flush = () => {
    let n = 0;
    for (const i of [first, minI, maxI, last, nan, pos, neg]) {
      if (i < 0) continue;
      // Insertion into the small sorted list, skipping duplicates.
      let j = n;
      while (j > 0 && picked[j - 1] > i) j--;
      if (j > 0 && picked[j - 1] === i) continue;
      for (let k = n; k > j; k--) picked[k] = picked[k - 1];
      picked[j] = i;
      n++;
    }
    for (let k = 0; k < n; k++) keep(picked[k]);
  };
  for (let i = lo; i < hi; i++) {
    let b = Math.floor((steps[i] - x0) * scale);
    if (b < 0) b = 0;
    else if (b >= buckets) b = buckets - 1;
    if (b !== bucket) {
      if (bucket >= 0) flush();
      bucket = b;
      first = last = minI = maxI = nan = pos = neg = -1;
    }
    const v = values[i];
    if (v === v && v !== Infinity && v !== -Infinity) {
      if (first < 0) first = i;
      last = i;
      if (minI < 0 || v < values[minI]) minI = i;
      if (maxI < 0 || v > values[maxI]) maxI = i;
    } else if (v !== v) {
      if (nan < 0) nan = i;
    } else if (v > 0) {
      if (pos < 0) pos = i;
    } else if (neg < 0) {
      neg = i;
    }
  }
  if (bucket >= 0) flush();
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
