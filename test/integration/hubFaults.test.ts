// The hub under faults and hostile input (issue 15): nothing it accepted is lost or stored twice,
// nothing refused is acknowledged, and every bad input gets a clear answer while the hub lives on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Hub, type HubOptions } from '../../src/hub/hub';
import { nodeSink, type FileSink } from '../../src/store/appendLog';
import { parseJsonLines } from '../../src/store/jsonLines';
import { RunStore } from '../../src/store/runStore';
import type { Run } from '../../src/store/run';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { tempDir, waitFor } from '../helpers/tmp';

async function withHub(options: Partial<HubOptions> & { sink?: FileSink }, body: (hub: Hub, store: RunStore, problems: string[]) => Promise<void>): Promise<void> {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir, { flushMs: 10, sink: options.sink });
  const hub = new Hub({ store, ...options });
  const problems: string[] = [];
  hub.on('problem', (p) => problems.push(p));
  await hub.listen();
  try {
    await body(hub, store, problems);
  } finally {
    await hub.close();
    await store.dispose();
    cleanup();
  }
  assert.deepEqual(problems.filter((p) => p.includes('internal error')), []);
}

/** A sink whose metrics appends fail with ENOSPC while `full` is set, as a full disk's would. */
function fullDisk(): { sink: FileSink; full: boolean } {
  const disk = {
    full: false,
    sink: {
      ...nodeSink,
      appendFile: async (p: string, data: string) => {
        if (disk.full && p.endsWith('metrics.jsonl')) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return nodeSink.appendFile(p, data);
      },
    } as FileSink,
  };
  return disk;
}

const seqsOnDisk = (store: RunStore, runId: string) =>
  parseJsonLines<{ seq?: number }>(readFileSync(path.join(store.dir, runId, 'metrics.jsonl'), 'utf8')).items.map((r) => r.seq);
const lastAck = (t: TestTrainer) => {
  const acks = t.received.filter((f) => f.type === 'ack');
  return acks.length ? (acks[acks.length - 1] as { seq: number }).seq : -1;
};

test('two hellos creating the same new run id at once: one wins, the other is busy, nothing is stored twice', async () => {
  await withHub({}, async (hub, store) => {
    for (let i = 0; i < 20; i++) {
      const runId = `race-${i}`;
      const [a, b] = await Promise.all([TestTrainer.connect(hub.url, hub.token), TestTrainer.connect(hub.url, hub.token)]);
      const answers = [a, b].map((t) => Promise.race([t.next('welcome').then(() => 'welcome'), t.next('error').then((e) => e.code)]));
      a.send({ type: 'hello', protocol: 1, runId });
      b.send({ type: 'hello', protocol: 1, runId });
      const got = await Promise.all(answers);
      assert.deepEqual([...got].sort(), ['run-busy', 'welcome'], `race ${i}: ${got}`);
      const winner = got[0] === 'welcome' ? a : b;
      winner.send({ type: 'scalars', seq: 0, rows: rows(0, 30) });
      await waitFor(() => lastAck(winner) === 29 || undefined, 'the winner’s rows acknowledged');
      await Promise.all([a.close(), b.close()]);
      await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
      const c = await TestTrainer.connect(hub.url, hub.token);
      assert.equal((await c.hello('again', { runId })).lastSeq, 29, 'the resume knows every stored row');
      c.send({ type: 'scalars', seq: 0, rows: rows(0, 40) }); // the client re-sends from the start
      await waitFor(() => lastAck(c) === 39 || undefined, 'the re-sent rows');
      await c.close();
      await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
      assert.deepEqual(seqsOnDisk(store, runId), Array.from({ length: 40 }, (_, k) => k));
    }
  });
});

test('frames sent right after hello, before the welcome, are applied in order once the run is bound', async () => {
  await withHub({}, async (hub, store) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const welcome = t.next('welcome');
    t.send({ type: 'hello', protocol: 1, run: { name: 'eager' } });
    t.send({ type: 'scalars', seq: 0, rows: rows(0, 10) });
    t.send({ type: 'event', level: 'info', message: 'early event' });
    t.send({ type: 'scalars', seq: 10, rows: rows(10, 10) });
    const { runId } = await welcome;
    await waitFor(() => lastAck(t) === 19 || undefined, 'the early rows acknowledged');
    assert.deepEqual(t.received.filter((f) => f.type === 'error'), []);
    await t.close();
    await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
    assert.deepEqual(seqsOnDisk(store, runId), Array.from({ length: 20 }, (_, k) => k));
  });
});

