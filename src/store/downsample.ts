// M4 downsampling (Jugel et al., VLDB 2014): per pixel-wide bucket keep the first, last, minimum
// and maximum finite point, so a line drawn from the result is the line drawn from every point.
// The first NaN, +∞ and −∞ of each bucket are kept too: a non-finite value is the one point a
// chart must never lose, and one per kind per bucket is all a marker needs (a run that logs NaN on
// every step after its blow-up would otherwise come back whole). One implementation for the host's
// snapshots and the webviews' thinning (docs/charts.md).

export interface Points {
  steps: Float64Array;
  values: Float64Array;
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

/** The whole series thinned to `buckets` M4 buckets over its own step span (a copy when short). */
export function downsampleM4(steps: Float64Array, values: Float64Array, buckets: number): Points {
  const n = steps.length;
  if (n <= buckets * 4 || buckets < 1) return { steps: steps.slice(), values: values.slice() };
  const kept: number[] = [];
  m4Select(steps, values, 0, n, steps[0], steps[n - 1], Math.floor(buckets), (i) => kept.push(i));
  const outSteps = new Float64Array(kept.length);
  const outValues = new Float64Array(kept.length);
  for (let j = 0; j < kept.length; j++) {
    outSteps[j] = steps[kept[j]];
    outValues[j] = values[kept[j]];
  }
  return { steps: outSteps, values: outValues };
}
