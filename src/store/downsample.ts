// M4 downsampling (Jugel et al., VLDB 2014): per bucket keep the first, last, minimum and maximum
// point, so a line chart drawn from the result shows every spike the full series has.
// Non-finite values are kept as well: a NaN loss is the one point a chart must never lose.
export interface Points {
  steps: Float64Array;
  values: Float64Array;
}

export function downsampleM4(steps: Float64Array, values: Float64Array, buckets: number): Points {
  const n = steps.length;
  if (n <= buckets * 4 || buckets < 1) return { steps: steps.slice(), values: values.slice() };
  const x0 = steps[0];
  const span = steps[n - 1] - x0 || 1;
  const keep = new Uint8Array(n);
  let start = 0;
  while (start < n) {
    const bucket = Math.min(buckets - 1, Math.floor(((steps[start] - x0) / span) * buckets));
    let end = start;
    let minI = -1;
    let maxI = -1;
    while (end < n && Math.min(buckets - 1, Math.floor(((steps[end] - x0) / span) * buckets)) === bucket) {
      const v = values[end];
      if (Number.isFinite(v)) {
        if (minI < 0 || v < values[minI]) minI = end;
        if (maxI < 0 || v > values[maxI]) maxI = end;
      } else {
        keep[end] = 1;
      }
      end += 1;
    }
    keep[start] = 1;
    keep[end - 1] = 1;
    if (minI >= 0) keep[minI] = 1;
    if (maxI >= 0) keep[maxI] = 1;
    start = end;
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += keep[i];
  const outSteps = new Float64Array(count);
  const outValues = new Float64Array(count);
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (keep[i]) {
      outSteps[j] = steps[i];
      outValues[j] = values[i];
      j += 1;
    }
  }
  return { steps: outSteps, values: outValues };
}
