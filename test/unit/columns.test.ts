// The store for runs of any length (docs/store.md): bounded series in memory, sealed Arrow segments
// beside metrics.jsonl, reopening that reads only the summaries and the log's tail, detail from disk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, readdirSync, openSync, writeSync, closeSync, appendFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import { Series } from '../../src/store/series';
import { RunStore } from '../../src/store/runStore';
import { readColumns } from '../../src/store/segmentRead';
import { tempDir } from '../helpers/tmp';

const nonFinite = (s: Series) => [...s.steps].filter((_, i) => !Number.isFinite(s.values[i]));

test('a series holds a bounded amount whatever its length, and never loses a NaN, an extreme or its tail', () => {
  const s = new Series(256, { tailPoints: 1000, overviewBuckets: 128 });
  let most = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const v = i === 123_457 ? NaN : i === 654_321 ? 1e9 : i === 777_777 ? -Infinity : Math.sin(i / 5000);
    s.push(i, v);
    if (i % 50_000 === 0) most = Math.max(most, s.heldBytes);
  }
  most = Math.max(most, s.heldBytes);
  assert.ok(most <= 2 * 1000 * 16 + 128 * 12 * 8, `held ${most} bytes`);
  assert.ok(s.length <= 2000 + 128 * 7, `${s.length} points`);
  assert.equal(s.recorded, 1_000_000);
  assert.deepEqual(nonFinite(s), [123_457, 777_777], 'each non-finite point at its own step');
  assert.equal(Math.max(...[...s.values].filter(Number.isFinite)), 1e9);
  assert.equal(s.steps[s.length - 1], 999_999);
  assert.deepEqual([...s.steps.subarray(s.length - 1000)], Array.from({ length: 1000 }, (_, i) => 999_000 + i), 'the newest points at full resolution');
  for (let i = 1; i < s.length; i++) assert.ok(s.steps[i] >= s.steps[i - 1], 'steps in order');
  assert.deepEqual(s.last(), { step: 999_999, value: Math.sin(999_999 / 5000) });
});

const row = (step: number) => ({
  step,
  time: 1000 + step,
  values: { loss: step === 250 ? 'NaN' : step === 420 ? 'Infinity' : 1 / (step + 1), ...(step % 10 === 0 ? { 'loss/val': step } : {}) },
});

async function writeRun(dir: string, rows: number, segmentRows = 100) {
  const store = new RunStore(dir, { flushMs: 1, segmentRows });
  const { run } = await store.open({ name: 'long', pid: 0 });
  for (let s = 0; s < rows; s += 50) {
    run.append(Array.from({ length: Math.min(50, rows - s) }, (_, i) => row(s + i)) as never, Array.from({ length: Math.min(50, rows - s) }, (_, i) => s + i));
    await run.flush();
  }
  await run.end('completed', null);
  await store.dispose();
  return run.id;
}

test('sealed segments are Arrow IPC files any Arrow reader opens: one column per metric, null where a row lacks it, NaN as NaN', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 1000);
  const cols = path.join(dir, id, 'columns');
  const index = JSON.parse(readFileSync(path.join(cols, 'index.json'), 'utf8'));
  assert.ok(index.segments.length >= 5, `${index.segments.length} segments`);
  const sealed = index.segments.reduce((n: number, s: { rows: number }) => n + s.rows, 0);
  assert.ok(sealed >= 900, `${sealed} rows sealed`);
  const third = tableFromIPC(readFileSync(path.join(cols, index.segments[2].file)));
  assert.deepEqual(third.schema.fields.map((f) => f.name), ['step', 'time', 'seq', 'rank', 'loss', 'loss/val']);
  const steps = [...third.getChild('step')!.toArray()].map(Number);
  const at = steps.indexOf(250);
  assert.ok(at >= 0, 'step 250 is in the third segment');
  assert.ok(Number.isNaN(third.getChild('loss')!.get(at)));
  assert.equal(third.getChild('loss/val')!.get(at), 250);
  assert.equal(third.getChild('loss/val')!.get(at + 1), null, 'a row without loss/val is null there');
  assert.equal(third.getChild('rank')!.get(at), null);
  cleanup();
});

