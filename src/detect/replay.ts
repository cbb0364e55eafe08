// Offline replay of a saved run through the detectors: `lossradar detect`, the evaluation and the
// fixture tests all read runs this way.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { parseJsonLines, type LineProblem } from '../store/jsonLines';
import { fromFlat, type FlatRow, type MetricRow } from '../store/run';
import type { Alert } from './alert';
import type { RoleOverrides } from '../metrics/roles';
import type { DetectorSettings } from './settings';
import { Watchdog } from './watchdog';

export interface LoadedRows {
  file: string;
  rows: MetricRow[];
  problems: LineProblem[];
}

/** FILE.jsonl, FILE.jsonl.gz, or a run folder holding metrics.jsonl. */
export async function loadRows(target: string): Promise<LoadedRows> {
  let file = target;
  if ((await fsp.stat(target)).isDirectory()) file = path.join(target, 'metrics.jsonl');
  const raw = await fsp.readFile(file);
  const text = file.endsWith('.gz') ? zlib.gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  const parsed = parseJsonLines<FlatRow>(text, (value) => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
    const step = (value as { step?: unknown }).step;
    return typeof step === 'number' && Number.isInteger(step) && step >= 0 ? null : 'step: expected integer ≥ 0';
  });
  return { file, rows: parsed.items.map(fromFlat), problems: parsed.problems };
}

/** Every alert record in firing order: each opening, and each closing with its closedStep. */
export function replay(rows: readonly MetricRow[], settings: Partial<DetectorSettings> = {}, metrics: RoleOverrides = {}): Alert[] {
  const watchdog = new Watchdog(settings, metrics);
  const out: Alert[] = [];
  for (const row of rows) for (const change of watchdog.ingest(row)) out.push(change.alert);
  return out;
}
