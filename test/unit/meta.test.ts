// meta.json has one writer per run: overlapping updates never collide or tear it, a full disk is
// retried, and a damaged file is recovered rather than losing the run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadMeta, MetaFile, newMeta, type RunMeta } from '../../src/store/meta';
import { RunStore } from '../../src/store/runStore';
import { parseJsonLines } from '../../src/store/jsonLines';
import { tempDir, waitFor } from '../helpers/tmp';

const meta = (id: string, patch: Partial<RunMeta> = {}): RunMeta => newMeta(id, 1, patch);

test('300 overlapping saves of one meta.json all succeed, leave no temporary file and the newest wins', async () => {
  const { dir, cleanup } = tempDir();
  const file = new MetaFile(path.join(dir, 'meta.json'));
  const saves = Array.from({ length: 300 }, (_, i) => file.save(meta('r', { droppedRows: i })));
  await Promise.all(saves);
  assert.equal(JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')).droppedRows, 299);
  assert.deepEqual(readdirSync(dir), ['meta.json']);
  file.dispose();
  cleanup();
});

test('two writers of one folder (two processes, two windows) use temporary names of their own', async () => {
  const { dir, cleanup } = tempDir();
  const a = new MetaFile(path.join(dir, 'meta.json'));
  const b = new MetaFile(path.join(dir, 'meta.json'));
  const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).save(meta('r', { droppedRows: i }))));
  assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
  assert.ok(JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')).droppedRows >= 98);
  a.dispose();
  b.dispose();
  cleanup();
});

test('a save the disk refuses is reported once and retried until it lands', async () => {
  const { dir, cleanup } = tempDir();
  const target = path.join(dir, 'sub', 'meta.json'); // its folder does not exist yet: every write fails
  const errors: string[] = [];
  const file = new MetaFile(target, { retryMs: 20, onError: (e) => errors.push(e.code ?? '') });
  await assert.rejects(file.save(meta('r', { status: 'completed' })), /ENOENT/);
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(errors, ['ENOENT'], 'one report per failure episode');
  mkdirSync(path.join(dir, 'sub'));
  await waitFor(() => {
    try {
      return JSON.parse(readFileSync(target, 'utf8')).status === 'completed' || undefined;
    } catch {
      return undefined;
    }
  }, 'the retried write');
  file.dispose();
  cleanup();
});

test('a torn meta.json is recovered from a leftover temporary copy, else rebuilt from the logs', async () => {
  const { dir, cleanup } = tempDir();
  const run = path.join(dir, '20261201-000000-torn-abcdef');
  mkdirSync(run);
  writeFileSync(path.join(run, 'metrics.jsonl'), '{"step":0,"time":1700000000.5,"loss":2,"seq":0}\n{"step":1,"time":1700000001,"loss":1.9,"seq":1}\n');
  writeFileSync(path.join(run, 'meta.json'), '{"id":"20261201-000000-torn-abcdef","na');
  const rebuilt = (await loadMeta(run))!;
  assert.match(rebuilt.recovered!, /meta\.json is damaged .*rebuilt from the run's logs/);
  assert.equal(rebuilt.meta.id, path.basename(run));
  assert.equal(rebuilt.meta.createdAt, 1700000000.5, 'the first row says when the run began');
  assert.equal(rebuilt.meta.status, 'interrupted');
  writeFileSync(path.join(run, 'meta.json.123.abcd.tmp'), JSON.stringify(meta(path.basename(run), { name: 'torn', status: 'completed', updatedAt: 5 })));
  const fromCopy = (await loadMeta(run))!;
  assert.match(fromCopy.recovered!, /recovered from a temporary copy/);
  assert.deepEqual([fromCopy.meta.name, fromCopy.meta.status], ['torn', 'completed']);
  cleanup();
});

test('a run whose meta.json is damaged still lists, opens, is written back and resumes with its rows', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir, { flushMs: 10 });
  const { run } = await store.open({ id: 'damaged-run', name: 'damaged' });
  run.append([{ step: 0, values: { loss: 1 } }, { step: 1, values: { loss: 0.5 } }], [0, 1]);
  await run.flush();
  await store.dispose();
  writeFileSync(path.join(dir, 'damaged-run', 'meta.json'), '\0\0\0garbage');
  const again = new RunStore(dir);
  const problems: string[] = [];
  again.on('problem', (p) => problems.push(p));
  assert.deepEqual((await again.list()).map((r) => r.id), ['damaged-run']);
  const loaded = (await again.get('damaged-run'))!;
  assert.deepEqual([loaded.lastSeq, loaded.lastStep, loaded.rowCount], [1, 1, 2]);
  assert.ok(problems.some((p) => /meta\.json: meta\.json is damaged .*rebuilt/.test(p)), problems.join('\n'));
  await waitFor(() => {
    try {
      return JSON.parse(readFileSync(path.join(dir, 'damaged-run', 'meta.json'), 'utf8')).id === 'damaged-run' || undefined;
    } catch {
      return undefined;
    }
  }, 'the recovered meta written back');
  const { resumed } = await again.open({ id: 'damaged-run' });
  assert.equal(resumed, true);
  await again.dispose();
  cleanup();
});

