// The shape every streaming detector has: it sees each row once, in step order.
import type { MetricRow } from '../store/run';
import type { AlertChange, EpisodeBook } from './episodes';

export interface Detector {
  observe(row: MetricRow, book: EpisodeBook, out: AlertChange[]): void;
}

/** Compact numbers for alert messages. */
export function fmt(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? '+Inf' : '-Inf';
  const a = Math.abs(x);
  return a !== 0 && (a >= 1e4 || a < 1e-3) ? x.toExponential(2) : String(Number(x.toPrecision(3)));
}
