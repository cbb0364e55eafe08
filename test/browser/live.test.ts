// The sidebar "Live" bundle (dist/webview/live.js) in real headless Chromium under the host's CSP:
// what it posts, what it shows, that its canvases drew, and that it keeps its state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { isWebviewToHost } from '../../webview/contract';
import { decodeNumber } from '../../src/protocol/numbers';
import { formatValue } from '../../webview/shared/format';
import { alert, ALERTS, HOSTILE, noExtras, ROLES, RUNS, resetMessage, rows } from './fixtures';
import { canvasStats, idle, posted, reveal, RESULTS, send, THEMES, useHarness } from './harness';

const h = useHarness();


async function open(theme: 'dark' | 'light' | 'high-contrast' = 'dark', size: { width?: number; height?: number } = {}): Promise<Page> {
  const page = await h.open('live', { theme, ...size });
  const opened: string[] = [];
  dialogs.set(page, opened);
  page.on('dialog', (d) => {
    opened.push(d.message());
    void d.dismiss();
  });
  return page;
}

const dialogs = new WeakMap<Page, string[]>();

async function done(page: Page): Promise<void> {
  assert.deepEqual(dialogs.get(page), [], 'a run string ran as script');
  await h.done(page);
}

/** A panel's data-* attributes (what its last draw showed) and whether it is hidden ('true'/'false'). */
const panel = (page: Page, id: string): Promise<Record<string, string>> =>
  page.evaluate((id) => {
    const el = document.querySelector(`figure[data-panel="${id}"]`) as HTMLElement;
    return { ...(el.dataset as Record<string, string>), hidden: String(el.hidden) };
  }, id);

/** The texts of a panel's latest-value labels, one per line. */
const latest = (page: Page, id: string): Promise<(string | null)[]> => page.locator(`figure[data-panel="${id}"] .panel-latest .latest`).evaluateAll((els) => els.map((e) => e.textContent));