test('frames sent while a large run is being resumed wait for it, and none is refused', async () => {
  const { dir, cleanup } = tempDir();
  const first = new RunStore(dir, { flushMs: 10 });
  const { run } = await first.open({ id: 'big-resume', name: 'big' });
  for (let s = 0; s < 200_000; s += 1000) run.append(rows(s, 1000, 5), Array.from({ length: 1000 }, (_, k) => s + k));
  await run.flush();
  await first.dispose();
  const store = new RunStore(dir, { flushMs: 10 });
  const hub = new Hub({ store });
  await hub.listen();
  const t = await TestTrainer.connect(hub.url, hub.token);
  const welcome = t.next('welcome', 30_000);
  t.send({ type: 'hello', protocol: 1, runId: 'big-resume' });
  t.send({ type: 'scalars', seq: 200_000, rows: rows(200_000, 5, 5) });
  assert.equal((await welcome).lastSeq, 199_999);
  await waitFor(() => lastAck(t) === 200_004 || undefined, 'the early rows acknowledged', 10_000);
  assert.deepEqual(t.received.filter((f) => f.type === 'error'), []);
  await t.close();
  await hub.close();
  await store.dispose();
  cleanup();
});

test('a second end on one connection is refused clearly; the first stands and the hub lives on', async () => {
  await withHub({}, async (hub, store) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('twice');
    const err = t.next('error');
    t.send({ type: 'end', status: 'completed', error: null });
    t.send({ type: 'end', status: 'failed', error: 'again' });
    assert.equal((await err).code, 'already-ended');
    await waitFor(() => JSON.parse(readFileSync(path.join(store.dir, runId, 'meta.json'), 'utf8')).status === 'completed' || undefined, 'the end on disk');
    await t.close();
  });
});

test('300 frames carrying dropped counts leave a parsable meta.json with their sum', async () => {
  await withHub({}, async (hub, store) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('dropping');
    for (let i = 0; i < 300; i++) t.send({ type: 'scalars', seq: i, dropped: 2, rows: rows(i, 1) });
    await waitFor(() => lastAck(t) === 299 || undefined, 'every row acknowledged');
    await t.close();
    await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
    await waitFor(() => {
      try {
        return JSON.parse(readFileSync(path.join(store.dir, runId, 'meta.json'), 'utf8')).droppedRows === 600 || undefined;
      } catch {
        return undefined;
      }
    }, 'meta.json with 600 dropped rows');
    assert.deepEqual((await new RunStore(store.dir).list()).map((r) => r.id), [runId]);
  });
});

test('a store that cannot keep up refuses with backpressure, acknowledges none of the refused rows, and takes them on reconnect', async () => {
  const disk = fullDisk();
  const sink = disk.sink;
  // Reading is never paused here, so the hard limit is what meets the flood.
  await withHub({ sink, maxBacklogBytes: 64 * 1024, pauseBacklogBytes: 1 << 30 }, async (hub, store) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('backpressure');
    t.send({ type: 'scalars', seq: 0, rows: rows(0, 10) });
    await waitFor(() => lastAck(t) === 9 || undefined, 'the first rows');
    disk.full = true;
    let seq = 10;
    while (t.ws.readyState === t.ws.OPEN && seq < 100_000) {
      t.send({ type: 'scalars', seq, rows: rows(seq, 100, 5) });
      seq += 100;
      await new Promise((r) => setTimeout(r, 2));
    }
    const { code } = await t.closed;
    assert.equal(code, 4507);
    const refusal = t.received.find((f) => f.type === 'error' && f.code === 'backpressure');
    assert.ok(refusal && refusal.type === 'error');
    assert.match(refusal.message, /MiB wait for the disk \(limit 0\.1 MiB\)(, which refuses writes)?; rows from seq \d+ were not stored: reconnect later/);
    const run = (await store.get(runId))!;
    const kept = run.lastSeq!;
    assert.ok(kept < seq - 1, 'later rows were refused');
    disk.full = false;
    // Writable again is not drained: a frame that finds the old backlog still over the limit is refused.
    await waitFor(() => (!run.storeFailing && run.backlogBytes === 0) || undefined, 'the disk to take the backlog', 60_000);
    const again = await TestTrainer.connect(hub.url, hub.token);
    assert.equal((await again.hello('backpressure', { runId })).lastSeq, kept);
    // One frame at a time, each once the last is acknowledged: reading is never paused here, so a
    // re-send all at once could meet the 64 KiB limit again on a slow disk (the case above).
    for (let from = kept + 1; from < seq; from += 1000) {
      const last = Math.min(from + 1000, seq) - 1;
      again.send({ type: 'scalars', seq: from, rows: rows(from, last - from + 1, 5) });
      await waitFor(() => lastAck(again) === last || undefined, `the re-sent rows up to seq ${last}`, 60_000);
    }
    assert.equal(again.received.some((f) => f.type === 'error'), false);
    await again.close();
    await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
    assert.deepEqual(seqsOnDisk(store, runId), Array.from({ length: seq }, (_, k) => k));
    assert.ok(Math.max(...t.received.filter((f) => f.type === 'ack').map((f) => (f as { seq: number }).seq)) <= kept, 'no ack covers a refused row');
  });
});

