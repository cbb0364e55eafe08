// What the editor offers on an alert (docs/rescue.md): only the actions the run's SDK armed, Roll
// Back first, and the hub command each one sends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { answeredStep, commandFor, offeredActions, RUN_ACTIONS } from '../../src/rescue/actions';
import { notificationActions } from '../../src/present/notifyPolicy';
import { HUB_FRAME_SCHEMA } from '../../src/protocol/wire';
import { TypeCompiler } from '@sinclair/typebox/compiler';

test('a run offers only the actions its SDK announced, none when it never said', () => {
  assert.deepEqual(offeredActions(null), []);
  assert.deepEqual(offeredActions({ actions: [] }), []);
  assert.deepEqual(
    offeredActions({ actions: ['rollback', 'checkpoint'] }).map((a) => a.label),
    ['Checkpoint Now', 'Roll Back'],
  );
});

test('the notification puts Roll Back first, then Lower Learning Rate, Checkpoint Now, Stop Run, Open Dashboard', () => {
  assert.deepEqual(notificationActions(true, RUN_ACTIONS), ['Roll Back', 'Lower Learning Rate', 'Checkpoint Now', 'Stop Run', 'Open Dashboard']);
  assert.deepEqual(notificationActions(true, []), ['Stop Run', 'Open Dashboard']);
  assert.deepEqual(notificationActions(false, RUN_ACTIONS), ['Open Dashboard']);
});

test('each action sends a hub command the protocol schema accepts; a roll back carries the alert step', () => {
  const check = TypeCompiler.Compile(HUB_FRAME_SCHEMA);
  for (const { action } of RUN_ACTIONS) {
    for (const step of [undefined, 120]) {
      const frame = { type: 'command', ...commandFor(action, step) };
      assert.ok(check.Check(frame), JSON.stringify(frame));
    }
  }
  assert.deepEqual(commandFor('rollback', 120), { command: 'rollback', step: 120, factor: 0.5 });
  assert.deepEqual(commandFor('lower-lr'), { command: 'lower-lr', factor: 0.5 });
  // The schema never lets a command raise the lr.
  assert.equal(check.Check({ type: 'command', command: 'lower-lr', factor: 2 }), false);
  assert.equal(check.Check({ type: 'command', command: 'rescue' }), false);
});

test('an action answers the first row of an alert’s evidence where the detector names one, else the row that opened it', () => {
  // A spike at the loss's floor opens on its second row; the weights to undo made the first.
  assert.equal(answeredStep({ step: 202, values: { loss: 9, from: 201 } }), 201);
  assert.equal(answeredStep({ step: 202, values: { loss: 9 } }), 202);
  // Nothing from the other side is trusted: a `from` after the alert, negative or fractional is ignored.
  for (const from of [203, -1, 200.5, Number.NaN]) assert.equal(answeredStep({ step: 202, values: { from } }), 202, String(from));
});
