// What a view persists with vscode.setState goes through JSON, where NaN and ±∞ become null; the
// codec carries them as {"$n": "NaN" | "Infinity" | "-Infinity"} so a restored chart still shows
// its non-finite markers. Series are thinned with M4 before they are persisted.
import type { SeriesPoints } from '../contract';
import { m4Select } from '../../src/store/downsample';
import type { GrowableSeries } from './series';

export function encodeState(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : { $n: String(value) };
  if (Array.isArray(value)) return value.map(encodeState);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = encodeState(v);
    return out;
  }
  return value;
}

export function decodeState(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeState);
  if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === '$n' && typeof o.$n === 'string') return Number(o.$n);
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = decodeState(o[k]);
    return out;
  }
  return value;
}

/** The series thinned to at most about 4 × `buckets` points (extrema and non-finite values kept). */
export function thinSeries(series: GrowableSeries, buckets: number): SeriesPoints<number> {
  const steps: number[] = [];
  const values: number[] = [];
  const n = series.length;
  if (n === 0) return { steps, values };
  if (n <= buckets * 4) return series.toPoints();
  m4Select(series.steps, series.values, 0, n, series.steps[0], series.steps[n - 1], buckets, (i) => {
    steps.push(series.steps[i]);
    values.push(series.values[i]);
  });
  return { steps, values };
}

export function isSeriesPoints(value: unknown): value is SeriesPoints<number> {
  const v = value as SeriesPoints<number> | null;
  return !!v && Array.isArray(v.steps) && Array.isArray(v.values) && v.steps.length === v.values.length;
}
