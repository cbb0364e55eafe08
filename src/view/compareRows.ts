// The rows of the comparison table (docs/compare.md): one per run, from its meta.json and the small
// summary the Run keeps there (src/store/runStats.ts), never from its series. The loss is the metric
// src/metrics/roles.ts names for the run (a user's lossradar.metrics.loss wins). Plain TypeScript: the
// host builds the rows, the Runs tree filters with them, the webview sorts and filters them
// (src/view/runQuery.ts).
import { decodeNumber, encodeNumber, readNumber } from '../protocol/numbers';
import type { WireNumber } from '../protocol/wire';
import { resolveRoles, type RoleOverrides } from '../metrics/roles';
import type { RunMeta, RunStatus } from '../store/meta';
import type { RunStats } from '../store/runStats';

/** A config value as a cell: scalars as they are, anything else as its JSON text. */
export type ConfigCell = string | number | boolean | null;

/** One run. `N` is how a non-finite loss is spelled: a number on each side, a WireNumber in a message. */
export interface CompareRow<N = number> {
  id: string;
  name: string;
  status: RunStatus;
  tags: string[];
  /** Unix seconds. */
  createdAt: number;
  /** Seconds from start to end (to now while running, to the last row when the end is unknown). */
  duration: number | null;
  /** The last step logged. */
  steps: number | null;
  /** The metric the loss columns read (`train_loss` when the run logs that), null when none. */
  lossMetric: string | null;
  /** The lowest finite loss; null when no finite one was logged. */
  bestLoss: number | null;
  bestStep: number | null;
  /** The newest loss: NaN or ±Infinity for a run that blew up. */
  lastLoss: N | null;
  /** Alert episodes opened; null when not known. */
  alerts: number | null;
  /** Flattened config: nested keys joined with '.', at most MAX_CONFIG_COLUMNS across the table. */
  config: Record<string, ConfigCell>;
}

export interface CompareTable<N = number> {
  rows: CompareRow<N>[];
  /** Every config key of the rows, sorted: one column each. */
  configKeys: string[];
  /** True when the runs had more config keys than the table shows. */
  configTruncated: boolean;
}

export interface CompareInput {
  meta: RunMeta;
  /** meta.stats, or the summary read from the run's logs when meta.json has none. */
  stats: RunStats | null;
}

/** Columns of config beyond this would make a table nobody can read (and a message of megabytes). */
export const MAX_CONFIG_COLUMNS = 256;
/** Depth of nested config flattened into columns; deeper values are shown as JSON. */
const MAX_DEPTH = 4;
/** Longest text a config cell carries. */
const MAX_CELL_TEXT = 200;

export function buildCompareTable(inputs: readonly CompareInput[], options: { overrides?: RoleOverrides; now?: number } = {}): CompareTable<number> {
  const now = options.now ?? Date.now() / 1000;
  const keys = new Set<string>();
  let configTruncated = false;
  const rows = inputs.map(({ meta, stats }) => {
    const config: Record<string, ConfigCell> = Object.create(null) as Record<string, ConfigCell>;
    flatten(meta.config, '', 0, (key, value) => {
      if (!keys.has(key)) {
        if (keys.size >= MAX_CONFIG_COLUMNS) {
          configTruncated = true;
          return;
        }
        keys.add(key);
      }
      config[key] = value;
    });
    return { ...lossCells(stats, options.overrides ?? {}), ...rowBase(meta, stats, now), config };
  });
  return { rows, configKeys: [...keys].sort((a, b) => a.localeCompare(b)), configTruncated };
}

function rowBase(meta: RunMeta, stats: RunStats | null, now: number) {
  const end = meta.endedAt ?? (meta.status === 'running' ? now : stats?.lastTime ?? null);
  return {
    id: meta.id,
    name: meta.name,
    status: meta.status,
    tags: meta.tags ?? [],
    createdAt: meta.createdAt,
    duration: end === null ? null : Math.max(0, end - meta.createdAt),
    steps: stats?.lastStep ?? null,
    alerts: stats?.alerts ?? null,
  };
}

function lossCells(stats: RunStats | null, overrides: RoleOverrides) {
  const metric = stats ? resolveRoles(Object.keys(stats.metrics), overrides).loss : null;
  const stat = metric !== null && stats ? stats.metrics[metric] : undefined;
  return {
    lossMetric: stat ? metric : null,
    bestLoss: stat?.min ?? null,
    bestStep: stat?.minStep ?? null,
    lastLoss: stat ? decodeNumber(stat.last) : null,
  };
}

function flatten(value: unknown, prefix: string, depth: number, put: (key: string, value: ConfigCell) => void): void {
  if (value === null || value === undefined) {
    if (prefix) put(prefix, null);
    return;
  }
  if (typeof value === 'object' && !Array.isArray(value) && depth < MAX_DEPTH) {
    for (const key of Object.keys(value)) flatten((value as Record<string, unknown>)[key], prefix ? `${prefix}.${key}` : key, depth + 1, put);
    return;
  }
  if (!prefix) return;
  if (typeof value === 'number' || typeof value === 'boolean') put(prefix, value);
  else if (typeof value === 'string') put(prefix, clip(value));
  else put(prefix, clip(JSON.stringify(value) ?? String(value)));
}

const clip = (text: string) => (text.length > MAX_CELL_TEXT ? `${text.slice(0, MAX_CELL_TEXT - 1)}…` : text);

/** The table as a message carries it: a non-finite last loss spelled out (webview/contract.ts). */
export function encodeTable(table: CompareTable<number>): CompareTable<WireNumber> {
  return { ...table, rows: table.rows.map((r) => ({ ...r, lastLoss: r.lastLoss === null ? null : encodeNumber(r.lastLoss) })) };
}

const STATUSES: readonly string[] = ['running', 'completed', 'failed', 'stopped', 'interrupted'];
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const numOrNull = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * The table as a webview reads it (webview/shared/hostMessages.ts, the one door): every field checked,
 * the last loss decoded (NaN stays NaN; what cannot be read is NaN, never 0). A row that is not one
 * is left out; null when the message holds no table at all.
 */
export function decodeCompareTable(raw: unknown): CompareTable<number> | null {
  if (!isRecord(raw) || !Array.isArray(raw.rows) || !Array.isArray(raw.configKeys)) return null;
  const rows: CompareRow<number>[] = [];
  for (const r of raw.rows) {
    if (!isRecord(r) || typeof r.id !== 'string' || typeof r.name !== 'string' || !STATUSES.includes(r.status as string) || typeof r.createdAt !== 'number') continue;
    const entries: [string, ConfigCell][] = [];
    if (isRecord(r.config)) {
      for (const key of Object.keys(r.config)) {
        const v = r.config[key];
        if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v))) entries.push([key, v]);
      }
    }
    rows.push({
      id: r.id,
      name: r.name,
      status: r.status as RunStatus,
      tags: Array.isArray(r.tags) ? r.tags.filter((t): t is string => typeof t === 'string') : [],
      createdAt: r.createdAt,
      duration: numOrNull(r.duration),
      steps: numOrNull(r.steps),
      lossMetric: typeof r.lossMetric === 'string' ? r.lossMetric : null,
      bestLoss: numOrNull(r.bestLoss),
      bestStep: numOrNull(r.bestStep),
      lastLoss: r.lastLoss === null || r.lastLoss === undefined ? null : readNumber(r.lastLoss),
      alerts: numOrNull(r.alerts),
      config: Object.fromEntries(entries),
    });
  }
  return { rows, configKeys: raw.configKeys.filter((k): k is string => typeof k === 'string'), configTruncated: raw.configTruncated === true };
}
