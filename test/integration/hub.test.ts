// The hub against real `ws` clients and raw sockets on loopback: every bad input of the foundation
// issue gets a clear answer, and nothing a trainer sent and the hub accepted is lost.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as os from 'node:os';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Hub } from '../../src/hub/hub';
import { MAX_FRAME_BYTES } from '../../src/protocol/wire';
import { RunStore } from '../../src/store/runStore';
import { parseJsonLines } from '../../src/store/jsonLines';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { rawUpgrade, textFrame } from '../helpers/rawSocket';
import { tempDir, waitFor } from '../helpers/tmp';

function metricsOnDisk(store: RunStore, runId: string): { step: number; seq?: number; loss?: unknown }[] {
  return parseJsonLines<{ step: number; seq?: number }>(readFileSync(path.join(store.dir, runId, 'metrics.jsonl'), 'utf8')).items;
}

describe('hub', () => {
  let hub: Hub;
  let store: RunStore;
  let cleanup: () => void;
  const problems: string[] = [];

  before(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    store = new RunStore(tmp.dir, { flushMs: 20 });
    hub = new Hub({ store, heartbeatMs: 200, maxBufferedBytes: 64 * 1024 });
    hub.on('problem', (p) => problems.push(p));
    await hub.listen();
  });

  /** The hub flushes a run when its connection ends: wait for that, not for the client's side. */
  const sessionEnded = (runId: string) => waitFor(() => hub.sessionFor(runId) === undefined || undefined, `run ${runId}'s session to end`);

  after(async () => {
    await hub.close();
    await store.dispose();
    cleanup();
  });

  test('listens on 127.0.0.1 only; other addresses of this machine refuse the connection', async () => {
    assert.equal(hub.address, '127.0.0.1');
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of others) {
      const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
        const socket = net.connect({ host: address, port: hub.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve(null);
        });
        socket.once('error', resolve);
      });
      assert.ok(err, `connected through ${address}`);
      assert.equal(err.code, 'ECONNREFUSED');
    }
  });

  test('an upgrade without a token, with a wrong token, or from a browser origin is refused', async () => {
    assert.equal(await TestTrainer.refusedStatus(hub.url, {}), 401);
    assert.equal(await TestTrainer.refusedStatus(hub.url, { Authorization: 'Bearer nope' }), 401);
    assert.equal(await TestTrainer.refusedStatus(hub.url, { Authorization: `Basic ${hub.token}` }), 401);
    assert.equal(await TestTrainer.refusedStatus(hub.url, { Authorization: `Bearer ${hub.token}`, Origin: 'https://evil.example' }), 403);
    assert.ok(problems.some((p) => p.includes('wrong token')));
  });

  test('scalars land in memory and on disk, are acknowledged once written, NaN included', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const welcome = await t.hello('basic');
    assert.equal(welcome.lastSeq, null);
    const ack = t.next('ack');
    t.send({ type: 'scalars', seq: 0, rows: [...rows(0, 3), { step: 3, values: { loss: 'NaN', grad_norm: 'Infinity' } }] });
    assert.equal((await ack).seq, 3);
    const run = (await store.get(welcome.runId))!;
    assert.equal(run.rowCount, 4);
    assert.ok(Number.isNaN(run.series.get('loss')!.last()!.value));
    const disk = metricsOnDisk(store, welcome.runId);
    assert.equal(disk.length, 4);
    assert.equal(disk[3].loss, 'NaN');
    await t.close();
  });

  test('a bad frame gets an error frame and the session lives on', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    t.send({ type: 'scalars', rows: [] });
    assert.equal((await t.next('error')).code, 'not-hello');
    const { runId } = await t.hello('bad-frames');
    const cases: [unknown, string, RegExp][] = [
      ['{"type":"scalars","rows":[', 'invalid-json', /invalid JSON/],
      [{ type: 'gossip' }, 'unknown-type', /unknown frame type "gossip"/],
      [{ type: 'scalars', rows: [{ step: 1, values: { loss: 'low' } }] }, 'invalid-frame', /rows\[0\]\.values\.loss: expected number or "NaN"\/"Infinity"\/"-Infinity", got string "low"/],
      [{ type: 'scalars', rows: [{ step: 1, values: { step: 3 } }] }, 'invalid-frame', /rows\[0\]\.values\.step: "step" is a reserved key/],
      [{ type: 'scalars', rows: rows(0, 10_000, 1) }, 'too-many-rows', /10000 rows exceed the limit of 1000/],
    ];
    for (const [frame, code, message] of cases) {
      const err = t.next('error');
      t.send(frame);
      const got = await err;
      assert.equal(got.code, code);
      assert.match(got.message, message);
    }
    const binary = t.next('error');
    t.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await binary).code, 'binary-frame');
    const ack = t.next('ack');
    t.send({ type: 'scalars', seq: 0, rows: rows(5, 2) });
    assert.equal((await ack).seq, 1, 'still ingesting after every refusal');
    assert.equal(metricsOnDisk(store, runId).length, 2);
    await t.close();
  });

  test('a row whose step goes backwards is refused alone; equal steps are fine', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('backwards');
    const err = t.next('error');
    t.send({ type: 'scalars', rows: [{ step: 10, values: { loss: 1 } }, { step: 10, values: { 'loss/val': 2 } }, { step: 4, values: { loss: 3 } }, { step: 11, values: { loss: 4 } }] });
    const got = await err;
    assert.equal(got.code, 'step-backwards');
    assert.equal(got.message, 'rows[2].step: 4 goes backwards (last step 10) (1 row refused)');
    await t.close();
    await sessionEnded(runId);
    assert.deepEqual(metricsOnDisk(store, runId).map((r) => r.step), [10, 10, 11]);
  });

  test('a frame over 4 MiB closes the connection with 1009', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    await t.hello('big');
    t.send('x'.repeat(MAX_FRAME_BYTES + 1));
    assert.equal((await t.closed).code, 1009);
  });

  test('two clients claiming one run: the second is refused with run-busy and may retry later', async () => {
    const first = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await first.hello('claimed');
    const second = await TestTrainer.connect(hub.url, hub.token);
    const err = second.next('error');
    second.send({ type: 'hello', protocol: 1, runId });
    assert.equal((await err).code, 'run-busy');
    assert.equal((await second.closed).code, 4409);
    await first.close();
    await sessionEnded(runId);
    const third = await TestTrainer.connect(hub.url, hub.token);
    assert.equal((await third.hello('claimed', { runId })).runId, runId);
    await third.close();
  });

  test('a reconnecting client re-sending rows loses and duplicates nothing (by seq, and by step without seq)', async () => {
    const a = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await a.hello('resume');
    const ack = a.next('ack');
    a.send({ type: 'scalars', seq: 0, rows: rows(0, 5) });
    await ack;
    await a.close();
    const b = await TestTrainer.connect(hub.url, hub.token);
    const welcome = await b.hello('resume', { runId });
    assert.deepEqual([welcome.lastSeq, welcome.lastStep], [4, 4]);
    const ack2 = b.next('ack');
    b.send({ type: 'scalars', seq: 3, rows: rows(3, 5) }); // seq 3..7: 3 and 4 are re-sends
    assert.equal((await ack2).seq, 7);
    await b.close();
    await sessionEnded(runId);
    assert.deepEqual(metricsOnDisk(store, runId).map((r) => r.step), [0, 1, 2, 3, 4, 5, 6, 7]);

    const c = await TestTrainer.connect(hub.url, hub.token);
    await c.hello('resume', { runId });
    c.send({ type: 'scalars', rows: rows(6, 4) }); // no seq: steps 6, 7 are at or below the last stored step
    c.send({ type: 'end', status: 'completed', error: null });
    await waitFor(async () => (await store.get(runId))!.meta.status === 'completed' || undefined, 'end');
    await c.close();
    await sessionEnded(runId);
    assert.deepEqual(metricsOnDisk(store, runId).map((r) => r.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test('a TCP reset in the middle of a frame ends the session and keeps every complete frame', async () => {
    const socket = await rawUpgrade(hub.url, hub.token);
    socket.on('error', () => undefined);
    socket.write(textFrame(JSON.stringify({ type: 'hello', protocol: 1, run: { name: 'reset' }, pid: process.pid })));
    const runId = await waitFor(() => hub.liveRunIds().find((id) => id.includes('-reset-')), 'the run to start');
    socket.write(textFrame(JSON.stringify({ type: 'scalars', seq: 0, rows: rows(0, 50) })));
    await waitFor(async () => ((await store.get(runId))!.rowCount === 50 ? true : undefined), 'the first frame');
    const half = textFrame(JSON.stringify({ type: 'scalars', seq: 50, rows: rows(50, 50) }));
    socket.write(half.subarray(0, half.length >> 1));
    socket.resetAndDestroy();
    await sessionEnded(runId);
    assert.deepEqual(metricsOnDisk(store, runId).length, 50);
    // The hub serves the next client as before.
    const t = await TestTrainer.connect(hub.url, hub.token);
    assert.equal((await t.hello('after-reset', { runId })).lastSeq, 49);
    await t.close();
  });

  test('a client that never reads is dropped; the others go on', async () => {
    const healthy = await TestTrainer.connect(hub.url, hub.token);
    await healthy.hello('healthy-neighbour');
    const socket = await rawUpgrade(hub.url, hub.token);
    socket.on('error', () => undefined);
    socket.pause(); // never reads what the hub sends
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.write(textFrame(JSON.stringify({ type: 'hello', protocol: 1, run: { name: 'deaf' } })));
    // Every invalid frame earns an error frame the client never reads.
    const junk = textFrame('{"type":"scalars","rows":[{"step":"x"}]}');
    for (let burst = 0; burst < 400 && !socket.destroyed; burst++) {
      socket.write(Buffer.concat(Array.from({ length: 500 }, () => junk)));
      await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => problems.find((p) => p.includes('stopped reading')), 'the hub to drop the deaf client', 10_000);
    socket.resume();
    await closed;
    const ack = healthy.next('ack');
    healthy.send({ type: 'scalars', seq: 0, rows: rows(0, 1) });
    assert.equal((await ack).seq, 0);
    await healthy.close();
  });

  test('a peer that stops answering pings is dropped within two heartbeat intervals', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token, { autoPong: false });
    // Counted in heartbeats, not milliseconds: the hub's pings go unanswered, and it drops the peer
    // at the heartbeat after one it sent (a loaded machine makes the intervals longer, not more).
    let pings = 0;
    t.ws.on('ping', () => (pings += 1));
    const { runId } = await t.hello('silent');
    const { code } = await t.closed;
    assert.equal(code, 1006);
    assert.ok(pings >= 1 && pings <= 2, `dropped after ${pings} unanswered pings`);
    await sessionEnded(runId);
  });

  test('a stop command reaches the run’s trainer', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('stoppable');
    const command = t.next('command');
    assert.equal(hub.sendCommand(runId, 'stop'), true);
    assert.equal((await command).command, 'stop');
    assert.equal(hub.sendCommand('no-such-run', 'stop'), false);
    await t.close();
  });

  test('a run stopped from the editor is recorded as stopped when its script then finishes it as completed', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('stopped-by-user');
    const command = t.next('command');
    assert.equal(hub.sendCommand(runId, 'stop'), true);
    await command;
    // What the SDK does on a stop: the loop breaks and the script calls finish().
    const status = new Promise<string>((resolve) => hub.store.once('status', (run) => resolve(`${run.id}:${run.status}`)));
    t.send({ type: 'end', status: 'completed' });
    assert.equal(await status, `${runId}:stopped`);
    await t.close();
    await waitFor(() => JSON.parse(readFileSync(path.join(hub.store.dir, runId, 'meta.json'), 'utf8')).status === 'stopped' || undefined, 'meta.json saying stopped');
  });

  test('an unsupported protocol version is refused clearly', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const err = t.next('error');
    t.send({ type: 'hello', protocol: 2 });
    assert.equal((await err).message, 'hello.protocol: this hub speaks protocol 1, got 2');
    assert.equal((await t.closed).code, 4400);
  });
});

test('a hub asked for a taken port can fall back to a free one, or fail clearly', async () => {
  const { dir, cleanup } = tempDir();
  const store = new RunStore(dir);
  const first = new Hub({ store });
  await first.listen();
  const strict = new Hub({ store, port: first.port });
  await assert.rejects(strict.listen(), /EADDRINUSE/);
  const lenient = new Hub({ store, port: first.port, fallbackToFreePort: true });
  const { port } = await lenient.listen();
  assert.notEqual(port, first.port);
  await lenient.close();
  // A port freed while the new hub waits for it is taken: a reloaded window keeps its address.
  const taken = first.port;
  const patient = new Hub({ store, port: taken, portRetryMs: 3000 });
  const listening = patient.listen();
  setTimeout(() => void first.close(), 300);
  assert.equal((await listening).port, taken);
  await patient.close();
  cleanup();
});