test('a backlog over the pause mark stops reading the trainer (TCP holds its frames) until the disk drains it; nothing is refused or lost', async () => {
  const disk = fullDisk();
  const sink = disk.sink;
  await withHub({ sink, heartbeatMs: 100, pauseBacklogBytes: 32 * 1024, maxBacklogBytes: 64 * 1024 * 1024 }, async (hub, store) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('paused');
    disk.full = true;
    const frames = 200;
    for (let i = 0; i < frames; i++) t.send({ type: 'scalars', seq: i * 100, rows: rows(i * 100, 100, 5) });
    assert.equal((await t.next('error')).code, 'disk');
    const run = (await store.get(runId))!;
    await waitFor(() => (run.rowCount > 0 ? true : undefined), 'the first rows read');
    // Paused well past two heartbeat intervals: the trainer is not dropped for pongs the hub did not read.
    await new Promise((r) => setTimeout(r, 600));
    assert.ok(run.rowCount < frames * 100, `reading paused at ${run.rowCount} rows`);
    assert.equal(t.ws.readyState, t.ws.OPEN);
    disk.full = false;
    await waitFor(() => lastAck(t) === frames * 100 - 1 || undefined, 'every row once the disk takes them', 15_000);
    assert.equal(t.received.some((f) => f.type === 'error' && f.code === 'backpressure'), false);
    await t.close();
    await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
    assert.deepEqual(seqsOnDisk(store, runId), Array.from({ length: frames * 100 }, (_, k) => k));
  });
});

test('odd names and numbers are refused clearly, never dropped silently: __proto__, seq ≥ 2^53, step 1e308', async () => {
  await withHub({}, async (hub, store) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('odd');
    const protoErr = t.next('error');
    t.send('{"type":"scalars","seq":0,"rows":[{"step":0,"values":{"loss":1}},{"step":1,"values":{"__proto__":2,"loss":1}}]}');
    assert.match((await protoErr).message, /rows\[1\]\.values\.__proto__: "__proto__" is a reserved key/);
    const seqErr = t.next('error');
    t.send({ type: 'scalars', seq: 2 ** 53, rows: rows(2, 1) });
    assert.match((await seqErr).message, /^seq: expected integer from 0 to 2\^53/);
    const stepErr = t.next('error');
    t.send({ type: 'scalars', seq: 2, rows: [{ step: 1e308, values: { loss: 1 } }] });
    assert.match((await stepErr).message, /rows\[0\]\.step: expected integer from 0 to 2\^53 − 1, got 1e\+308/);
    t.send({ type: 'scalars', seq: 3, rows: rows(3, 2) });
    await waitFor(() => lastAck(t) === 4 || undefined, 'later rows stored');
    await t.close();
    await waitFor(() => hub.sessionFor(runId) === undefined || undefined, 'the session to end');
    assert.deepEqual(seqsOnDisk(store, runId), [0, 3, 4]);
  });
});

