// A run's status has one writer, the Run (docs/protocol.md "Run status"): these specify its
// transitions and that the store says each one exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import { RunStore } from '../../src/store/runStore';
import type { RunStatus } from '../../src/store/meta';
import { tempDir } from '../helpers/tmp';

const onDisk = (dir: string) => JSON.parse(readFileSync(path.join(dir, 'meta.json'), 'utf8')) as { status: RunStatus; error: string | null; stopRequestedAt: number | null };

function statusLog(store: RunStore): string[] {
  const seen: string[] = [];
  store.on('status', (run) => seen.push(`${run.id}:${run.status}`));
  return seen;
}

test('a run asked to stop is recorded as stopped, even when its script then says completed', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const seen = statusLog(store);
  const { run } = await store.open({ id: 'r1', name: 'r1', pid: process.pid, host: os.hostname() });
  await run.requestStop();
  assert.equal(run.status, 'running', 'asking does not end it');
  await run.end('completed', null);
  assert.equal(run.status, 'stopped');
  assert.equal(onDisk(run.dir).status, 'stopped');
  assert.deepEqual(seen, ['r1:stopped'], 'one status event per change');
  await store.dispose();
  cleanup();
});

test('a resumed run that had ended starts afresh: an old stop request does not stop its new life', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const seen = statusLog(store);
  const { run } = await store.open({ id: 'r2', name: 'r2', pid: process.pid, host: os.hostname() });
  await run.requestStop();
  await run.end('completed', null);
  await store.open({ id: 'r2', pid: process.pid, host: os.hostname() });
  assert.equal(run.status, 'running');
  await run.end('completed', null);
  assert.equal(run.status, 'completed');
  assert.deepEqual(seen, ['r2:stopped', 'r2:running', 'r2:completed']);
  await store.dispose();
  cleanup();
});

test('a later end with better knowledge replaces interrupted (a launcher’s exit status), and keeps when it first ended', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const { run } = await store.open({ id: 'r3', name: 'r3', pid: process.pid, host: os.hostname() });
  await run.end('interrupted', 'its trainer disconnected');
  const endedAt = run.meta.endedAt;
  await run.end('failed', 'Traceback …', { exit: { code: 1, signal: null } });
  assert.equal(run.status, 'failed');
  assert.equal(run.meta.endedAt, endedAt);
  assert.deepEqual(run.meta.exit, { code: 1, signal: null });
  await store.dispose();
  cleanup();
});

test('a run on disk recorded as running whose process is gone is listed, and written, as interrupted', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  // A pid that existed and is gone: a child that has exited and been reaped.
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const { run } = await store.open({ id: 'r4', name: 'killed', pid: Number(dead.stdout), host: os.hostname() });
  run.append([{ step: 0, values: { loss: 1 } }], [0]);
  await store.dispose();
  assert.equal(onDisk(path.join(dir, 'r4')).status, 'running', 'as the killed script left it');
  const fresh = new RunStore(dir);
  const listed = await fresh.list();
  assert.equal(listed.find((r) => r.id === 'r4')?.status, 'interrupted');
  await fresh.flushAll();
  const meta = onDisk(path.join(dir, 'r4'));
  assert.equal(meta.status, 'interrupted');
  assert.match(meta.error!, /ended without finishing the run/);
  await fresh.dispose();
  cleanup();
});

test('a run of another host keeps the status it recorded: its process cannot be checked from here', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  await store.open({ id: 'r5', name: 'remote', pid: 1, host: 'gpu-box-elsewhere' });
  await store.dispose();
  writeFileSync(path.join(dir, 'r5', 'metrics.jsonl'), '{"step":0,"loss":1}\n');
  const listed = await new RunStore(dir).list();
  assert.equal(listed[0].status, 'running');
  cleanup();
});
