// A long run written straight to disk in the store's layout (meta.json, metrics.jsonl and, unless
// `columns` is false, its sealed segments as the hub would have written them), without a hub: the
// resume tests and benchmarks need runs of millions of values in seconds.
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import * as path from 'node:path';
import { ColumnStore, RowColumns, SEGMENT_ROWS } from '../../src/store/columns';
import { newMeta } from '../../src/store/meta';
import type { MetricRow } from '../../src/store/run';

export const metricNames = (metrics: number) => Array.from({ length: metrics }, (_, m) => (m === 0 ? 'loss' : `layer${m}/metric`));

/** Writes `rows` rows of `metrics` metrics as run `id` in `runsDir`; a NaN loss at `nanAt`. */
export async function writeLargeRun(runsDir: string, id: string, rows: number, metrics: number, opts: { columns?: boolean; nanAt?: number; segmentRows?: number } = {}): Promise<{ dir: string; bytes: number }> {
  const dir = path.join(runsDir, id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'meta.json'), JSON.stringify(newMeta(id, 1_700_000_000, { name: id, status: 'completed', endedAt: 1_700_000_000 + rows / 100 })));
  const names = metricNames(metrics);
  const out = createWriteStream(path.join(dir, 'metrics.jsonl'));
  const columns = opts.columns === false ? undefined : ColumnStore.fresh(dir);
  const segmentRows = opts.segmentRows ?? SEGMENT_ROWS;
  let pending = new RowColumns();
  let bytes = 0;
  let lines = 0;
  let text = '';
  for (let step = 0; step < rows; step++) {
    const values: Record<string, number> = {};
    let line = `{"step":${step},"time":${1_700_000_000 + step / 100}`;
    for (let m = 0; m < metrics; m++) {
      const v = step === opts.nanAt && m === 0 ? NaN : Math.sin(step * 0.001 + m) * 3.14159 + 4;
      values[names[m]] = v;
      line += `,${JSON.stringify(names[m])}:${Number.isNaN(v) ? '"NaN"' : v}`;
    }
    line += `,"seq":${step}}\n`;
    text += line;
    bytes += Buffer.byteLength(line);
    lines += 1;
    if (columns) {
      const row: MetricRow = { step, time: 1_700_000_000 + step / 100, values, source: undefined, seq: step, rank: undefined };
      pending.append(row);
      if (pending.rows === segmentRows) {
        await columns.seal(pending, pending.rows, bytes, lines);
        pending = new RowColumns();
      }
    }
    if (text.length > 1 << 20) {
      if (!out.write(text)) await once(out, 'drain');
      text = '';
    }
  }
  out.end(text);
  await once(out, 'close');
  return { dir, bytes };
}
