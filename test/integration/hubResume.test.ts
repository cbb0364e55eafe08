// Resuming a long run never holds the hub (docs/store.md "Nothing blocks"): while a trainer's hello
// for a run of a few hundred thousand values is being answered (its log read in chunks, its columns
// sealed as it goes), the hub keeps storing and acknowledging another run's frames and answering
// pings, with real `ws` clients on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { Hub } from '../../src/hub/hub';
import { RunStore } from '../../src/store/runStore';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { writeLargeRun } from '../helpers/largeRun';
import { tempDir } from '../helpers/tmp';

test('while a long run without columns resumes, another run streams, is acknowledged and pinged before the welcome', async () => {
  const { dir, cleanup } = tempDir();
  const ROWS = 40_000;
  await writeLargeRun(dir, 'long-run', ROWS, 20, { columns: false, nanAt: 30_000 });
  const store = new RunStore(dir, { flushMs: 20 });
  const hub = new Hub({ store, heartbeatMs: 2000 });
  const problems: string[] = [];
  hub.on('problem', (p) => problems.push(p));
  await hub.listen();
  const clients: TestTrainer[] = [];
  try {
    const other = await TestTrainer.connect(hub.url, hub.token);
    clients.push(other);
    await other.hello('other');

    const resuming = await TestTrainer.connect(hub.url, hub.token);
    clients.push(resuming);
    const helloAt = performance.now();
    resuming.send({ type: 'hello', protocol: 1, runId: 'long-run', run: { name: 'long-run' } });
    let welcomeAt = 0;
    const welcome = resuming.next('welcome', 60_000).then((w) => {
      welcomeAt = performance.now();
      return w;
    });
    // A ping sent after the hello: its pong comes back while the log is still being read.
    let pongAt = 0;
    other.ws.once('pong', () => (pongAt = performance.now()));
    other.ws.ping();
    const acksDuringResume: number[] = [];
    let seq = 0;
    while (welcomeAt === 0) {
      other.send({ type: 'scalars', seq, rows: rows(seq, 10) });
      seq += 10;
      const ack = await other.next('ack', 20_000);
      if (welcomeAt === 0) acksDuringResume.push(ack.seq);
    }
    const w = await welcome;
    assert.equal(w.lastSeq, ROWS - 1);
    assert.equal(w.lastStep, ROWS - 1);
    // Order, not time: read whole, this log held the loop until the welcome, and nothing else was
    // answered before it. `npm run bench` measures the loop's longest block on a million rows.
    assert.ok(acksDuringResume.length >= 1, `the other run was acknowledged ${acksDuringResume.length} times before the long one's welcome (${(welcomeAt - helloAt).toFixed(0)} ms)`);
    assert.ok(pongAt > 0 && pongAt < welcomeAt, 'a ping sent after the hello was answered before the welcome');
    assert.equal(other.ws.readyState, other.ws.OPEN, 'pings answered throughout: still connected');
    assert.ok(!problems.some((p) => /stopped answering pings/.test(p)), problems.join('\n'));
    const run = (await store.get('long-run'))!;
    assert.equal(run.rowCount, ROWS);
    assert.deepEqual([...run.series.get('loss')!.steps].filter((_, i) => Number.isNaN(run.series.get('loss')!.values[i])), [30_000]);
    assert.ok(existsSync(path.join(dir, 'long-run', 'columns', 'index.json')), 'sealed as it was read: the next reopen is quick');
    other.ws.close();
    resuming.ws.close();
  } finally {
    // Clients first: a failed assertion must not leave a socket that keeps the test alive.
    for (const c of clients) c.ws.terminate();
    await hub.close();
    await store.dispose();
    cleanup();
  }
});
