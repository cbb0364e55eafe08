import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RunStore } from '../../src/store/runStore';
import { parseJsonLines } from '../../src/store/jsonLines';
import { tempDir } from '../helpers/tmp';

const row = (step: number, loss: number | 'NaN') => ({ step, time: step, values: { loss } });

test('a run is created in the store layout and lists from disk', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run, resumed } = await store.open({ name: 'My Run!', pid: process.pid, host: null });
  assert.equal(resumed, false);
  assert.match(run.id, /^\d{8}-\d{6}-my-run-[0-9a-f]{6}$/);
  run.append([row(1, 2.5), row(2, 'NaN')], [0, 1]);
  await run.flush();
  const lines = parseJsonLines(readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8')).items;
  assert.deepEqual(lines, [{ step: 1, time: 1, loss: 2.5, seq: 0 }, { step: 2, time: 2, loss: 'NaN', seq: 1 }]);
  const listed = await new RunStore(dir).list();
  assert.equal(listed.length, 1);
  assert.equal(listed[0].name, 'My Run!');
  await store.dispose();
  cleanup();
});

test('reload restores series, last step and last seq, NaN included', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ name: 'r', pid: process.pid });
  run.append([row(1, 2.5), row(2, 'NaN'), row(3, 1)], [10, 11, 12]);
  await store.dispose();
  const again = await new RunStore(dir).get(run.id);
  assert.ok(again);
  assert.equal(again.lastStep, 3);
  assert.equal(again.lastSeq, 12);
  assert.ok(Number.isNaN(again.series.get('loss')!.values[1]));
  cleanup();
});

test('a torn last line is skipped with a warning and the next append starts on a fresh line', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir, { flushMs: 5 });
  const { run } = await store.open({ name: 'torn', pid: process.pid });
  run.append([row(1, 1), row(2, 2)], [0, 1]);
  await store.dispose();
  appendFileSync(path.join(run.dir, 'metrics.jsonl'), '{"step":3,"loss":0.');
  const problems: string[] = [];
  const store2 = new RunStore(dir);
  store2.on('problem', (p) => problems.push(p));
  const reloaded = (await store2.get(run.id))!;
  assert.equal(reloaded.rowCount, 2);
  assert.equal(problems.length, 1);
  assert.match(problems[0], /metrics\.jsonl:3: torn last line/);
  reloaded.append([row(3, 3)], [2]);
  await reloaded.flush();
  const parsed = parseJsonLines<{ step: number }>(readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8'));
  assert.deepEqual(parsed.items.map((r) => r.step), [1, 2, 3], 'no written row lost, the new one readable');
  await store2.dispose();
  cleanup();
});

test('rows repeated on disk by a retried write are read once', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ name: 'dup', pid: process.pid });
  await store.dispose();
  writeFileSync(path.join(run.dir, 'metrics.jsonl'), '{"step":1,"loss":1,"seq":0}\n{"step":1,"loss":1,"seq":0}\n{"step":2,"loss":1,"seq":1}\n');
  const again = (await new RunStore(dir).get(run.id))!;
  assert.equal(again.rowCount, 2);
  cleanup();
});

test('a run left "running" whose process is gone lists as interrupted', async () => {
  const { dir, cleanup } = tempDir();
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  const store = new RunStore(dir);
  await store.open({ name: 'alive', pid: process.pid, host: require('node:os').hostname() });
  await store.open({ name: 'gone', pid: Number(dead), host: require('node:os').hostname() });
  const byName = Object.fromEntries((await new RunStore(dir).list()).map((r) => [r.name, r.status]));
  assert.deepEqual(byName, { alive: 'running', gone: 'interrupted' });
  await store.dispose();
  cleanup();
});

test('the listing follows every change of a run’s meta.json, and reads it again only then', async () => {
  const { dir, cleanup } = tempDir();
  const writer = new RunStore(dir);
  const { run } = await writer.open({ name: 'before', pid: process.pid });
  run.append([row(1, 2.5)], [0]);
  await run.end('completed', null);
  await run.flush();
  await writer.dispose();
  const file = path.join(run.dir, 'meta.json');
  const store = new RunStore(dir);
  const names = async () => (await store.list()).map((r) => `${r.name}:${r.status}`);
  assert.deepEqual(await names(), ['before:completed']);
  // Edited in place, as by hand or by another window's store: the listing sees it at once.
  const meta = JSON.parse(readFileSync(file, 'utf8'));
  writeFileSync(file, JSON.stringify({ ...meta, name: 'after!' }));
  const time = Math.floor(Date.now() / 1000) - 60;
  utimesSync(file, time, time);
  assert.deepEqual(await names(), ['after!:completed']);
  // The same file, length and time with other contents is the same record to the listing: what
  // it keeps between listings is keyed by the file, not parsed again each time.
  writeFileSync(file, JSON.stringify({ ...meta, name: 'other!' }));
  utimesSync(file, time, time);
  assert.deepEqual(await names(), ['after!:completed']);
  // Damaged: recovered from the logs for the listing, and not kept, so its repair is seen.
  writeFileSync(file, '{"torn');
  assert.deepEqual(await names(), [`${run.id}:interrupted`]);
  writeFileSync(file, JSON.stringify({ ...meta, name: 'repaired' }));
  assert.deepEqual(await names(), ['repaired:completed']);
  rmSync(run.dir, { recursive: true });
  assert.deepEqual(await names(), []);
  await store.dispose();
  cleanup();
});

test('run ids that could escape the runs folder are refused', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  for (const id of ['..', '../x', 'a/b', '.hidden', '']) {
    assert.equal(RunStore.isValidRunId(id), false, id);
  }
  await assert.rejects(store.open({ id: '../escape' }), /bad run id/);
  assert.equal(await store.get('../escape'), undefined);
  cleanup();
});

test('deleting a run removes its folder', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ name: 'x' });
  await store.delete(run.id);
  assert.deepEqual(await store.list(), []);
  cleanup();
});

test('an alert’s non-finite values survive alerts.jsonl (JSON alone would store null)', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ name: 'alerting', pid: process.pid });
  run.appendAlert({ id: 'nonfinite:loss@3', values: { loss: Number.NaN, ratio: Number.POSITIVE_INFINITY, low: Number.NEGATIVE_INFINITY, median: 2.5 } });
  const [back] = await run.readAlerts<{ id: string; values: Record<string, number> }>();
  assert.ok(Number.isNaN(back.values.loss));
  assert.equal(back.values.ratio, Number.POSITIVE_INFINITY);
  assert.equal(back.values.low, Number.NEGATIVE_INFINITY);
  assert.equal(back.values.median, 2.5);
  assert.match(readFileSync(path.join(run.dir, 'alerts.jsonl'), 'utf8'), /"loss":"NaN","ratio":"Infinity","low":"-Infinity"/);
  await store.dispose();
  cleanup();
});
