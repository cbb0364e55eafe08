// A full disk: the trainer is told, rows stay in memory unacknowledged, and once space returns
// they land on disk in order, none lost and none twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Hub } from '../../src/hub/hub';
import { RunStore } from '../../src/store/runStore';
import { nodeSink, type FileSink } from '../../src/store/appendLog';
import { parseJsonLines } from '../../src/store/jsonLines';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { tempDir, waitFor } from '../helpers/tmp';

async function fillUntilFull(t: TestTrainer, hub: Hub): Promise<number> {
  const diskError = t.next('error', 20_000);
  let seq = 0;
  let full = false;
  void diskError.then(() => (full = true), () => undefined);
  while (!full && seq < 200_000) {
    t.send({ type: 'scalars', seq, rows: rows(seq, 500, 20) });
    seq += 500;
    await new Promise((r) => setTimeout(r, 5));
  }
  const err = await diskError;
  assert.equal(err.code, 'disk');
  assert.match(err.message, /the disk is full; rows are kept in memory and retried/);
  assert.ok(hub.liveRunIds().length === 1, 'the session lives on');
  return seq;
}

function stepsOnDisk(file: string): number[] {
  return parseJsonLines<{ step: number }>(readFileSync(file, 'utf8')).items.map((r) => r.step);
}

test('a full disk (a tiny tmpfs) loses nothing once space returns', async () => {
  const { dir, cleanup } = tempDir();
  const mountPoint = path.join(dir, 'tiny');
  mkdirSync(mountPoint);
  // Root is needed to mount; CI runs as root on this machine kind, so this never silently skips.
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', mountPoint]);
  const store = new RunStore(mountPoint, { flushMs: 20 });
  const hub = new Hub({ store });
  await hub.listen();
  try {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('tmpfs');
    const sent = await fillUntilFull(t, hub);
    execFileSync('mount', ['-o', 'remount,size=64m', mountPoint]);
    const lastAck = await waitFor(() => {
      const acks = t.received.filter((f) => f.type === 'ack');
      const last = acks[acks.length - 1];
      return last && last.type === 'ack' && last.seq === sent - 1 ? last : undefined;
    }, 'every row to be acknowledged after space returned', 15_000);
    assert.equal(lastAck.seq, sent - 1);
    const steps = stepsOnDisk(path.join(mountPoint, runId, 'metrics.jsonl'));
    const firstGap = steps.findIndex((s, i) => s !== i);
    assert.equal(firstGap, -1, `first gap or repeat at index ${firstGap}: ${steps.slice(Math.max(0, firstGap - 2), firstGap + 3)}`);
    assert.equal(steps.length, sent);
    await t.close();
  } finally {
    await hub.close();
    await store.dispose();
    execFileSync('umount', [mountPoint]);
    cleanup();
  }
});

test('a failing write at the file-system boundary (ENOSPC) is reported and retried', async () => {
  const { dir, cleanup } = tempDir();
  let diskFull = false;
  const sink: FileSink = {
    appendFile: async (p, data) => {
      if (diskFull && p.endsWith('metrics.jsonl')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return nodeSink.appendFile(p, data);
    },
  };
  const store = new RunStore(dir, { flushMs: 20, sink });
  const hub = new Hub({ store });
  await hub.listen();
  const t = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await t.hello('enospc');
  const ack = t.next('ack');
  t.send({ type: 'scalars', seq: 0, rows: rows(0, 10) });
  assert.equal((await ack).seq, 9);
  diskFull = true;
  const err = t.next('error');
  t.send({ type: 'scalars', seq: 10, rows: rows(10, 10) });
  assert.equal((await err).code, 'disk');
  const run = (await store.get(runId))!;
  assert.equal(run.rowCount, 20, 'the rows are in memory');
  assert.equal(run.storeFailing, true);
  diskFull = false;
  const after = await waitFor(() => t.received.find((f) => f.type === 'ack' && f.seq === 19), 'the retried write', 5000);
  assert.ok(after);
  assert.deepEqual(stepsOnDisk(path.join(dir, runId, 'metrics.jsonl')), Array.from({ length: 20 }, (_, i) => i));
  await t.close();
  await hub.close();
  await store.dispose();
  cleanup();
});
