// A run's summary, small enough to live in meta.json (docs/compare.md): its row count and last step,
// each metric's last value and lowest finite value, and how many alerts opened. The Run keeps it up to
// date row by row (O(metrics of the row), no copy), so the comparison table and the Runs tree's filter
// read a run's meta.json and never its series: the store holds nothing for a run that is neither live
// nor shown. Runs written before the summary existed, or by the SDK without a hub, get it from their
// logs, read once as a stream (statsFromLogs).
import { createReadStream, promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { decodeNumber, encodeNumber, isNonFiniteToken } from '../protocol/numbers';
import type { WireNumber } from '../protocol/wire';

/** One metric's summary. `last` is spelled as on the wire: a diverged run's last loss is NaN. */
export interface MetricStat {
  last: WireNumber;
  lastStep: number;
  /** The lowest finite value (the best loss), null while every value was non-finite. */
  min: number | null;
  minStep: number | null;
}

export interface RunStats {
  rows: number;
  lastStep: number | null;
  /** Wall time of the newest row (Unix seconds), for the duration of a run that never said it ended. */
  lastTime: number | null;
  /** Alert episodes opened; null when not known (a run from before the summary: count alerts.jsonl). */
  alerts: number | null;
  /** By metric name; at most MAX_STAT_METRICS of them, the first ones logged. */
  metrics: Record<string, MetricStat>;
  /** True when the run logged more metrics than are summarised. */
  truncated: boolean;
}

/**
 * A script can make metric names up as it goes (one per layer, per class): the summary keeps the
 * first this many, so meta.json stays a few hundred KiB at most. The loss is logged from the start.
 */
export const MAX_STAT_METRICS = 2000;

export function emptyStats(alerts: number | null = 0): RunStats {
  // A null prototype: a metric called "constructor" or "toString" is a metric, not a lookup hit.
  return { rows: 0, lastStep: null, lastTime: null, alerts, metrics: Object.create(null) as Record<string, MetricStat>, truncated: false };
}

/** Metrics in a summary, counted once (not a key list per new metric): the JSON shape has no count. */
const counts = new WeakMap<RunStats, number>();
function metricCount(stats: RunStats): number {
  let n = counts.get(stats);
  if (n === undefined) counts.set(stats, (n = Object.keys(stats.metrics).length));
  return n;
}

/** Adds one row (values decoded: NaN and ±Infinity are numbers here). */
export function observeRow(stats: RunStats, step: number, time: number | undefined, values: Record<string, number>): void {
  stats.rows += 1;
  if (stats.lastStep === null || step >= stats.lastStep) {
    stats.lastStep = step;
    if (time !== undefined && Number.isFinite(time)) stats.lastTime = time;
  }
  const metrics = stats.metrics;
  for (const name in values) {
    const value = values[name];
    let m = metrics[name];
    if (m === undefined) {
      const count = metricCount(stats);
      if (stats.truncated || count >= MAX_STAT_METRICS) {
        stats.truncated = true;
        continue;
      }
      m = metrics[name] = { last: encodeNumber(value), lastStep: step, min: null, minStep: null };
      counts.set(stats, count + 1);
    } else if (step >= m.lastStep) {
      m.last = encodeNumber(value);
      m.lastStep = step;
    }
    if (Number.isFinite(value) && (m.min === null || value < m.min)) {
      m.min = value;
      m.minStep = step;
    }
  }
}

/**
 * Adds one metric's summary buckets (src/store/series.ts; a reopened run's sealed segments): its
 * lowest finite value and its last one, without a row per bucket. Rows are counted by the caller.
 */
export function observeBuckets(stats: RunStats, name: string, buckets: readonly { lastStep: number; lastValue: number; minStep: number; minValue: number }[]): void {
  if (buckets.length === 0) return;
  let m = stats.metrics[name];
  const lastB = buckets[buckets.length - 1];
  if (m === undefined) {
    const count = metricCount(stats);
    if (stats.truncated || count >= MAX_STAT_METRICS) {
      stats.truncated = true;
      return;
    }
    m = stats.metrics[name] = { last: encodeNumber(lastB.lastValue), lastStep: lastB.lastStep, min: null, minStep: null };
    counts.set(stats, count + 1);
  } else if (lastB.lastStep >= m.lastStep) {
    m.last = encodeNumber(lastB.lastValue);
    m.lastStep = lastB.lastStep;
  }
  for (const b of buckets) {
    if (Number.isNaN(b.minStep)) continue;
    if (m.min === null || b.minValue < m.min) {
      m.min = b.minValue;
      m.minStep = b.minStep;
    }
  }
}

/** Counts an alert record: an episode is counted when it opens. */
export function observeAlert(stats: RunStats, record: { state?: unknown }): void {
  if (stats.alerts !== null && record.state === 'open') stats.alerts += 1;
}

const finiteOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** A summary read from meta.json, or null when there is none or it is not one (then read the logs). */
export function normalizeStats(raw: unknown): RunStats | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  const r = raw as Record<string, unknown>;
  if (typeof r.rows !== 'number' || typeof r.metrics !== 'object' || r.metrics === null || Array.isArray(r.metrics)) return null;
  const stats = emptyStats(r.alerts === null ? null : (finiteOrNull(r.alerts) ?? null));
  stats.rows = Math.max(0, Math.floor(r.rows));
  stats.lastStep = finiteOrNull(r.lastStep);
  stats.lastTime = finiteOrNull(r.lastTime);
  stats.truncated = r.truncated === true;
  const metrics = r.metrics as Record<string, unknown>;
  for (const name of Object.keys(metrics)) {
    const m = metrics[name] as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null) continue;
    const last = typeof m.last === 'number' || isNonFiniteToken(m.last) ? (m.last as WireNumber) : 'NaN';
    const lastStep = finiteOrNull(m.lastStep);
    if (lastStep === null) continue;
    stats.metrics[name] = { last, lastStep, min: finiteOrNull(m.min), minStep: finiteOrNull(m.minStep) };
    if (Object.keys(stats.metrics).length >= MAX_STAT_METRICS) break;
  }
  return stats;
}

