// What a webview receives, fed by a real hub and a real trainer connection: a snapshot, then only
// deltas, never more than 10 messages a second, alerts as they fire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AlertMonitor } from '../../src/detect/alertMonitor';
import { Hub } from '../../src/hub/hub';
import { RunStore } from '../../src/store/runStore';
import { overlayRun, ViewBridge } from '../../src/view/viewBridge';
import type { HostToWebview } from '../../webview/contract';
import { TestTrainer, rows } from '../helpers/trainerClient';
import { tempDir, waitFor } from '../helpers/tmp';

async function setup() {
  const tmp = tempDir();
  const store = new RunStore(tmp.dir, { flushMs: 20 });
  const hub = new Hub({ store });
  const monitor = new AlertMonitor(hub);
  await hub.listen();
  const posted: { at: number; message: HostToWebview }[] = [];
  const bridge = new ViewBridge((message) => posted.push({ at: performance.now(), message }), store, hub, monitor);
  const close = async () => {
    bridge.dispose();
    monitor.dispose();
    await hub.close();
    await store.dispose();
    tmp.cleanup();
  };
  return { store, hub, bridge, posted, close };
}

test('a view gets the run list and a snapshot, then deltas only, coalesced to at most 10 Hz', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('view');
  const ack = trainer.next('ack');
  trainer.send({ type: 'scalars', seq: 0, rows: rows(0, 100) });
  await ack;
  await bridge.show(runId);
  const kinds = posted.map((p) => p.message.type);
  const resetAt = kinds.indexOf('reset');
  assert.equal(kinds[resetAt - 1], 'runs', `runs come right before the snapshot: ${kinds}`);
  const reset = posted[resetAt].message as Extract<HostToWebview, { type: 'reset' }>;
  assert.equal(reset.series.loss.steps.length, 100);
  posted.length = 0;
  // 1 000 rows/s for a second, in frames of 10.
  for (let i = 0; i < 100; i++) {
    trainer.send({ type: 'scalars', seq: 100 + i * 10, rows: rows(100 + i * 10, 10) });
    await new Promise((r) => setTimeout(r, 10));
  }
  await waitFor(() => {
    const appended = posted.filter((p) => p.message.type === 'append').flatMap((p) => (p.message as Extract<HostToWebview, { type: 'append' }>).series.loss?.steps ?? []);
    return appended.length === 1000 ? appended : undefined;
  }, 'every row as a delta');
  const appends = posted.filter((p) => p.message.type === 'append');
  const steps = appends.flatMap((p) => (p.message as Extract<HostToWebview, { type: 'append' }>).series.loss.steps);
  assert.deepEqual(steps, Array.from({ length: 1000 }, (_, i) => 100 + i), 'each row once, in order, none from the snapshot');
  // At most one delta per 100 ms, however slow the machine: a loaded one spreads the rows over
  // more time, never more messages per interval (timers never fire early).
  for (let i = 1; i < appends.length; i++) assert.ok(appends[i].at - appends[i - 1].at >= 95, `messages ${appends[i].at - appends[i - 1].at} ms apart`);
  assert.ok(appends.length < 100, `${appends.length} messages for 100 frames`);
  await trainer.close();
});

test('alerts reach the view as they fire, and a snapshot carries the run’s alerts so far', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('alerting');
  await bridge.show(runId);
  trainer.send({ type: 'scalars', seq: 0, rows: [...rows(0, 5), { step: 5, values: { loss: 'NaN' } }] });
  const message = await waitFor(() => posted.find((p) => p.message.type === 'alerts')?.message as Extract<HostToWebview, { type: 'alerts' }> | undefined, 'an alerts message');
  assert.equal(message.alerts[0].kind, 'nonfinite');
  const append = await waitFor(() => posted.find((p) => p.message.type === 'append')?.message as Extract<HostToWebview, { type: 'append' }> | undefined, 'the rows');
  assert.equal(append.series.loss.values[5], 'NaN', 'NaN travels as the wire’s "NaN": JSON (VS Code’s postMessage) would make it null');
  posted.length = 0;
  await bridge.show(runId);
  const reset = posted.find((p) => p.message.type === 'reset')!.message as Extract<HostToWebview, { type: 'reset' }>;
  assert.deepEqual(reset.alerts.map((a) => a.kind), ['nonfinite']);
  assert.equal(reset.alerts[0].values.loss, 'NaN', 'an alert read back from alerts.jsonl still says NaN');
  await trainer.close();
});

