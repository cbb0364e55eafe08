// A run's summary in meta.json (src/store/runStats.ts, docs/compare.md): kept by the Run as rows and
// alerts arrive, rebuilt when the run is loaded, read from the logs for runs that have none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/store/runStore';
import { emptyStats, MAX_STAT_METRICS, normalizeStats, observeRow, statsFromLogs } from '../../src/store/runStats';
import { normalizeTags, parseTagInput } from '../../src/store/tags';
import { CompareSource } from '../../src/view/compareSource';
import { tempDir } from '../helpers/tmp';

const row = (step: number, values: Record<string, number | 'NaN' | 'Infinity'>) => ({ step, time: 100 + step, values });

test('the Run keeps its summary as rows and alerts come, and meta.json has it once the run ends', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ name: 'r', pid: process.pid, tags: ['a', 'b', 'a'] });
  run.append([row(0, { loss: 3, lr: 0.1 }), row(1, { loss: 1 }), row(2, { loss: 'NaN' })], [0, 1, 2]);
  run.appendAlert({ id: 'x', state: 'open', values: {} });
  run.appendAlert({ id: 'x', state: 'closed', values: {} });
  run.appendAlert({ id: 'y', state: 'open', values: {} });
  assert.deepEqual(run.meta.stats?.metrics.loss, { last: 'NaN', lastStep: 2, min: 1, minStep: 1 });
  await run.end('failed', 'boom');
  const onDisk = JSON.parse(readFileSync(path.join(run.dir, 'meta.json'), 'utf8'));
  assert.deepEqual(onDisk.tags, ['a', 'b']);
  assert.equal(onDisk.stats.rows, 3);
  assert.equal(onDisk.stats.lastStep, 2);
  assert.equal(onDisk.stats.lastTime, 102);
  assert.equal(onDisk.stats.alerts, 2);
  assert.deepEqual(onDisk.stats.metrics.lr, { last: 0.1, lastStep: 0, min: 0.1, minStep: 0 });
  await store.dispose();
  // Loaded again: the rows rebuild the same summary, the alert count carries over.
  const again = await new RunStore(dir).get(run.id);
  assert.deepEqual(again?.meta.stats, normalizeStats(onDisk.stats));
  assert.equal(again?.meta.stats?.rows, 3, 'rows not counted twice');
  cleanup();
});

test('a resumed run keeps the tags it has; the hello’s tags name a new run only', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ id: 'keep', name: 'r', pid: process.pid, tags: ['first'] });
  await run.updateMeta({ tags: ['edited'] });
  const { run: resumed } = await store.open({ id: 'keep', name: 'r', pid: process.pid, tags: ['first'] });
  assert.deepEqual(resumed.meta.tags, ['edited']);
  await store.dispose();
  cleanup();
});

test('a summary keeps the first MAX_STAT_METRICS metrics and says it left the rest out', () => {
  const stats = emptyStats();
  observeRow(stats, 0, undefined, Object.fromEntries(Array.from({ length: MAX_STAT_METRICS + 3 }, (_, i) => [`m${i}`, i])));
  assert.equal(Object.keys(stats.metrics).length, MAX_STAT_METRICS);
  assert.equal(stats.truncated, true);
});

test('a metric named like an Object method is a metric', () => {
  const stats = emptyStats();
  observeRow(stats, 0, undefined, { constructor: 2, toString: 1 });
  const [ctor, str]: string[] = ['constructor', 'toString'];
  assert.equal(stats.metrics[ctor].min, 2);
  assert.equal(normalizeStats(JSON.parse(JSON.stringify(stats)))?.metrics[str].last, 1);
});

test('a summary read from meta.json that is not one is none (the logs are read instead)', () => {
  assert.equal(normalizeStats(null), null);
  assert.equal(normalizeStats({ rows: 'x', metrics: {} }), null);
  const odd = normalizeStats({ rows: 2, lastStep: 'x', alerts: 1, metrics: { loss: { last: 'bad', lastStep: 1, min: 'NaN' }, bad: 3 } });
  assert.deepEqual(odd && { ...odd, metrics: { ...odd.metrics } }, { rows: 2, lastStep: null, lastTime: null, alerts: 1, truncated: false, metrics: { loss: { last: 'NaN', lastStep: 1, min: null, minStep: null } } });
});

