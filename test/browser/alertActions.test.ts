// An alert's actions on its run (docs/rescue.md) in the real sidebar and dashboard bundles, in
// headless Chromium under the host's CSP: the buttons are the actions the host said the run armed,
// as text, and a press posts the action with the alert's step for the run shown.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isWebviewToHost } from '../../webview/contract';
import { ALERTS, RUNS, resetMessage } from './fixtures';
import { posted, send, useHarness } from './harness';

const h = useHarness();

const buttons = (page: import('playwright-core').Page, scope: string) =>
  page.locator(`${scope} .alert-action`).evaluateAll((els) => els.map((e) => e.textContent));

describe('alert actions', () => {
  test('sidebar: no buttons until the run says what it can do; Roll Back posts the run and the alert step', async () => {
    const page = await h.open('live', { theme: 'dark' });
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 800));
    assert.equal(await page.locator('#alerts .alert-action').count(), 0);
    await send(page, { type: 'actions', runId: 'run-a', actions: ['lower-lr', 'rollback', 'checkpoint'] });
    // One row per alert (two alerts), in the order of src/rescue/actions.ts.
    assert.deepEqual(await buttons(page, '#alerts'), ['Checkpoint Now', 'Lower Learning Rate', 'Roll Back', 'Checkpoint Now', 'Lower Learning Rate', 'Roll Back']);
    // Compact items show them once expanded.
    await page.locator('#alerts .alert-toggle').first().click();
    await page.locator('#alerts .alert').first().locator('.alert-action', { hasText: 'Roll Back' }).click();
    // Another run's capabilities do not touch this one's buttons; a run that lost its trainer has none.
    await send(page, { type: 'actions', runId: 'run-b', actions: [] });
    assert.equal(await page.locator('#alerts .alert-action').count(), 6);
    await send(page, { type: 'actions', runId: 'run-a', actions: [] });
    assert.equal(await page.locator('#alerts .alert-action').count(), 0);
    const sent = (await posted(page)).filter((m) => m.type === 'runAction');
    assert.deepEqual(sent, [{ type: 'runAction', runId: 'run-a', action: 'rollback', alertStep: ALERTS[0].step }]);
    assert.ok(sent.every(isWebviewToHost));
    await h.done(page);
  });

  test('dashboard: the banner offers the actions under each alert', async () => {
    const page = await h.open('dashboard', { theme: 'light' });
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 800), { type: 'actions', runId: 'run-a', actions: ['lower-lr'] });
    assert.deepEqual(await buttons(page, '#banner'), ['Lower Learning Rate', 'Lower Learning Rate']);
    await page.locator('#banner .alert').nth(1).locator('.alert-action').click();
    const sent = (await posted(page)).filter((m) => m.type === 'runAction');
    assert.deepEqual(sent, [{ type: 'runAction', runId: 'run-a', action: 'lower-lr', alertStep: ALERTS[1].step }]);
    await h.done(page);
  });

  test('the host refuses an action that names no known one or another run', () => {
    assert.equal(isWebviewToHost({ type: 'runAction', runId: 'run-a', action: 'rm-rf' }), false);
    assert.equal(isWebviewToHost({ type: 'runAction', runId: 'run-a', action: 'rollback', alertStep: -1 }), false);
    assert.equal(isWebviewToHost({ type: 'runAction', runId: 'run-a', action: 'rollback', alertStep: 3 }), true);
  });
});