test('reliability bins reach the view and a later snapshot', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('calibrated');
  await bridge.show(runId);
  const bins = { step: 3, edges: [0, 0.5, 1], confidence: [0.3, 0.8], accuracy: [0.25, 0.9], counts: [10, 20] };
  trainer.send({ type: 'reliability', name: 'calibration', ...bins });
  const msg = await waitFor(() => posted.find((p) => p.message.type === 'reliability')?.message as Extract<HostToWebview, { type: 'reliability' }> | undefined, 'reliability');
  assert.deepEqual(msg.bins, bins);
  await bridge.show(runId);
  const reset = posted.filter((p) => p.message.type === 'reset').pop()!.message as Extract<HostToWebview, { type: 'reset' }>;
  assert.deepEqual(reset.reliability, bins);
  await trainer.close();
});

test('a view hears its run’s status once per change: stopped, then running again when resumed', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('status');
  await bridge.show(runId);
  posted.length = 0;
  hub.sendCommand(runId, 'stop');
  trainer.send({ type: 'end', status: 'completed' });
  await trainer.close();
  const statuses = () => posted.filter((p) => p.message.type === 'status').map((p) => (p.message as Extract<HostToWebview, { type: 'status' }>).status);
  await waitFor(() => statuses().length === 1 || undefined, 'the status message');
  const again = await TestTrainer.connect(hub.url, hub.token);
  await again.hello('status', { runId });
  await waitFor(() => statuses().length === 2 || undefined, 'the resumed status');
  await new Promise((r) => setTimeout(r, 150));
  assert.deepEqual(statuses(), ['stopped', 'running'], 'a disconnect alone says nothing: the status did not change');
  const runs = posted.filter((p) => p.message.type === 'runs').at(-1)?.message as Extract<HostToWebview, { type: 'runs' }>;
  assert.equal(runs.runs.find((r) => r.id === runId)?.status, 'running', 'the run list agrees');
  await again.close();
});

test('a run that logs train_loss and learning_rate: the view is told their roles, and a role taken mid-run before its rows', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('aliased');
  const ack = trainer.next('ack');
  trainer.send({ type: 'scalars', seq: 0, rows: [{ step: 0, values: { train_loss: 2, learning_rate: 0.1 } }] });
  await ack;
  await bridge.show(runId);
  const reset = posted.find((p) => p.message.type === 'reset')!.message as Extract<HostToWebview, { type: 'reset' }>;
  assert.deepEqual(reset.roles, { loss: 'train_loss', 'loss/val': null, lr: 'learning_rate', grad_norm: null });
  posted.length = 0;
  trainer.send({ type: 'scalars', seq: 1, rows: [{ step: 10, values: { val_loss: 2.5 } }] });
  await waitFor(() => posted.some((p) => p.message.type === 'append') || undefined, 'the validation row');
  const types = posted.map((p) => p.message.type);
  assert.deepEqual(types.slice(0, 2), ['roles', 'append'], 'the role first, so the view keeps the series that arrives with it');
  assert.equal((posted[0].message as Extract<HostToWebview, { type: 'roles' }>).roles['loss/val'], 'val_loss');
  await trainer.close();
});

type Reset = Extract<HostToWebview, { type: 'reset' }>;
const last = <T extends HostToWebview['type']>(posted: { message: HostToWebview }[], type: T) =>
  posted.filter((p) => p.message.type === type).at(-1)?.message as Extract<HostToWebview, { type: T }> | undefined;

