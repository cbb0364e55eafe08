// What the host does for the charts (docs/charts.md): the run's CSV (src/export/csv.ts), the
// workspace's view preferences (src/view/viewPrefs.ts), and the new webview requests, validated
// before anything acts on them (webview/contract.ts, src/view/webviewCommands.ts).
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { csvCell, exportRunCsv } from '../../src/export/csv';
import { handleWebviewMessage, type WebviewActions } from '../../src/view/webviewCommands';
import { ViewPrefsStore } from '../../src/view/viewPrefs';
import { isViewPrefs, isWebviewToHost } from '../../webview/contract';
import { tempDir } from '../helpers/tmp';

test('CSV: one line per stored row, step, time and every metric in the order first seen; NaN and ±∞ as pandas reads them; a torn last line skipped', async () => {
  const { dir, cleanup } = tempDir();
  const run = path.join(dir, 'run-1');
  mkdirSync(run);
  const lines = [
    { step: 0, time: 100.5, loss: 2.5, seq: 0 },
    { step: 0, 'loss/val': 'NaN', seq: 1 },
    { step: 1, time: 101.5, loss: 'Infinity', 'odd, "name"': '-Infinity', source: { file: 'train.py', line: 3 }, seq: 2 },
  ];
  writeFileSync(path.join(run, 'metrics.jsonl'), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"step": 2, "loss`);
  const out = path.join(dir, 'out.csv');
  const result = await exportRunCsv(run, out);
  assert.deepEqual(result, { rows: 3, metrics: 3, skipped: 1 });
  assert.deepEqual(readFileSync(out, 'utf8').split('\n'), ['step,time,loss,loss/val,"odd, ""name"""', '0,100.5,2.5,,', '0,,,NaN,', '1,101.5,inf,,-inf', '']);
  assert.equal(csvCell('a\nb'), '"a\nb"');
  cleanup();
});

test('CSV of a run folder without metrics.jsonl fails and leaves no file behind', async () => {
  const { dir, cleanup } = tempDir();
  const out = path.join(dir, 'out.csv');
  await assert.rejects(exportRunCsv(path.join(dir, 'missing'), out), /ENOENT/);
  assert.throws(() => readFileSync(out), /ENOENT/);
  cleanup();
});

function memento(initial?: unknown) {
  const data = new Map<string, unknown>(initial === undefined ? [] : [['lossradar.viewPrefs', initial]]);
  return { data, get: <T>(k: string) => data.get(k) as T | undefined, update: async (k: string, v: unknown) => void data.set(k, v) };
}

test('view preferences: merged per field (log scales and metric choices per chart and metric), kept in workspace state, told to every view', async () => {
  const m = memento();
  const prefs = new ViewPrefsStore(m);
  const told: unknown[] = [];
  prefs.on('changed', (p) => told.push(p));
  await prefs.merge({ smoothing: 0.6, logScale: { loss: true } });
  await prefs.merge({ xAxis: 'wall', logScale: { lr: true }, metricCharts: { 'train/acc': false } });
  const want = { smoothing: 0.6, xAxis: 'wall', logScale: { loss: true, lr: true }, metricCharts: { 'train/acc': false } };
  assert.deepEqual(prefs.current, want);
  assert.deepEqual(m.data.get('lossradar.viewPrefs'), want);
  assert.equal(told.length, 2);
  assert.deepEqual(new ViewPrefsStore(m).current, want, 'the next window reads them back');
  assert.deepEqual(new ViewPrefsStore(memento({ smoothing: 7, evil: 1 })).current, {}, 'a damaged state is dropped, not trusted');
});

test('a webview’s preferences and requests are checked: types, bounds, no unknown fields', () => {
  assert.equal(isViewPrefs({ smoothing: 0.99, xAxis: 'relative', ignoreOutliers: true, logScale: { loss: false } }), true);
  for (const bad of [{ smoothing: 1.5 }, { smoothing: '0.5' }, { xAxis: 'epoch' }, { logScale: { loss: 'yes' } }, { metricCharts: [] }, { __proto__: 1, other: true }, null]) {
    assert.equal(isViewPrefs(bad), false, JSON.stringify(bad));
  }
  assert.equal(isWebviewToHost({ type: 'pickStep', runId: 'a', step: 120 }), true);
  assert.equal(isWebviewToHost({ type: 'pickStep', runId: 'a', step: null }), true);
  assert.equal(isWebviewToHost({ type: 'pickStep', runId: 'a', step: 'NaN' }), false);
  assert.equal(isWebviewToHost({ type: 'exportPng', name: 'loss', base64: 'iVBORw0KGgo=' }), true);
  assert.equal(isWebviewToHost({ type: 'exportPng', name: 'loss', base64: '<script>' }), false);
  assert.equal(isWebviewToHost({ type: 'exportPng', name: '', base64: '' }), false);
  assert.equal(isWebviewToHost({ type: 'setOverlay', runIds: ['b'], metrics: ['loss', 'lr'] }), true);
  assert.equal(isWebviewToHost({ type: 'setOverlay', runIds: ['b'], metrics: [1] }), false);
});

function actions(shown: string | null) {
  const calls: string[] = [];
  const refusals: string[] = [];
  const a: WebviewActions = {
    shownRunId: () => shown,
    ready: async () => undefined,
    show: async () => undefined,
    stopRun: async () => undefined,
    openDashboard: async () => undefined,
    overlay: async (ids, metrics) => void calls.push(`overlay ${ids} ${metrics}`),
    savePrefs: async (p) => void calls.push(`prefs ${JSON.stringify(p)}`),
    pickStep: async (id, step) => void calls.push(`pick ${id} ${step}`),
    exportPng: async (name, png) => void calls.push(`png ${name} ${png.length}`),
    exportCsv: async (id) => void calls.push(`csv ${id}`),
    refuse: (m) => void refusals.push(m),
  };
  return { a, calls, refusals };
}

test('exports and step picks apply to the run the view shows; a PNG is saved only if it is one', async () => {
  const { a, calls, refusals } = actions('run-a');
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2]).toString('base64');
  await handleWebviewMessage({ type: 'exportPng', name: 'run-a-loss', base64: png }, a);
  await handleWebviewMessage({ type: 'exportPng', name: 'fake', base64: Buffer.from('GIF89a-not-a-png').toString('base64') }, a);
  await handleWebviewMessage({ type: 'exportCsv', runId: 'run-a' }, a);
  await handleWebviewMessage({ type: 'exportCsv', runId: 'run-b' }, a);
  await handleWebviewMessage({ type: 'pickStep', runId: 'run-a', step: 40 }, a);
  await handleWebviewMessage({ type: 'pickStep', runId: 'run-b', step: 40 }, a);
  await handleWebviewMessage({ type: 'savePrefs', prefs: { smoothing: 0.5 } }, a);
  await handleWebviewMessage({ type: 'setOverlay', runIds: ['run-c'] }, a);
  assert.deepEqual(calls, ['png run-a-loss 10', 'csv run-a', 'pick run-a 40', 'prefs {"smoothing":0.5}', 'overlay run-c loss']);
  assert.deepEqual(refusals, ['Export PNG: the chart did not give a PNG image.', 'Export CSV from this view applies to the run it shows (run-a), not to run-b.']);
});
