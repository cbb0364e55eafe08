// What a webview asks of the host: validated, limited to the run it shows, and never left as an
// unhandled rejection when an action fails.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { handleWebviewMessage, type WebviewActions } from '../../src/view/webviewCommands';

function actions(shown: string | null): WebviewActions & { calls: string[]; refusals: string[] } {
  const calls: string[] = [];
  const refusals: string[] = [];
  return {
    calls,
    refusals,
    shownRunId: () => shown,
    ready: async () => void calls.push('ready'),
    show: async (id) => void calls.push(`show ${id}`),
    stopRun: async (id) => void calls.push(`stop ${id}`),
    runAction: async (id, action, step) => void calls.push(`${action} ${id} @${step}`),
    openDashboard: async (id) => {
      if (id === 'missing') throw new Error('no run missing in /runs');
      calls.push(`open ${id}`);
    },
    refuse: (message) => void refusals.push(message),
  };
}

test('a webview may stop the run it shows, and no other', async () => {
  const a = actions('run-a');
  await handleWebviewMessage({ type: 'stopRun', runId: 'run-a' }, a);
  await handleWebviewMessage({ type: 'stopRun', runId: 'run-b' }, a);
  assert.deepEqual(a.calls, ['stop run-a']);
  assert.deepEqual(a.refusals, ['Stop Run from this view applies to the run it shows (run-a), not to run-b.']);
  const none = actions(null);
  await handleWebviewMessage({ type: 'stopRun', runId: 'run-a' }, none);
  assert.deepEqual(none.calls, []);
});

test('an action that fails (a dashboard for an unknown run) is refused clearly, not left unhandled', async () => {
  const a = actions('run-a');
  await handleWebviewMessage({ type: 'openDashboard', runId: 'missing' }, a);
  assert.deepEqual(a.refusals, ['openDashboard: no run missing in /runs']);
});

test('malformed messages are ignored; valid ones reach their action', async () => {
  const a = actions('run-a');
  for (const bad of [null, 42, 'stopRun', { type: 'stopRun' }, { type: 'stopRun', runId: 7 }, { type: 'rm -rf' }, { type: 'setOverlay', runIds: 'x' }]) {
    await handleWebviewMessage(bad, a);
  }
  assert.deepEqual([a.calls, a.refusals], [[], []]);
  await handleWebviewMessage({ type: 'ready', view: 'sidebar' }, a);
  await handleWebviewMessage({ type: 'selectRun', runId: 'run-b' }, a);
  await handleWebviewMessage({ type: 'openDashboard', runId: 'run-b' }, a);
  assert.deepEqual(a.calls, ['ready', 'show run-b', 'open run-b']);
});

test("an alert's action applies to the run the view shows, with the alert's step (docs/rescue.md)", async () => {
  const a = actions('run-a');
  await handleWebviewMessage({ type: 'runAction', runId: 'run-a', action: 'rollback', alertStep: 420 }, a);
  await handleWebviewMessage({ type: 'runAction', runId: 'run-b', action: 'lower-lr' }, a);
  await handleWebviewMessage({ type: 'runAction', runId: 'run-a', action: 'raise-lr' }, a);
  assert.deepEqual(a.calls, ['rollback run-a @420']);
  assert.deepEqual(a.refusals, ["An alert's action from this view applies to the run it shows (run-a), not to run-b."]);
});