/** Keys of a flat row on disk that are not metrics (as src/store/run.ts RESERVED_KEYS). */
const RESERVED = new Set(['step', 'time', 'source', 'seq', 'rank', '__proto__']);

/**
 * The summary of a run from its files: metrics.jsonl read line by line (never whole: a long run's
 * file can be gigabytes) and the opened episodes of alerts.jsonl. Unreadable lines are skipped, as
 * every reader of these files does (docs/protocol.md "Runs on disk"); a missing file is an empty one.
 */
export async function statsFromLogs(dir: string): Promise<RunStats> {
  const stats = emptyStats(0);
  await eachLine(path.join(dir, 'metrics.jsonl'), (flat) => {
    const step = flat.step;
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0) return;
    const values: Record<string, number> = {};
    for (const key in flat) {
      if (RESERVED.has(key)) continue;
      const v = flat[key];
      if (typeof v === 'number') values[key] = v;
      else if (isNonFiniteToken(v)) values[key] = decodeNumber(v);
    }
    observeRow(stats, step, typeof flat.time === 'number' ? flat.time : undefined, values);
  });
  stats.alerts = await countOpenedAlerts(dir);
  return stats;
}

/** The alert episodes a run's alerts.jsonl opened (a run whose summary predates the count). */
export async function countOpenedAlerts(dir: string): Promise<number> {
  const stats = emptyStats(0);
  await eachLine(path.join(dir, 'alerts.jsonl'), (record) => observeAlert(stats, record));
  return stats.alerts ?? 0;
}

async function eachLine(file: string, visit: (record: Record<string, unknown>) => void): Promise<void> {
  try {
    await fsp.access(file);
  } catch {
    return;
  }
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof record === 'object' && record !== null && !Array.isArray(record)) visit(record as Record<string, unknown>);
  }
}
