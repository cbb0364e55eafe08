// What the comparison table's webview receives (docs/compare.md), fed by a real hub and a real
// trainer connection: the table on show, again as rows arrive (coalesced), when tags change, and a
// hello's tags validated at the boundary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Hub } from '../../src/hub/hub';
import { RunStore } from '../../src/store/runStore';
import { CompareBridge } from '../../src/view/compareBridge';
import { decodeCompareTable, type CompareTable } from '../../src/view/compareRows';
import type { HostToWebview } from '../../webview/contract';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { tempDir, waitFor } from '../helpers/tmp';

async function setup() {
  const tmp = tempDir();
  const store = new RunStore(tmp.dir, { flushMs: 20 });
  const hub = new Hub({ store });
  await hub.listen();
  const tables: CompareTable<number>[] = [];
  // Through JSON, as VS Code delivers it, and decoded at the webview's one door.
  const post = (m: HostToWebview) => m.type === 'compareTable' && tables.push(decodeCompareTable(JSON.parse(JSON.stringify(m)).table)!);
  const bridge = new CompareBridge(post, store, hub, { coalesceMs: 50 });
  const close = async () => {
    bridge.dispose();
    await hub.close();
    await store.dispose();
    tmp.cleanup();
  };
  return { store, hub, bridge, tables, close };
}

test('the table comes on show, follows a live run’s rows and a change of tags', async (t) => {
  const { store, hub, bridge, tables, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('cmp', { run: { name: 'cmp', config: { lr: 0.1 }, tags: ['baseline'] } });
  const ack = trainer.next('ack');
  trainer.send({ type: 'scalars', seq: 0, rows: rows(0, 10) });
  await ack;
  await bridge.show();
  const first = tables.at(-1)!;
  assert.deepEqual([first.rows[0].name, first.rows[0].steps, first.rows[0].tags, first.configKeys], ['cmp', 9, ['baseline'], ['lr']]);
  trainer.send({ type: 'scalars', seq: 10, rows: [...rows(10, 5), { step: 15, time: 1, values: { loss: 'NaN' } }] });
  await waitFor(() => tables.at(-1)!.rows[0].steps === 15 || undefined, 'a table with the new rows');
  assert.ok(Number.isNaN(tables.at(-1)!.rows[0].lastLoss), 'a NaN loss arrives as NaN');
  assert.equal(tables.at(-1)!.rows[0].bestLoss, 1 / 15);
  await store.setTags(runId, ['edited', 'edited', ' two ']);
  await waitFor(() => tables.at(-1)!.rows[0].tags.join() === 'edited,two' || undefined, 'a table with the new tags');
  await trainer.close();
});

test('a hello whose tags are not a list of short strings is refused at the boundary', async (t) => {
  const { hub, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const error = trainer.next('error');
  trainer.send({ type: 'hello', protocol: 1, run: { name: 'bad', tags: ['x'.repeat(65)] }, pid: process.pid });
  const frame = (await error) as { code: string; message: string };
  assert.equal(frame.code, 'invalid-frame');
  assert.match(frame.message, /tags/);
  await trainer.close();
});