test('reopening reads the summaries and the log past the last segment, not the sealed rows', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 1000);
  const file = path.join(dir, id, 'metrics.jsonl');
  const index = JSON.parse(readFileSync(path.join(dir, id, 'columns', 'index.json'), 'utf8'));
  // Blank out the sealed part of the log, byte for byte: a reopen that read it would report it.
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(index.jsonlOffset - 1, 'x'), 0, index.jsonlOffset - 1, 0);
  closeSync(fd);
  const problems: string[] = [];
  const store = new RunStore(dir);
  store.on('problem', (p) => problems.push(p));
  const run = (await store.get(id))!;
  assert.deepEqual(problems, []);
  assert.equal(run.rowCount, 1000);
  assert.equal(run.lastSeq, 999);
  assert.equal(run.lastStep, 999);
  const loss = run.series.get('loss')!;
  assert.deepEqual(nonFinite(loss), [250, 420], 'the NaN and the +∞ of sealed segments are in the overview');
  assert.equal(run.meta.stats?.rows, 1000);
  assert.equal(run.meta.stats?.metrics.loss.min, 1 / 1000);
  assert.equal(run.meta.stats?.metrics['loss/val'].last, 990);
  await store.dispose();
  cleanup();
});

test('a long run reopens from one overview file and the summaries of at most OVERVIEW_EVERY newer segments', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 4000);
  const cols = path.join(dir, id, 'columns');
  const index = JSON.parse(readFileSync(path.join(cols, 'index.json'), 'utf8'));
  assert.equal(index.segments.length, 40);
  assert.deepEqual(index.overview, { file: 'overview-000032.arrow', segments: 32 });
  assert.deepEqual(readdirSync(cols).filter((f) => f.startsWith('overview')), ['overview-000032.arrow'], 'the overview it replaced is gone');
  // The summaries the overview stands for are not read: a reopen without them sees the same run.
  for (let i = 0; i < 32; i++) rmSync(path.join(cols, `seg-${String(i).padStart(6, '0')}.summary.arrow`));
  const problems: string[] = [];
  const store = new RunStore(dir, { segmentRows: 100 });
  store.on('problem', (p) => problems.push(p));
  const run = (await store.get(id))!;
  assert.deepEqual(problems, []);
  assert.equal(run.rowCount, 4000);
  assert.equal(run.lastSeq, 3999);
  const loss = run.series.get('loss')!;
  assert.deepEqual(nonFinite(loss), [250, 420], 'the NaN and the +∞ of the first segments survive the merged overview');
  assert.equal(loss.recorded, 4000);
  assert.equal(run.meta.stats?.rows, 4000);
  assert.equal(run.meta.stats?.metrics.loss.min, 1 / 4000);
  assert.equal(run.meta.stats?.metrics['loss/val'].last, 3990);
  const detail = await run.detail(1995, 2004, ['loss'], 100);
  assert.deepEqual([...detail.loss.steps], [1995, 1996, 1997, 1998, 1999, 2000, 2001, 2002, 2003, 2004], 'a zoom still reads the segments themselves');
  await store.dispose();
  cleanup();
});

test('columns from before the overview file are read segment by segment once, and given an overview for the next reopen', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 2000);
  const cols = path.join(dir, id, 'columns');
  const { overview, ...older } = JSON.parse(readFileSync(path.join(cols, 'index.json'), 'utf8'));
  rmSync(path.join(cols, overview.file));
  writeFileSync(path.join(cols, 'index.json'), JSON.stringify(older));
  const store = new RunStore(dir, { segmentRows: 100 });
  const run = (await store.get(id))!;
  assert.equal(run.rowCount, 2000);
  assert.deepEqual(nonFinite(run.series.get('loss')!), [250, 420]);
  await run.flush();
  await store.dispose();
  const index = JSON.parse(readFileSync(path.join(cols, 'index.json'), 'utf8'));
  assert.deepEqual(index.overview, { file: 'overview-000020.arrow', segments: 20 });
  cleanup();
});

test('an overview file the index names but the folder lacks: the columns are rebuilt from the log', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 1700);
  rmSync(path.join(dir, id, 'columns', 'overview-000016.arrow'));
  const problems: string[] = [];
  const store = new RunStore(dir, { segmentRows: 100 });
  store.on('problem', (p) => problems.push(p));
  const run = (await store.get(id))!;
  assert.equal(problems.length, 1);
  assert.match(problems[0], /overview-000016\.arrow is missing.*rebuilt/);
  assert.equal(run.rowCount, 1700);
  assert.deepEqual(nonFinite(run.series.get('loss')!), [250, 420]);
  await store.dispose();
  cleanup();
});