test('a socket that authenticates and never says hello is closed at the hello deadline', async () => {
  await withHub({ helloTimeoutMs: 300 }, async (hub) => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const started = performance.now();
    const err = t.next('error');
    assert.equal((await err).code, 'no-hello');
    assert.equal((await t.closed).code, 4408);
    // At the deadline, not before it (a timer never fires early; a loaded machine only makes it later).
    assert.ok(performance.now() - started >= 290, `closed after ${performance.now() - started} ms`);
  });
});

test('connections beyond the cap are refused with 503, and refusals are logged at a bounded rate', async () => {
  await withHub({ maxConnections: 3 }, async (hub, _store, problems) => {
    const held = await Promise.all([0, 1, 2].map(() => TestTrainer.connect(hub.url, hub.token)));
    await waitFor(() => (hub as unknown as { sessions: Set<unknown> }).sessions.size === 3 || undefined, 'three sessions');
    assert.equal(await TestTrainer.refusedStatus(hub.url, { Authorization: `Bearer ${hub.token}` }), 503);
    for (let i = 0; i < 50; i++) assert.equal(await TestTrainer.refusedStatus(hub.url, { Authorization: 'Bearer wrong' }), 401);
    assert.equal(problems.filter((p) => p.includes('wrong token')).length, 1, problems.join('\n'));
    await Promise.all(held.map((t) => t.close()));
    await waitFor(() => (hub as unknown as { sessions: Set<unknown> }).sessions.size === 0 || undefined, 'the sessions to end');
    const t = await TestTrainer.connect(hub.url, hub.token);
    await t.hello('after-cap');
    await t.close();
  });
});

test('a trainer killed with SIGKILL is recorded as interrupted as soon as its process is gone, and the views are told', async () => {
  await withHub({ reconnectWindowMs: 60_000 }, async (hub, store) => {
    // A real trainer process: a `ws` client in its own node, killed without a chance to say end.
    const script = `
      const { WebSocket } = require(${JSON.stringify(require.resolve('ws'))});
      const ws = new WebSocket(process.argv[1], { headers: { Authorization: 'Bearer ' + process.argv[2] } });
      ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', protocol: 1, run: { name: 'killed' }, pid: process.pid, host: require('os').hostname() })));
      ws.on('message', (d) => { if (JSON.parse(d).type === 'welcome') ws.send(JSON.stringify({ type: 'scalars', seq: 0, rows: [{ step: 0, values: { loss: 1 } }] })); });
      setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script, hub.url, hub.token], { stdio: 'ignore' });
    const started = await new Promise<Run>((resolve) => hub.once('runStarted', (run) => resolve(run)));
    await waitFor(() => started.rowCount === 1 || undefined, 'the trainer’s first row');
    const ended = new Promise<Run>((resolve) => store.once('status', (run) => resolve(run)));
    child.kill('SIGKILL');
    const run = await ended;
    assert.equal(run.id, started.id);
    assert.equal(run.status, 'interrupted');
    assert.match(run.meta.error!, /its trainer \(pid \d+\) ended without finishing the run/);
    await waitFor(() => JSON.parse(readFileSync(path.join(store.dir, run.id, 'meta.json'), 'utf8')).status === 'interrupted' || undefined, 'meta.json');
  });
});

test('a trainer on another host that drops is interrupted after the reconnect window, unless it comes back in time', async () => {
  await withHub({ reconnectWindowMs: 400 }, async (hub, store) => {
    const hello = { host: 'gpu-box-elsewhere', pid: 4242 };
    const back = await TestTrainer.connect(hub.url, hub.token);
    const { runId: returning } = await back.hello('returns', hello);
    back.ws.terminate();
    await new Promise((r) => setTimeout(r, 150));
    const again = await TestTrainer.connect(hub.url, hub.token);
    await again.hello('returns', { ...hello, runId: returning });
    const gone = await TestTrainer.connect(hub.url, hub.token);
    const { runId: vanishing } = await gone.hello('vanishes', hello);
    gone.ws.terminate();
    await waitFor(async () => (await store.get(vanishing))!.status === 'interrupted' || undefined, 'the vanished run interrupted', 3000);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await store.get(returning))!.status, 'running', 'the run that came back is live');
    await again.close();
  });
});
