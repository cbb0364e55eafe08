// The rescue policy's trigger against a real hub and `ws` trainer (docs/rescue.md): the hub keeps
// what a run announced it can do, and its watchdog's critical alert becomes a `rescue` command
// only for a run whose policy is auto.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertMonitor } from '../../src/detect/alertMonitor';
import { Hub } from '../../src/hub/hub';
import { offeredActions } from '../../src/rescue/actions';
import { AutoRescue } from '../../src/rescue/autoRescue';
import { RunStore } from '../../src/store/runStore';
import { TestTrainer } from '../helpers/trainerClient';
import { tempDir, waitFor } from '../helpers/tmp';

/** A loss that falls, then explodes from step 150: the watchdog raises a critical alert. */
function explodingRows(): { step: number; time: number; values: Record<string, number> }[] {
  return Array.from({ length: 200 }, (_, step) => ({
    step,
    time: 1_700_000_000 + step,
    values: { loss: step < 150 ? 2 * Math.exp(-step / 100) + 0.01 * Math.sin(step) : 10 ** ((step - 148) / 4) },
  }));
}

describe('auto rescue', () => {
  let hub: Hub;
  let store: RunStore;
  let monitor: AlertMonitor;
  let rescue: AutoRescue;
  let cleanup: () => void;
  const asked: string[] = [];

  before(async () => {
    const tmp = tempDir();
    cleanup = tmp.cleanup;
    store = new RunStore(tmp.dir, { flushMs: 20 });
    hub = new Hub({ store, heartbeatMs: 1000 });
    monitor = new AlertMonitor(hub);
    rescue = new AutoRescue(hub, monitor, (runId) => asked.push(runId));
    await hub.listen();
  });

  after(async () => {
    rescue.dispose();
    monitor.dispose();
    await hub.close();
    await store.dispose();
    cleanup();
  });

  test('the hello and a later capabilities frame say what the run can do', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('caps', { capabilities: { actions: [], rescue: { mode: 'off' } } });
    assert.deepEqual(hub.capabilities(runId), { actions: [], rescue: { mode: 'off' } });
    const changed = new Promise((resolve) => hub.once('capabilities', (_run, caps) => resolve(caps)));
    t.send({ type: 'capabilities', actions: ['checkpoint', 'lower-lr', 'rollback'] });
    assert.deepEqual(await changed, { actions: ['checkpoint', 'lower-lr', 'rollback'] });
    assert.deepEqual(hub.capabilities(runId)?.actions, ['checkpoint', 'lower-lr', 'rollback']);
    // A newer SDK's word is kept, and offered nowhere (src/rescue/actions.ts knows the actions).
    const newer = new Promise((resolve) => hub.once('capabilities', (_run, caps) => resolve(caps)));
    t.send({ type: 'capabilities', actions: ['rollback', 'prune-heads'] });
    assert.deepEqual(await newer, { actions: ['rollback', 'prune-heads'] });
    assert.deepEqual(offeredActions(hub.capabilities(runId)).map((a) => a.label), ['Roll Back']);
    // What is no list of words is refused, and the last good one stays.
    t.send({ type: 'capabilities', actions: 'rollback; rm -rf /' });
    const refused = await t.next('error');
    assert.equal(refused.code, 'invalid-frame');
    assert.deepEqual(hub.capabilities(runId)?.actions, ['rollback', 'prune-heads']);
    await t.close();
    await waitFor(() => hub.capabilities(runId) === null || undefined, 'capabilities to go with the connection');
  });

  test('a critical alert on a run whose policy is auto sends it rescue with the alert step', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('auto', { capabilities: { actions: ['rollback'], rescue: { mode: 'auto', maxRescues: 2 } } });
    const command = t.next('command', 10_000);
    t.send({ type: 'scalars', seq: 0, rows: explodingRows() });
    const frame = await command;
    assert.equal(frame.command, 'rescue');
    assert.ok('step' in frame && frame.step >= 150 && frame.step < 200, JSON.stringify(frame));
    assert.ok(asked.includes(runId));
    await t.close();
  });

  test('the same blow-up on a run whose policy is off sends nothing', async () => {
    const t = await TestTrainer.connect(hub.url, hub.token);
    const { runId } = await t.hello('off', { capabilities: { actions: ['rollback'], rescue: { mode: 'off' } } });
    const critical = new Promise((resolve) => monitor.on('alert', (run, alert) => run.id === runId && alert.severity === 'critical' && resolve(alert)));
    const command = t.next('command', 1500).then(
      (f) => f,
      () => null,
    );
    t.send({ type: 'scalars', seq: 0, rows: explodingRows() });
    await critical;
    assert.equal(await command, null);
    assert.ok(!asked.includes(runId));
    await t.close();
  });
});
