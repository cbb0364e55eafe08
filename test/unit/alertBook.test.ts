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

test('a new run of the same name replaces the older run’s alerts; other runs keep theirs', () => {
  const book = new AlertBook();
  book.apply('old', 'train', alert('a'));
  book.apply('other', 'eval', alert('b'));
  book.supersede('new', 'train');
  assert.equal(book.hasOpen('old'), false);
  assert.equal(book.hasOpen('other'), true);
});
