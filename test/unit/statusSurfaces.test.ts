// The status bar's wording, its redraw pacing and which alerts notify: the parts of the editor's
// surfaces that need no VS Code to specify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/detect/alert';
import { Coalescer } from '../../src/present/coalescer';
import { NotifyPolicy } from '../../src/present/notifyPolicy';
import { statusLine } from '../../src/present/statusLine';

const alert = (id: string, severity: Alert['severity']): Alert => ({ id, kind: 'loss-spike', severity, step: 5, metric: 'loss', message: 'm', values: {}, state: 'open' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('the status line names the run, its status once it ended, the step and the loss; NaN is said, never 0', () => {
  assert.equal(statusLine({ name: 'lm', status: 'running', step: 12, loss: 0.5, alerts: [] }).text, '$(pulse) lm · step 12 · loss 0.5');
  const ended = statusLine({ name: 'lm', status: 'interrupted', step: 259, loss: Number.NaN, alerts: [] });
  assert.equal(ended.text, '$(debug-disconnect) lm · interrupted · step 259 · loss NaN');
  assert.equal(ended.tone, 'normal');
  const warned = statusLine({ name: 'lm', status: 'running', step: 1, loss: undefined, alerts: [alert('a', 'warning')] });
  assert.equal(warned.tone, 'warning');
  assert.match(warned.text, /^\$\(warning\) lm · step 1 · loss –$/);
  assert.equal(statusLine({ name: 'lm', status: 'running', step: 1, loss: 1, alerts: [alert('a', 'warning'), alert('b', 'critical')] }).tone, 'critical');
});

test('a burst of changes redraws at once, then at most once per interval, and the last change is never lost', async () => {
  const calls: number[] = [];
  let state = 0;
  const c = new Coalescer(() => calls.push(state), 60);
  state = 1;
  c.request();
  await sleep(10);
  assert.deepEqual(calls, [1], 'the first change shows at once');
  for (state = 2; state <= 5; state++) c.request();
  state = 5;
  await sleep(10);
  assert.deepEqual(calls, [1], 'changes inside the interval wait');
  await sleep(90);
  assert.deepEqual(calls, [1, 5], 'the final state is drawn when the interval has passed, with no further change');
  c.dispose();
  c.request();
  await sleep(80);
  assert.deepEqual(calls, [1, 5], 'nothing runs after dispose');
});

test('the first warning of a run notifies, later warnings do not, and a critical does once per episode', () => {
  let firstWarning = true;
  const p = new NotifyPolicy(() => firstWarning);
  const w1 = alert('w1', 'warning');
  const w2 = alert('w2', 'warning');
  const c1 = alert('c1', 'critical');
  assert.equal(p.opened('r1', w1, []), true, 'the first warning');
  assert.equal(p.opened('r1', w2, [w1]), false, 'a second warning');
  assert.equal(p.opened('r1', c1, [w1, w2]), true, 'the first critical');
  assert.equal(p.opened('r1', alert('c2', 'critical'), [w1, w2, c1]), false, 'a critical while another is open');
  assert.equal(p.opened('r1', alert('c3', 'critical'), [w2]), true, 'a critical after the last one closed');
  firstWarning = false;
  assert.equal(p.opened('r2', alert('w', 'warning'), []), false, 'the setting turns first warnings off');
  assert.equal(p.opened('r2', alert('c', 'critical'), []), true, 'criticals notify whatever the setting');
});