test('the columns a zoom asks for are read alone from a segment file, as any Arrow reader reads them', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 1000);
  const file = path.join(dir, id, 'columns', 'seg-000002.arrow');
  const table = tableFromIPC(readFileSync(file));
  const got = (await readColumns(file, ['loss/val', 'loss', 'no such metric']))!;
  assert.ok(got, 'a segment our writer wrote is one the column reader knows');
  assert.deepEqual([...got.steps], [...table.getChild('step')!].map(Number));
  assert.deepEqual([...got.columns.keys()].sort(), ['loss', 'loss/val']);
  const loss = got.columns.get('loss')!;
  assert.deepEqual([...loss.values], [...table.getChild('loss')!].map(Number));
  const val = got.columns.get('loss/val')!;
  const expected = [...table.getChild('loss/val')!];
  const bit = (i: number) => (val.valid![i >> 3] & (1 << (i & 7))) !== 0;
  assert.deepEqual(expected.map((v, i) => (bit(i) ? val.values[i] : null)), expected, 'nulls where the row did not log it');
  cleanup();
});

test('a zoom reads the rows of its range from the segments and memory, each point once', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 1000);
  const store = new RunStore(dir, { segmentRows: 100 });
  const run = (await store.get(id))!;
  const detail = await run.detail(230, 980, null, 10_000);
  assert.deepEqual([...detail.loss.steps], Array.from({ length: 751 }, (_, i) => 230 + i));
  assert.ok(Number.isNaN(detail.loss.values[20]));
  assert.equal(detail.loss.values[190], Infinity);
  assert.equal(detail.loss.values[0], 1 / 231);
  assert.deepEqual([...detail['loss/val'].steps], Array.from({ length: 76 }, (_, i) => 230 + 10 * i));
  const narrow = await run.detail(0, 999, ['loss/val'], 10);
  assert.deepEqual(Object.keys(narrow), ['loss/val'], 'only the metrics asked for');
  assert.ok(narrow['loss/val'].steps.length <= 40);
  await store.dispose();
  cleanup();
});

test('a run from before the columns is sealed on its first reopen; an index that does not fit the log is rebuilt', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 600);
  const cols = path.join(dir, id, 'columns');
  rmSync(cols, { recursive: true });
  const first = (await new RunStore(dir, { segmentRows: 100 }).get(id))!;
  assert.equal(first.rowCount, 600);
  await first.flush();
  assert.ok(readdirSync(cols).filter((f) => /^seg-\d+\.arrow$/.test(f)).length >= 1, 'segments written while it was read');
  const index = JSON.parse(readFileSync(path.join(cols, 'index.json'), 'utf8'));
  writeFileSync(path.join(cols, 'index.json'), JSON.stringify({ ...index, jsonlOffset: index.jsonlOffset - 7 }));
  const problems: string[] = [];
  const store = new RunStore(dir, { segmentRows: 100 });
  store.on('problem', (p) => problems.push(p));
  const again = (await store.get(id))!;
  assert.equal(problems.length, 1);
  assert.match(problems[0], /does not point at the start of a line.*rebuilt/);
  assert.equal(again.rowCount, 600);
  assert.deepEqual(nonFinite(again.series.get('loss')!), [250, 420]);
  await store.dispose();
  cleanup();
});

test('a torn last line after the sealed rows is skipped and numbered as the log counts its lines', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 300);
  appendFileSync(path.join(dir, id, 'metrics.jsonl'), '{"step":300,"loss":0.');
  const problems: string[] = [];
  const store = new RunStore(dir);
  store.on('problem', (p) => problems.push(p));
  const run = (await store.get(id))!;
  assert.equal(run.rowCount, 300);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /metrics\.jsonl:301: torn last line/);
  await store.dispose();
  cleanup();
});

test('a run neither live nor shown is let go; a held one stays', async () => {
  const { dir, cleanup } = tempDir();
  const id = await writeRun(dir, 120);
  const store = new RunStore(dir, { idleMs: 20 });
  await store.get(id);
  const held = store.hold(id);
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(store.loadedIds, [id], 'held by a view');
  held.dispose();
  await new Promise((r) => setTimeout(r, 60));
  assert.deepEqual(store.loadedIds, [], 'let go once nothing shows it');
  assert.equal((await store.get(id))!.rowCount, 120, 'and loaded again when asked for');
  await store.dispose();
  cleanup();
});
