// Binary searches over the first `length` entries of an ascending Float64Array (a run's steps or
// wall times), shared by the store's range reads and the webviews' zoom and hover.

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
