import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/detect/alert';
import { AlertBook, inlineText, valuesAround } from '../../src/present/alertBook';

const alert = (id: string, over: Partial<Alert> = {}): Alert => ({
  id,
  kind: 'loss-spike',
  severity: 'critical',
  step: 10,
  metric: 'loss',
  message: 'loss spiked',
  values: {},
  state: 'open',
  source: { file: '/w/train.py', line: 88 },
  ...over,
});

test('an alert opens once, shows on its source line, and closes with its episode', () => {
  const book = new AlertBook();
  const opened: string[] = [];
  book.on('opened', (e) => opened.push(e.alert.id));
  book.apply('r1', 'run one', alert('a'));
  book.apply('r1', 'run one', alert('b', { severity: 'warning', source: { file: '/w/train.py', line: 12 } }));
  book.apply('r1', 'run one', alert('c', { source: { file: '<stdin>', line: 1 } }));
  assert.deepEqual(opened, ['a', 'b', 'c']);
  assert.equal(book.hasOpen('r1'), true);
  const lines = book.byFile().get('/w/train.py')!.map((e) => e.alert.source!.line);
  assert.deepEqual(lines, [12, 88]);
  assert.equal(book.byFile().has('<stdin>'), false, 'a pseudo-file has no line to flag');
  book.apply('r1', 'run one', alert('a', { state: 'closed', closedStep: 40 }));
  assert.deepEqual(book.openFor('r1').map((a) => a.id), ['b', 'c']);
  book.clearRun('r1');
  assert.equal(book.hasOpen('r1'), false);
});

test('the inline text names the run, the step and the kind', () => {
  assert.equal(inlineText({ runId: 'r', runName: 'lm', alert: alert('a') }), '⛔ Loss Radar · lm · step 10: loss-spike — loss spiked');
});

test('the hover shows the values around the alert step', () => {
  const steps = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24];
  const values = steps.map((s) => s * 10);
  assert.deepEqual(valuesAround(steps, values, 10, 2), [[6, 60], [8, 80], [10, 100], [12, 120], [14, 140]]);
  assert.deepEqual(valuesAround(steps, values, 0, 1), [[0, 0], [2, 20]]);
});

test('a rerun of a script takes over its lines at its first row; the older run keeps its own alerts', () => {
  const book = new AlertBook();
  const changes: number[] = [];
  book.on('changed', () => changes.push(1));
  book.started('old');
  book.apply('old', 'train', alert('a'));
  book.apply('old', 'train', alert('b', { source: { file: '/w/model.py', line: 3 } }));
  book.apply('other', 'eval', alert('c', { source: { file: '/w/eval.py', line: 5 } }));
  book.started('new');
  changes.length = 0;
  book.logsFrom('new', '/w/train.py');
  assert.equal(changes.length, 1, 'the editor redraws when a file changes hands');
  assert.equal(book.byFile().has('/w/train.py'), false, 'the new run has not alerted: the old run’s diagnostics go');
  assert.equal(book.byFile().get('/w/model.py')?.length, 1, 'a file the new run has not logged from keeps the old run’s');
  assert.equal(book.byFile().get('/w/eval.py')?.length, 1, 'another script keeps its own');
  assert.deepEqual(book.openFor('old').map((a) => a.id), ['a', 'b'], 'the old run’s own views still list its alerts');
  book.apply('new', 'train', alert('d', { step: 30 }));
  book.apply('old', 'train', alert('e', { step: 99 }));
  assert.deepEqual(book.byFile().get('/w/train.py')!.map((e) => `${e.runId}:${e.alert.id}`), ['new:d'], 'a late alert of the older run does not take the lines back');
});

test('reruns never pile up on a line: one entry per open alert of the newest run', () => {
  const book = new AlertBook();
  for (let i = 0; i < 7; i++) {
    const id = `run-${i}`;
    book.started(id);
    book.logsFrom(id, '/w/train.py');
    book.apply(id, 'train', alert('loss-spike@10'));
    book.apply(id, 'train', alert('grad-spike@12', { severity: 'warning', source: { file: '/w/train.py', line: 90 } }));
  }
  assert.deepEqual(book.byFile().get('/w/train.py')!.map((e) => e.runId), ['run-6', 'run-6']);
});