test('charts (docs/charts.md): a snapshot carries the run’s clock, events, config and distribution steps; events and the clock then come as deltas', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('charted', { run: { name: 'charted', config: { lr: 0.001, optimizer: { name: 'adamw' } } } });
  const ack = trainer.next('ack');
  trainer.send({ type: 'scalars', seq: 0, rows: rows(0, 50) });
  trainer.send({ type: 'event', step: 20, level: 'info', message: 'checkpoint saved', kind: 'checkpoint' });
  trainer.send({ type: 'event', step: 40, level: 'warning', message: 'rolled back', kind: 'rollback', span: { from: 30, to: 40 } });
  trainer.send({ type: 'distribution', step: 10, name: 'sa/fc1', edges: [0, 1, 2], counts: [3, 4] });
  trainer.send({ type: 'reliability', step: 40, name: 'calibration', edges: [0, 0.5, 1], confidence: [0.3, 0.8], accuracy: [0.25, 0.9], counts: [10, 20] });
  await ack;
  await waitFor(async () => ((await hub.store.get(runId))?.rowCount === 50 ? true : undefined), 'the rows');
  await bridge.show(runId);
  const reset = last(posted, 'reset') as Reset;
  assert.deepEqual(reset.config, { lr: 0.001, optimizer: { name: 'adamw' } });
  assert.equal(reset.clock.steps.length, 50);
  assert.equal(reset.clock.values[49], 1_700_000_049, 'each step’s time, as its row carried it');
  assert.deepEqual(
    reset.events.map((e) => [e.step, e.kind, e.span, e.message]),
    [
      [20, 'checkpoint', null, 'checkpoint saved'],
      [40, 'rollback', { from: 30, to: 40 }, 'rolled back'],
    ],
  );
  assert.ok(reset.events.every((e) => typeof e.time === 'number'), 'when the hub stored it');
  assert.deepEqual(reset.distributionSteps, [10, 40]);
  const dist = last(posted, 'distributions');
  assert.deepEqual(dist?.histograms.map((h) => [h.name, h.step]), [['sa/fc1', 10]]);
  posted.length = 0;
  trainer.send({ type: 'scalars', seq: 50, rows: rows(50, 5) });
  trainer.send({ type: 'event', level: 'error', message: 'lr lowered', kind: 'lr', step: 52 });
  trainer.send({ type: 'distribution', step: 55, name: 'sa/fc1', edges: [0, 1, 2], counts: [1, 1] });
  const events = await waitFor(() => last(posted, 'events'), 'the events delta');
  assert.deepEqual(events.events.map((e) => [e.step, e.level, e.kind]), [[52, 'error', 'lr']]);
  const append = await waitFor(() => last(posted, 'append'), 'the rows delta');
  assert.deepEqual(append.clock, { steps: [50, 51, 52, 53, 54], values: [1_700_000_050, 1_700_000_051, 1_700_000_052, 1_700_000_053, 1_700_000_054] });
  const histogram = await waitFor(() => last(posted, 'histogram'), 'the histogram');
  assert.deepEqual(histogram.histogram, { name: 'sa/fc1', step: 55, edges: [0, 1, 2], counts: [1, 1] });
  await trainer.close();
});

test('charts: the step slider’s pick gets the bins at that step; NaN predictions (empty bins) give the latest finite ones and say so', async (t) => {
  const { hub, bridge, posted, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('nan-bins');
  const bins = (step: number, counts: number[]) => ({ type: 'reliability', step, name: 'calibration', edges: [0, 0.5, 1], confidence: [0.3, 0.8], accuracy: [0.25, 0.9], counts });
  trainer.send(bins(10, [10, 20]));
  trainer.send(bins(20, [5, 5]));
  // What the SDK sends for NaN logits: nothing counted (encoding.py reliability_frame).
  trainer.send(bins(30, [0, 0]));
  const ack = trainer.next('ack');
  trainer.send({ type: 'scalars', seq: 0, rows: rows(0, 1) });
  await ack;
  await bridge.show(runId);
  const reset = last(posted, 'reset') as Reset;
  assert.equal(reset.reliability?.step, 20, 'never an empty diagram because the newest bins were NaN');
  assert.match(last(posted, 'distributions')?.note ?? '', /Step 30 has no finite bins \(NaN predictions\): showing step 20/);
  await bridge.pickStep(runId, 15);
  const picked = last(posted, 'distributions');
  assert.equal(picked?.requested, 15);
  assert.equal(picked?.reliability?.step, 10);
  assert.equal(picked?.note, null);
  const before = posted.length;
  await bridge.pickStep('another-run', 15);
  assert.equal(posted.length, before, 'only the shown run');
  await trainer.close();
});

test('charts: an overlaid run brings the series of the metrics asked for, its own loss under its own name, its roles and clock', async (t) => {
  const { hub, store, close } = await setup();
  t.after(close);
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const { runId } = await trainer.hello('other');
  const ack = trainer.next('ack');
  trainer.send({ type: 'scalars', seq: 0, rows: rows(0, 10).map((r) => ({ ...r, values: { train_loss: r.values.loss, lr: 0.1, other: 1 } })) });
  await ack;
  const run = await store.get(runId);
  assert.ok(run);
  const o = overlayRun(run, ['loss', 'lr', 'grad_norm'], {}, 100);
  assert.deepEqual(Object.keys(o.series).sort(), ['lr', 'train_loss']);
  assert.equal(o.roles.loss, 'train_loss');
  assert.equal(o.clock.steps.length, 10);
  await trainer.close();
});
