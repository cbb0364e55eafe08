// `lossradar serve` as a separate process under the faults that used to kill it: overlapping ends,
// a full disk while a run ends, a backlog larger than the space that comes back, a hub killed
// without cleaning up its discovery entry. It must live on, lose nothing and say nothing internal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseJsonLines } from '../../src/store/jsonLines';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { startServe, type ServeProcess } from '../helpers/serveProcess';
import { tempDir, waitFor } from '../helpers/tmp';

const lastAck = (t: TestTrainer) => {
  const acks = t.received.filter((f) => f.type === 'ack');
  return acks.length ? (acks[acks.length - 1] as { seq: number }).seq : -1;
};
const metaOf = (runs: string, runId: string) => JSON.parse(readFileSync(path.join(runs, runId, 'meta.json'), 'utf8')) as { status: string };
const seqsOf = (runs: string, runId: string) =>
  parseJsonLines<{ seq: number }>(readFileSync(path.join(runs, runId, 'metrics.jsonl'), 'utf8')).items.map((r) => r.seq);

/** A tmpfs of `size` at a fresh folder (root is needed to mount; CI runs as root on this machine kind). */
function tinyDisk(size: string): { mountPoint: string; done: () => void } {
  const { dir, cleanup } = tempDir();
  const mountPoint = path.join(dir, 'disk');
  mkdirSync(mountPoint);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mountPoint]);
  return {
    mountPoint,
    done: () => {
      execFileSync('umount', [mountPoint]);
      cleanup();
    },
  };
}

/**
 * Fills the rest of a disk with 256 KiB files, then 4 KiB ones (a tmpfs page), largest first;
 * returns them, so space can be given back piece by piece.
 */
function fill(folder: string): string[] {
  const files: string[] = [];
  for (const size of [256 * 1024, 4096]) {
    const block = Buffer.alloc(size, 1);
    for (;;) {
      const file = path.join(folder, `filler-${files.length}`);
      try {
        writeFileSync(file, block);
        files.push(file);
      } catch {
        rmSync(file, { force: true });
        break;
      }
    }
  }
  return files;
}

test('two end frames on one connection, 40 times over: serve lives on and every meta.json says completed', async () => {
  const { dir, cleanup } = tempDir();
  const hub = await startServe(['--runs', dir]);
  for (let i = 0; i < 40; i++) {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello(`ends-${i}`);
    t.send({ type: 'scalars', seq: 0, rows: rows(0, 5) });
    t.send({ type: 'end', status: 'completed', error: null });
    t.send({ type: 'end', status: 'completed', error: null });
    assert.equal((await t.next('error')).code, 'already-ended');
    await t.close();
    await waitFor(() => {
      try {
        return metaOf(dir, runId).status === 'completed' || undefined;
      } catch {
        return undefined;
      }
    }, `run ${i} completed on disk`);
  }
  assert.equal(hub.exited(), false);
  assert.equal(await hub.stop(), 0);
  assert.equal(readdirSync(dir).length, 40);
  for (const id of readdirSync(dir)) assert.deepEqual(readdirSync(path.join(dir, id)).filter((f) => f.endsWith('.tmp')), [], `no temporary file left in ${id}`);
  cleanup();
});

/**
 * `lossradar serve` storing on a tmpfs of `size`, a trainer whose first 10 rows are on disk, then
 * `body`; serve must exit cleanly (and say nothing internal) at the end.
 */
async function serveOnTinyDisk(size: string, name: string, body: (t: TestTrainer, runId: string, runs: string, hub: ServeProcess) => Promise<void>): Promise<void> {
  const disk = tinyDisk(size);
  try {
    const hub = await startServe(['--runs', disk.mountPoint]);
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello(name);
    t.send({ type: 'scalars', seq: 0, rows: rows(0, 10) });
    await waitFor(() => lastAck(t) === 9 || undefined, 'the first rows');
    await body(t, runId, disk.mountPoint, hub);
    await t.close();
    assert.equal(await hub.stop(), 0);
  } finally {
    disk.done();
  }
}

test('a full disk while a run ends: serve lives on, says so, and writes the rows and the end once space returns', async () => {
  await serveOnTinyDisk('1m', 'enospc-end', async (t, runId, runs, hub) => {
    const filler = fill(runs);
    const diskError = t.next('error');
    t.send({ type: 'scalars', seq: 10, rows: rows(10, 500, 10) });
    t.send({ type: 'end', status: 'completed', error: null });
    const err = await diskError;
    assert.equal(err.code, 'disk');
    assert.match(err.message, /the disk is full; rows are kept in memory and retried/);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(hub.exited(), false, 'serve is alive');
    for (const f of filler) rmSync(f);
    await waitFor(() => lastAck(t) === 509 || undefined, 'every row acknowledged once space returned', 10_000);
    await waitFor(() => metaOf(runs, runId).status === 'completed' || undefined, 'the end on disk', 5000);
    assert.deepEqual(seqsOf(runs, runId), Array.from({ length: 510 }, (_, i) => i));
  });
});

test('a backlog larger than the space that comes back still lands chunk by chunk', async () => {
  await serveOnTinyDisk('6m', 'chunks', async (t, runId, runs) => {
    const filler = fill(runs);
    // About 4 MiB of rows wait in memory for a disk that has none to spare.
    let seq = 10;
    const diskError = t.next('error');
    for (let i = 0; i < 16; i++, seq += 500) t.send({ type: 'scalars', seq, rows: rows(seq, 500, 20) });
    assert.equal((await diskError).code, 'disk');
    const before = lastAck(t);
    // 2 MiB come back: less than the backlog, so only a write in chunks makes progress.
    for (const f of filler.slice(0, 8)) rmSync(f);
    await waitFor(() => lastAck(t) > before + 1000 || undefined, 'part of the backlog to land in the 2 MiB given back', 10_000);
    assert.ok(lastAck(t) < seq - 1, 'not all of it fits');
    for (const f of filler.slice(8)) rmSync(f);
    await waitFor(() => lastAck(t) === seq - 1 || undefined, 'the rest once space returns', 10_000);
    assert.deepEqual(seqsOf(runs, runId), Array.from({ length: seq }, (_, i) => i));
  });
});

test('a hub removes its discovery entry on exit, and the next hub prunes the entry of one killed with SIGKILL', async () => {
  const { dir, cleanup } = tempDir();
  const discovery = path.join(dir, 'hubs');
  const args = ['--runs', path.join(dir, 'runs'), '--folder', dir, '--discovery-dir', discovery];
  const polite = await startServe(args);
  assert.equal(readdirSync(discovery).length, 1);
  assert.equal(await polite.stop('SIGTERM'), 0);
  assert.deepEqual(readdirSync(discovery), [], 'removed on SIGTERM');
  const killed = await startServe(args);
  const left = readdirSync(discovery);
  assert.equal(left.length, 1);
  await killed.stop('SIGKILL');
  assert.ok(existsSync(path.join(discovery, left[0])), 'SIGKILL leaves the entry, with its token');
  const next = await startServe(args);
  const now = readdirSync(discovery);
  assert.equal(now.length, 1);
  assert.notEqual(now[0], left[0], 'the dead hub’s entry is gone');
  assert.equal(await next.stop('SIGINT'), 0);
  assert.deepEqual(readdirSync(discovery), []);
  cleanup();
});
