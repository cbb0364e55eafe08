// `lossradar export RUN --format csv|parquet|arrow` (docs/store.md "Export"), run as the built CLI:
// every stored row comes out once, sealed segments and the log's tail alike, a metric a row did not
// log is null, NaN stays NaN; the Arrow file is read back with apache-arrow, the Parquet file with
// hyparquet (another implementation than the writer's encoder path).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { parquetReadObjects } from 'hyparquet';
import { RunStore } from '../../src/store/runStore';
import { CLI } from '../helpers/serveProcess';
import { tempDir } from '../helpers/tmp';

const ROWS = 1234;

async function longRun(dir: string): Promise<string> {
  // Small segments: the export crosses several of them and the unsealed tail.
  const store = new RunStore(dir, { flushMs: 1, segmentRows: 300 });
  const { run } = await store.open({ name: 'exported', pid: 0 });
  for (let s = 0; s < ROWS; s += 100) {
    const n = Math.min(100, ROWS - s);
    const rows = Array.from({ length: n }, (_, i) => {
      const step = s + i;
      return { step, time: 100 + step, values: { loss: step === 777 ? 'NaN' : step / 10, ...(step % 100 === 0 ? { 'loss/val': step } : {}) } };
    });
    run.append(rows as never, rows.map((r) => r.step));
    await run.flush();
  }
  await run.end('completed', null);
  await store.dispose();
  return run.id;
}

const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });

test('export --format arrow: one Arrow IPC file, every row once, nulls where a metric was not logged', async () => {
  const { dir, cleanup } = tempDir();
  const id = await longRun(dir);
  const out = path.join(dir, 'run.arrow');
  const r = cli('export', id, '--runs', dir, '--format', 'arrow', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, new RegExp(`wrote ${ROWS} rows × 2 metrics`));
  const table = tableFromIPC(readFileSync(out));
  assert.equal(table.numRows, ROWS);
  assert.deepEqual(table.schema.fields.map((f) => f.name), ['step', 'time', 'seq', 'rank', 'loss', 'loss/val']);
  const steps = [...table.getChild('step')!].map(Number);
  assert.deepEqual(steps, Array.from({ length: ROWS }, (_, i) => i));
  assert.ok(Number.isNaN(table.getChild('loss')!.get(777)));
  assert.equal(table.getChild('loss')!.get(1233), 123.3);
  assert.equal(table.getChild('loss/val')!.get(1200), 1200);
  assert.equal(table.getChild('loss/val')!.get(1201), null);
  cleanup();
});

test('export --format parquet: the same rows, read back by hyparquet', async () => {
  const { dir, cleanup } = tempDir();
  const id = await longRun(dir);
  const out = path.join(dir, 'run.parquet');
  const r = cli('export', path.join(dir, id), '--format', 'parquet', '--out', out);
  assert.equal(r.status, 0, r.stderr);
  const buf = readFileSync(out);
  const rows = (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) })) as Record<string, unknown>[];
  assert.equal(rows.length, ROWS);
  assert.deepEqual(rows.map((x) => Number(x.step)), Array.from({ length: ROWS }, (_, i) => i));
  assert.ok(Number.isNaN(rows[777].loss as number));
  assert.equal(rows[1200]['loss/val'], 1200);
  assert.equal(rows[1201]['loss/val'], null);
  assert.equal(rows[5].time, 105);
  cleanup();
});

test('export --format csv, and a RUN that is not a run or a format that is not one is a usage error', async () => {
  const { dir, cleanup } = tempDir();
  const id = await longRun(dir);
  const out = path.join(dir, 'run.csv');
  assert.equal(cli('export', id, '--runs', dir, '--out', out).status, 0);
  const lines = readFileSync(out, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'step,time,loss,loss/val');
  assert.equal(lines.length, ROWS + 1);
  assert.equal(lines[778], '777,877,NaN,');
  const bad = cli('export', 'no-such-run', '--runs', dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /"no-such-run" is not a run/);
  const format = cli('export', id, '--runs', dir, '--format', 'xlsx');
  assert.equal(format.status, 2);
  assert.match(format.stderr, /--format: expected one of csv, parquet, arrow/);
  cleanup();
});
