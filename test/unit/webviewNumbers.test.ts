// Non-finite metric values between the host and its webviews. VS Code delivers a webview message
// as JSON, which has no NaN or ±Infinity, so the host spells them "NaN", "Infinity", "-Infinity"
// wherever it puts a metric value into a message (src/view/viewBridge.ts) and the webview decodes
// them in one place (webview/shared/hostMessages.ts). Here every kind of message a ViewBridge posts
// goes through JSON and the webview's decoder.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import type { Alert } from '../../src/detect/alert';
import type { AlertMonitor } from '../../src/detect/alertMonitor';
import type { Hub } from '../../src/hub/hub';
import type { Reliability } from '../../src/protocol/wire';
import type { RunStore } from '../../src/store/runStore';
import { Series, SeriesSet } from '../../src/store/series';
import { ViewBridge } from '../../src/view/viewBridge';
import type { HostToWebview } from '../../webview/contract';
import { decodeHostMessage, type HostMessage } from '../../webview/shared/hostMessages';

/** What a webview receives of a message the host posted. */
const delivered = (message: HostToWebview): HostMessage | null => decodeHostMessage(JSON.parse(JSON.stringify(message)));

const nanAlert: Alert = { id: 'nonfinite:loss:3', kind: 'nonfinite', severity: 'critical', step: 3, metric: 'loss', message: 'loss is NaN at step 3', values: { loss: NaN, 'loss/median': 2.5, 'loss/ratio': Infinity }, state: 'open' };

function setup() {
  const series = new SeriesSet();
  [1, NaN, Infinity, -Infinity, 2].forEach((loss, step) => series.append(step, { loss }));
  const reliability: Reliability = { type: 'reliability', step: 4, name: 'calibration', edges: [0, 0.5, 1], confidence: [0.25, 0.75], accuracy: [0.2, 0.8], counts: [3, 5] };
  // What Run.readAlerts gives: the values decoded from alerts.jsonl's strings (runStore.test.ts).
  const run = { id: 'run-1', status: 'running', series, clock: new Series(), meta: { config: null }, readAlerts: async () => [nanAlert], readDistributions: async () => [reliability], readEvents: async () => [] };
  const summary = { id: 'run-1', name: 'NaN', status: 'running', createdAt: 1, endedAt: null, dir: '/tmp/run-1' };
  const store = Object.assign(new EventEmitter(), { list: async () => [summary], get: async (id: string) => (id === run.id ? run : undefined), hold: () => ({ dispose() {} }) });
  // A hub with no trainer connected: no run can be asked anything (docs/rescue.md).
  const hub = Object.assign(new EventEmitter(), { capabilities: () => null });
  const monitor = new EventEmitter();
  const posted: HostToWebview[] = [];
  const bridge = new ViewBridge((m) => posted.push(m), store as unknown as RunStore, hub as unknown as Hub, monitor as unknown as AlertMonitor, { coalesceMs: 0 });
  return { run, hub, monitor, posted, bridge, reliability };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

test('JSON alone turns NaN and ±Infinity into null (the reason for the encoding)', () => {
  assert.deepEqual(JSON.parse(JSON.stringify({ values: [NaN, Infinity, -Infinity] })), { values: [null, null, null] });
});

test('a snapshot keeps NaN, +∞ and −∞ through JSON: series values and alert values', async () => {
  const { bridge, posted, reliability } = setup();
  await bridge.show('run-1');
  bridge.dispose();
  const reset = posted.map(delivered).find((m) => m?.type === 'reset');
  assert.ok(reset && reset.type === 'reset');
  assert.deepEqual(reset.series.loss, { steps: [0, 1, 2, 3, 4], values: [1, NaN, Infinity, -Infinity, 2] });
  assert.ok(Number.isNaN(reset.alerts[0].values.loss), 'the null alerts.jsonl gave back reads as NaN, not 0');
  assert.equal(reset.alerts[0].values['loss/median'], 2.5);
  const { type: _, name: __, ...bins } = reliability;
  assert.deepEqual(reset.reliability, bins);
  const runs = posted.map(delivered).find((m) => m?.type === 'runs');
  assert.ok(runs && runs.type === 'runs');
  assert.equal(runs.runs[0].name, 'NaN', 'a string is never decoded: only metric values are numbers');
});

test('deltas keep them too: appended rows, alerts as they fire, reliability bins', async () => {
  const { bridge, posted, hub, monitor, run, reliability } = setup();
  await bridge.show('run-1');
  posted.length = 0;
  hub.emit('rows', run, [
    { step: 5, values: { loss: NaN, grad_norm: Infinity } },
    { step: 6, values: { loss: 1.5, grad_norm: -Infinity } },
  ]);
  monitor.emit('alert', run, nanAlert);
  hub.emit('distribution', run, { ...reliability, step: 6, accuracy: [0.1, 0.9] });
  await settle();
  bridge.dispose();
  const got = posted.map(delivered);
  const append = got.find((m) => m?.type === 'append');
  assert.ok(append && append.type === 'append');
  assert.deepEqual(append.series, { loss: { steps: [5, 6], values: [NaN, 1.5] }, grad_norm: { steps: [5, 6], values: [Infinity, -Infinity] } });
  const alerts = got.find((m) => m?.type === 'alerts');
  assert.ok(alerts && alerts.type === 'alerts');
  assert.deepEqual(alerts.alerts[0].values, { loss: NaN, 'loss/median': 2.5, 'loss/ratio': Infinity });
  const bins = got.find((m) => m?.type === 'reliability');
  assert.ok(bins && bins.type === 'reliability');
  assert.deepEqual(bins.bins.accuracy, [0.1, 0.9]);
});

test('the decoder: a null where a value belongs reads as NaN, never 0; what is not a host message is dropped', () => {
  const append = decodeHostMessage({ type: 'append', runId: 'r', series: { loss: { steps: [1, 2, 3], values: [null, 'Infinity', 'bogus'] }, broken: { steps: [1] } } });
  assert.deepEqual(append, { type: 'append', runId: 'r', series: { loss: { steps: [1, 2, 3], values: [NaN, Infinity, NaN] } } });
  const overlay = decodeHostMessage({ type: 'overlay', runs: [{ id: 'b', name: 'other', series: { loss: { steps: [0], values: ['-Infinity'] } } }, { id: 'c' }] });
  assert.deepEqual(overlay, {
    type: 'overlay',
    runs: [{ id: 'b', name: 'other', series: { loss: { steps: [0], values: [-Infinity] } }, roles: { loss: null, 'loss/val': null, lr: null, grad_norm: null }, clock: { steps: [], values: [] } }],
  });
  assert.equal(decodeHostMessage({ type: 'reliability', runId: 'r', bins: { step: 1, edges: [0, 1], confidence: [], accuracy: [], counts: [] } }), null, 'bins whose arrays disagree');
  assert.equal(decodeHostMessage({ type: 'append', series: {} }), null, 'no runId');
  assert.equal(decodeHostMessage({ type: '__harness_sync', n: 1 }), null);
  assert.equal(decodeHostMessage('reset'), null);
});