test('two opens creating one new run id at once create it once: the second resumes the first', async () => {
  for (let i = 0; i < 20; i++) {
    const { dir, cleanup } = tempDir();
    const store = new RunStore(dir, { flushMs: 10 });
    const [a, b] = await Promise.all([store.open({ id: 'race', name: 'a' }), store.open({ id: 'race', name: 'b' })]);
    assert.equal(a.run, b.run, 'one Run object');
    assert.deepEqual([a.resumed, b.resumed], [false, true]);
    a.run.append([{ step: 0, values: { loss: 1 } }], [0]);
    await a.run.flush();
    assert.equal((await store.get('race'))!.lastSeq, 0);
    await store.dispose();
    cleanup();
  }
});

test('every log of a run starts on a fresh line after a torn one, so the next record is kept', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir, { flushMs: 10 });
  const { run } = await store.open({ id: 'torn-logs', name: 'torn' });
  run.append([{ step: 0, values: { loss: 1 } }], [0]);
  await run.flush();
  await store.dispose();
  for (const file of ['metrics.jsonl', 'events.jsonl', 'distributions.jsonl', 'alerts.jsonl']) {
    appendFileSync(path.join(dir, 'torn-logs', file), '{"torn":tr'); // a crash in the middle of a write
  }
  const again = new RunStore(dir, { flushMs: 10 });
  const resumed = (await again.get('torn-logs'))!;
  resumed.append([{ step: 1, values: { loss: 0.5 } }], [1]);
  resumed.appendEvent({ type: 'event', level: 'info', message: 'after the crash' });
  resumed.appendDistribution({ type: 'distribution', step: 1, name: 'sa/l', edges: [0, 1], counts: [3] });
  resumed.appendAlert({ id: 'a1', kind: 'loss-spike', closed: true, values: {} });
  await resumed.flush();
  const read = (file: string) => parseJsonLines<Record<string, unknown>>(readFileSync(path.join(dir, 'torn-logs', file), 'utf8'));
  assert.deepEqual(read('metrics.jsonl').items.map((r) => r.step), [0, 1]);
  assert.deepEqual(read('events.jsonl').items.map((r) => r.message), ['after the crash']);
  assert.deepEqual(read('distributions.jsonl').items.map((r) => r.name), ['sa/l']);
  assert.deepEqual(read('alerts.jsonl').items.map((r) => r.id), ['a1']);
  for (const file of ['metrics.jsonl', 'events.jsonl', 'distributions.jsonl', 'alerts.jsonl']) assert.equal(read(file).problems.length, 1, `${file}: only the torn fragment is skipped`);
  await again.dispose();
  cleanup();
});