test('a run without a summary (the SDK’s local store) is summarised from its logs, torn lines skipped', async () => {
  const { dir, cleanup } = tempDir();
  const run = path.join(dir, 'offline');
  mkdirSync(run);
  writeFileSync(path.join(run, 'metrics.jsonl'), ['{"step":0,"time":5,"loss":2}', '{"step":1,"loss":"NaN","acc":0.5}', 'torn{', '{"step":2,"loss":1.5,"seq":2}', '{"st'].join('\n'));
  writeFileSync(path.join(run, 'alerts.jsonl'), '{"id":"a","state":"open"}\n{"id":"a","state":"closed"}\n');
  const stats = await statsFromLogs(run);
  assert.equal(stats.rows, 3);
  assert.equal(stats.lastStep, 2);
  assert.equal(stats.alerts, 1);
  assert.deepEqual(stats.metrics.loss, { last: 1.5, lastStep: 2, min: 1.5, minStep: 2 });
  cleanup();
});

test('the comparison source lists every run, summarising from the logs only a run whose meta.json has no summary', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ name: 'hub-run', pid: process.pid, config: { lr: 0.1 } });
  run.append([row(0, { loss: 2 }), row(4, { loss: 0.5 })], [0, 1]);
  await run.end('completed', null);
  const offline = path.join(dir, 'offline-run');
  mkdirSync(offline);
  writeFileSync(path.join(offline, 'meta.json'), JSON.stringify({ id: 'offline-run', name: 'offline', status: 'completed', createdAt: 1, endedAt: 3, config: { lr: 0.5 }, tags: ['local'] }));
  writeFileSync(path.join(offline, 'metrics.jsonl'), '{"step":0,"train_loss":4}\n{"step":7,"train_loss":3}\n');
  const source = new CompareSource(store);
  const table = await source.table();
  const byName = Object.fromEntries(table.rows.map((r) => [r.name, r]));
  assert.deepEqual([byName['hub-run'].bestLoss, byName['hub-run'].steps, byName['hub-run'].config.lr], [0.5, 4, 0.1]);
  assert.deepEqual([byName.offline.bestLoss, byName.offline.lossMetric, byName.offline.steps, byName.offline.alerts, byName.offline.tags], [3, 'train_loss', 7, 0, ['local']]);
  assert.deepEqual(table.configKeys, ['lr']);
  // The table read no series into memory for the offline run.
  writeFileSync(path.join(offline, 'metrics.jsonl'), '{"step":0,"train_loss":4}\n{"step":7,"train_loss":3}\n{"step":9,"train_loss":1}\n');
  const later = (await source.table()).rows.find((r) => r.name === 'offline');
  assert.equal(later?.steps, 9, 'a changed log is read again');
  await store.dispose();
  cleanup();
});

test('tags from disk or the wire: strings, trimmed, unique, bounded; a user’s input split on commas', () => {
  assert.deepEqual(normalizeTags([' a ', 'a', '', 3, 'b\u0007', 'x'.repeat(65), 'c']), ['a', 'c']);
  assert.deepEqual(normalizeTags('a,b'), []);
  assert.deepEqual(normalizeTags(Array.from({ length: 40 }, (_, i) => `t${i}`)).length, 32);
  assert.deepEqual(parseTagInput(' baseline, lr sweep ,, baseline'), { tags: ['baseline', 'lr sweep'] });
  assert.deepEqual(parseTagInput(''), { tags: [] });
  assert.match((parseTagInput('x'.repeat(70)) as { error: string }).error, /at most 64 characters/);
  assert.match((parseTagInput(Array.from({ length: 33 }, (_, i) => `t${i}`).join(',')) as { error: string }).error, /at most 32 tags/);
});
