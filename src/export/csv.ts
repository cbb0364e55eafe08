// A run's metrics as CSV (RFC 4180), for people who continue in pandas, polars or a spreadsheet
// (docs/charts.md "Export"). One line per stored row of metrics.jsonl, in the order logged, with
// the columns `step`, `time` (Unix seconds, empty when the row carried none) and every metric the
// run logged, in the order first seen; a metric a row did not log is an empty cell. NaN and ±∞ are
// written `NaN`, `inf`, `-inf`, which pandas.read_csv and polars read back as floats. The file is
// streamed twice (once for the columns, once for the rows), so a run of millions of rows is never
// held in memory. Plain Node: the dashboard's "Export CSV" and a CLI can both call it.
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import type { Writable } from 'node:stream';
import { fromFlat, RESERVED_KEYS, type FlatRow, type MetricRow } from '../store/run';

/** A cell as RFC 4180 wants it: quoted when it holds a comma, a quote or a line break. */
export function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvNumber(value: number | undefined): string {
  if (value === undefined) return '';
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return String(value);
}

export function csvHeader(metrics: readonly string[]): string {
  return ['step', 'time', ...metrics].map(csvCell).join(',');
}

export function csvRow(row: Pick<MetricRow, 'step' | 'time' | 'values'>, metrics: readonly string[]): string {
  const cells = [String(row.step), csvNumber(row.time)];
  for (const m of metrics) cells.push(csvNumber(Object.hasOwn(row.values, m) ? row.values[m] : undefined));
  return cells.join(',');
}

/** The flat rows of a metrics.jsonl, one by one; a torn or unreadable line is skipped and counted. */
async function* flatRows(file: string, skipped: { count: number }): AsyncGenerator<FlatRow> {
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      skipped.count++;
      continue;
    }
    const step = (value as { step?: unknown } | null)?.step;
    if (typeof value !== 'object' || value === null || Array.isArray(value) || typeof step !== 'number' || !Number.isInteger(step) || step < 0) {
      skipped.count++;
      continue;
    }
    yield value as FlatRow;
  }
}

export interface CsvExport {
  rows: number;
  metrics: number;
  /** Lines of metrics.jsonl that could not be read (a torn last line). */
  skipped: number;
}

/** Writes the run in `runDir` as CSV to `out` (a stream, left open). */
export async function writeRunCsv(runDir: string, out: Writable): Promise<CsvExport> {
  const file = path.join(runDir, 'metrics.jsonl');
  const names = new Map<string, true>();
  const first = { count: 0 };
  for await (const flat of flatRows(file, first)) {
    for (const key of Object.keys(flat)) if (!RESERVED_KEYS.has(key)) names.set(key, true);
  }
  const metrics = [...names.keys()];
  const write = async (text: string) => {
    if (!out.write(text)) await once(out, 'drain');
  };
  await write(`${csvHeader(metrics)}\n`);
  let rows = 0;
  const second = { count: 0 };
  let batch = '';
  for await (const flat of flatRows(file, second)) {
    batch += `${csvRow(fromFlat(flat), metrics)}\n`;
    rows++;
    if (batch.length > 64 * 1024) {
      await write(batch);
      batch = '';
    }
  }
  if (batch) await write(batch);
  return { rows, metrics: metrics.length, skipped: second.count };
}

/** Writes the run's CSV to a file (through a temporary name: a failed export leaves no half file). */
export async function exportRunCsv(runDir: string, target: string): Promise<CsvExport> {
  const tmp = `${target}.${process.pid}.tmp`;
  const out = createWriteStream(tmp);
  try {
    const result = await writeRunCsv(runDir, out);
    out.end();
    await once(out, 'close');
    await rename(tmp, target);
    return result;
  } catch (err) {
    out.destroy();
    await rm(tmp, { force: true });
    throw err;
  }
}