describe('sidebar', () => {
  test('posts ready, then shows the empty state for no runs', async () => {
    const page = await open();
    assert.deepEqual(await posted(page), [{ type: 'ready', view: 'sidebar' }]);
    await send(page, { type: 'runs', runs: [], activeId: null });
    assert.equal(await page.locator('#empty').isVisible(), true);
    assert.match((await page.locator('#empty').textContent()) ?? '', /No runs yet/);
    assert.equal(await page.locator('#panels').isVisible(), false);
    assert.equal(await page.locator('#run-picker-slot').isVisible(), false);
    await done(page);
  });

  test('run picker: one option per run, names as text (a hostile name stays text), hidden for a single run', async () => {
    const page = await open();
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' });
    assert.equal(await page.locator('#run-picker-slot').isVisible(), true);
    const options = await page.locator('#run-picker vscode-option').evaluateAll((els) => els.map((e) => ({ value: e.getAttribute('value'), text: e.textContent })));
    assert.deepEqual(options, [
      { value: 'run-a', text: 'resnet-cifar (running)' },
      { value: 'run-b', text: `${HOSTILE} (completed)` },
      { value: 'run-c', text: 'baseline lr=3e-4 (failed)' },
    ]);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.locator('#run-picker').evaluate((e) => (e as HTMLElement & { value: string }).value), 'run-a');
    // Filling the picker is not a choice: nothing but ready was posted.
    assert.deepEqual(await posted(page), [{ type: 'ready', view: 'sidebar' }]);
    await send(page, { type: 'runs', runs: RUNS.slice(0, 1), activeId: 'run-a' });
    assert.equal(await page.locator('#run-picker-slot').isVisible(), false);
    await done(page);
  });

  test('choosing a run in the picker posts selectRun', async () => {
    const page = await open();
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 300));
    await page.locator('#run-picker').click();
    await page.locator('#run-picker vscode-option[value="run-c"]').click();
    await idle(page);
    assert.deepEqual((await posted(page)).slice(1), [{ type: 'selectRun', runId: 'run-c' }]);
    await done(page);
  });

  test('reset: alerts on top as text, every panel drawn, a NaN drawn as a marker', async () => {
    const page = await open();
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 1000));
    const alerts = await page.locator('#alerts .alert').evaluateAll((els) => els.map((e) => ({ cls: e.className, id: (e as HTMLElement).dataset.alertId, message: e.querySelector('.alert-message')?.textContent })));
    assert.deepEqual(alerts, [
      { cls: 'alert critical', id: ALERTS[0].id, message: ALERTS[0].message },
      { cls: 'alert warning', id: ALERTS[1].id, message: `layer ${HOSTILE} lost its sign diversity` },
    ]);
    assert.equal(await page.locator('img').count(), 0);
    const severityColour = await page.locator('#alerts .alert.critical .alert-severity').evaluate((e) => getComputedStyle(e).color);
    assert.equal(severityColour, 'rgb(244, 135, 113)'); // errorForeground of Dark+
    assert.match((await page.locator('#run-status').textContent()) ?? '', /resnet-cifar · running · step 999/);

    for (const id of ['loss', 'ece', 'sa', 'entropy', 'grad', 'gpu-util', 'gpu-mem']) {
      const d = await panel(page, id);
      assert.equal(d.hidden, 'false', id);
      assert.ok(Number(d.points) > 50, `${id}: ${d.points} points`);
      const stats = await canvasStats(page, `figure[data-panel="${id}"] canvas`);
      assert.ok(stats.painted > 2000 && stats.colours > 5, `${id} canvas looks blank: ${JSON.stringify(stats)}`);
    }
    const loss = await panel(page, 'loss');
    assert.equal(loss.lines, '2');
    assert.equal(loss.nonfinite, '1');
    assert.equal(loss.alerts, '2');
    // The NaN's triangle: errorForeground pixels at the top edge of the plot.
    const stats = await canvasStats(page, 'figure[data-panel="loss"] canvas', [THEMES.dark.errorForeground]);
    assert.ok(stats.near[0] > 20, `no error-coloured marker: ${JSON.stringify(stats)}`);
    assert.ok(stats.rows[0] && stats.rows[0][0] < 20, `marker not at the top: ${JSON.stringify(stats.rows)}`);
    // The SA panel: min and median computed from the 8 layer series.
    const sa = await panel(page, 'sa');
    assert.equal(sa.lines, '2');
    assert.match((await page.locator('figure[data-panel="sa"] .panel-latest').textContent()) ?? '', /min 0.*median 0\.\d+/);
    await reveal(page, 'figure[data-panel="gpu-mem"]');
    await page.screenshot({ path: `${RESULTS}/sidebar-dark.png`, fullPage: true });
    await done(page);
  });

  test('append deltas grow the series; a NaN in a delta is a new marker; other runs are ignored', async () => {
    const page = await open();
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 500));
    const before = await panel(page, 'grad');
    await send(page, { type: 'append', runId: 'run-a', series: rows(500, 600, { nanAt: [550] }) });
    const afterOne = await panel(page, 'grad');
    assert.equal(Number(afterOne.points), Number(before.points) + 100);
    assert.equal(afterOne.xMax, '599');
    assert.equal((await panel(page, 'loss')).nonfinite, '2');
    assert.match((await page.locator('#run-status').textContent()) ?? '', /step 599/);
    await send(page, { type: 'append', runId: 'run-b', series: rows(600, 700) });
    assert.equal((await panel(page, 'grad')).points, afterOne.points);
    // Many small deltas in one frame: all of them land.
    await send(page, ...Array.from({ length: 10 }, (_, i) => ({ type: 'append' as const, runId: 'run-a', series: rows(600 + i * 10, 610 + i * 10) })));
    assert.equal((await panel(page, 'grad')).xMax, '699');
    await done(page);
  });

  test('alerts close, status changes, Stop Run and Open Dashboard post for the run', async () => {
    const page = await open();
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 800));
    await page.locator('#stop-run').click();
    await page.locator('#open-dashboard').click();
    await send(page, { type: 'alerts', runId: 'run-a', alerts: [{ ...ALERTS[0], state: 'closed', closedStep: 450 }] });
    assert.equal(await page.locator('#alerts .alert').count(), 1);
    assert.equal((await panel(page, 'loss')).alerts, '2'); // the closed episode stays on the chart
    await send(page, { type: 'alerts', runId: 'run-a', alerts: [{ ...ALERTS[1], state: 'closed', closedStep: 790 }] });
    assert.equal(await page.locator('#alerts').isVisible(), false);
    await send(page, { type: 'status', runId: 'run-a', status: 'completed' });
    assert.equal(await page.locator('#stop-run').evaluate((e) => e.hasAttribute('disabled')), true);
    assert.match((await page.locator('#run-status').textContent()) ?? '', /completed/);
    await page.locator('#stop-run').click({ force: true });
    assert.deepEqual((await posted(page)).slice(1), [
      { type: 'stopRun', runId: 'run-a' },
      { type: 'openDashboard', runId: 'run-a' },
    ]);
    await done(page);
  });

  test('state survives a reload (hide/show): run, alerts and thinned series come back before the host resends', async () => {
    const page = await open();
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 1000));
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'ready'));
    await idle(page);
    assert.deepEqual(await posted(page), [{ type: 'ready', view: 'sidebar' }]);
    assert.equal(await page.locator('#alerts .alert').count(), 2);
    assert.match((await page.locator('#run-status').textContent()) ?? '', /resnet-cifar · running · step 999/);
    assert.equal(await page.locator('#run-picker vscode-option').count(), 3);
    const loss = await panel(page, 'loss');
    assert.ok(Number(loss.points) > 100, `restored loss has ${loss.points} points`);
    assert.equal(loss.nonfinite, '1', 'the NaN survived JSON');
    assert.equal((await panel(page, 'sa')).lines, '2');
    // Deltas continue on the restored series; a reset replaces everything.
    await send(page, { type: 'append', runId: 'run-a', series: rows(1000, 1010) });
    assert.equal((await panel(page, 'grad')).xMax, '1009');
    await send(page, { type: 'reset', runId: 'run-c', status: 'failed', series: { loss: { steps: [0, 1, 2], values: [1, 0.5, 0.25] } }, alerts: [], reliability: null, roles: ROLES, ...noExtras() });
    assert.equal(await page.locator('#alerts .alert').count(), 0);
    assert.equal((await panel(page, 'grad')).hidden, 'true');
    assert.equal((await panel(page, 'loss')).points, '3');
    await done(page);
  });

  test('light, dark and high-contrast: the body class switches the chart colours', async () => {
    const page = await open('dark');
    await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, resetMessage('run-a', 1000));
    const ece = 'figure[data-panel="ece"] canvas';
    const purple = [THEMES.dark['charts-purple'], THEMES.light['charts-purple']];
    const dark = await canvasStats(page, ece, purple);
    assert.ok(dark.near[0] > 50 && dark.near[1] === 0, `dark: ${dark.near}`);
    for (const [cls, name] of [['vscode-light', 'light'], ['vscode-high-contrast', 'high-contrast'], ['vscode-dark', 'dark']] as const) {
      await page.evaluate((cls) => {
        document.body.classList.remove('vscode-dark', 'vscode-light', 'vscode-high-contrast');
        document.body.classList.add(cls);
      }, cls);
      await idle(page);
      const stats = await canvasStats(page, ece, [...purple, THEMES['high-contrast'].contrastBorder]);
      if (name === 'light') assert.ok(stats.near[1] > 50 && stats.near[0] === 0, `light: ${stats.near}`);
      if (name === 'dark') assert.ok(stats.near[0] > 50 && stats.near[1] === 0, `dark again: ${stats.near}`);
      if (name === 'high-contrast') assert.ok(stats.near[2] > 50, `high contrast grid: ${stats.near}`);
      await reveal(page, 'figure[data-panel="gpu-mem"]');
      if (name !== 'dark') await page.screenshot({ path: `${RESULTS}/sidebar-${name}.png`, fullPage: true });
    }
    await done(page);
  });

  test('a panel scrolled out of view keeps its label current, and draws every point once back', async () => {
    const page = await open('dark', { height: 420 });
    await send(page, { type: 'runs', runs: RUNS.slice(0, 1), activeId: 'run-a' }, resetMessage('run-a', 200));
    // Scrolled down to the last chart, the loss chart is far above the view.
    await reveal(page, 'figure[data-panel="gpu-mem"]');
    const added = rows(200, 300);
    await send(page, { type: 'append', runId: 'run-a', series: added });
    const last = (name: string) => formatValue(decodeNumber(added[name].values[added[name].values.length - 1]));
    const expected = [`loss ${last('loss')}`, `loss/val ${last('loss/val')}`];
    assert.notEqual((await panel(page, 'loss')).xMax, '299', 'the off-screen chart was drawn: this test needs it skipped');
    assert.deepEqual(await latest(page, 'loss'), expected, 'the label of an off-screen panel is current');
    await page.locator('figure[data-panel="loss"]').scrollIntoViewIfNeeded();
    assert.deepEqual(await latest(page, 'loss'), expected, 'the label is current the moment it shows');
    await reveal(page, 'figure[data-panel="loss"]');
    const shown = await panel(page, 'loss');
    assert.equal(shown.xMax, '299');
    assert.equal(shown.points, String(300 + 30), 'no point was lost while it was off screen (300 loss, 30 val loss)');
    await done(page);
  });

  test('many alerts: one line each, the newest few with an expander, so the loss chart stays in view; a click or Enter expands one', async () => {
    const height = 560;
    const page = await open('dark', { height });
    const long = 'the loss rose to 14.2, 9.1 times its rolling median of 1.56 (z = 48 robust standard deviations), after the learning rate warmed up';
    const many = Array.from({ length: 10 }, (_, i) => alert({ id: `loss-spike:loss:${100 + i}`, step: 100 + i * 10, message: `${long} (${i})`, severity: i === 0 ? 'critical' : 'warning' }));
    await send(page, { type: 'runs', runs: RUNS.slice(0, 1), activeId: 'run-a' }, resetMessage('run-a', 300, { alerts: many }));
    const lossInView = async () => {
      const box = await page.locator('figure[data-panel="loss"] canvas').boundingBox();
      assert.ok(box && box.y >= 0 && box.y + box.height <= height, `the loss chart is out of view: ${JSON.stringify(box)}`);
    };
    await lossInView();
    const items = page.locator('#alerts .alert');
    assert.equal(await items.count(), 10, 'every open alert is in the list');
    const shown = page.locator('#alerts .alert:visible');
    assert.equal(await shown.count(), 3);
    // Critical first, then the newest warnings.
    assert.deepEqual(await shown.evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.alertId)), ['loss-spike:loss:100', 'loss-spike:loss:109', 'loss-spike:loss:108']);
    const first = shown.first();
    const toggle = first.locator('.alert-toggle');
    assert.deepEqual(await toggle.evaluate((e) => [...e.querySelectorAll('span')].map((s) => s.textContent)), ['Critical', 'loss-spike', 'step 100', `${long} (0)`]);
    const oneLine = (await toggle.boundingBox())!.height;
    assert.ok(oneLine < 26, `a collapsed alert takes ${oneLine}px`);
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await first.locator('.alert-details').isVisible(), false);

    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    assert.equal(await first.locator('.alert-details').isVisible(), true);
    assert.match((await first.locator('.alert-details').textContent()) ?? '', /loss · step 100/);
    assert.ok((await toggle.boundingBox())!.height > oneLine * 1.5, 'the expanded alert shows its whole message');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');

    // The keyboard: an alert is a button, Enter expands it.
    const second = shown.nth(1).locator('.alert-toggle');
    await second.focus();
    await page.keyboard.press('Enter');
    assert.equal(await second.getAttribute('aria-expanded'), 'true');
    // A new alert re-renders the list: what was expanded stays so.
    await send(page, { type: 'alerts', runId: 'run-a', alerts: [alert({ id: 'loss-spike:loss:200', step: 200 })] });
    assert.equal(await page.locator('#alerts .alert[data-alert-id="loss-spike:loss:109"] .alert-toggle').getAttribute('aria-expanded'), 'true');
    await lossInView();

    const more = page.locator('#alerts .alert-more');
    assert.equal(await more.textContent(), '8 more');
    assert.equal(await more.getAttribute('aria-expanded'), 'false');
    await more.click();
    assert.equal(await more.getAttribute('aria-expanded'), 'true');
    assert.equal(await shown.count(), 11);
    await lossInView();
    await page.screenshot({ path: `${RESULTS}/sidebar-alerts.png` });
    await more.click();
    assert.equal(await shown.count(), 3);
    await done(page);
  });

  test('everything the sidebar posted matches the contract', () => {
    assert.ok(h.allPosted.length >= 8);
    for (const m of h.allPosted) assert.ok(isWebviewToHost(m), JSON.stringify(m));
  });
  test('a run that logs train_loss: the loss chart draws it and its title says so; a validation loss joins when its role is taken', async () => {
    const page = await open();
    const steps = Array.from({ length: 50 }, (_, i) => i);
    const series = { train_loss: { steps, values: steps.map((s) => 2 / (1 + s)) }, learning_rate: { steps, values: steps.map(() => 0.1) } };
    await send(page, { type: 'runs', runs: RUNS.slice(0, 1), activeId: 'run-a' }, { type: 'reset', runId: 'run-a', status: 'running', series, alerts: [], reliability: null, roles: { loss: 'train_loss', 'loss/val': null, lr: 'learning_rate', grad_norm: null }, ...noExtras() });
    assert.equal((await panel(page, 'loss')).points, '50');
    assert.equal(await page.locator('figure[data-panel="loss"] .panel-title').textContent(), 'Loss (train_loss)');
    await send(
      page,
      { type: 'roles', runId: 'run-a', roles: { loss: 'train_loss', 'loss/val': 'val_loss', lr: 'learning_rate', grad_norm: null } },
      { type: 'append', runId: 'run-a', series: { val_loss: { steps: [10, 20], values: [1.5, 1.2] } } },
    );
    assert.equal((await panel(page, 'loss')).lines, '2');
    assert.equal(await page.locator('figure[data-panel="loss"] .panel-title').textContent(), 'Loss (train_loss, val_loss)');
    await done(page);
  });
});
