// The sidebar "Live" bundle (dist/webview/live.js) in real headless Chromium under the host's CSP:
// what it posts, what it shows, that its canvases drew, and that it keeps its state.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { isWebviewToHost, type WebviewToHost } from '../../webview/contract';
import { ALERTS, HOSTILE, RUNS, resetMessage, rows } from './fixtures';
import { canvasStats, idle, posted, reveal, RESULTS, send, startHarness, THEMES, unexpectedProblems, type Harness } from './harness';

let h: Harness;
const allPosted: WebviewToHost[] = [];

before(async () => {
  mkdirSync(RESULTS, { recursive: true });
  h = await startHarness();
});

after(async () => {
  await h?.close();
});

async function open(theme: 'dark' | 'light' | 'high-contrast' = 'dark'): Promise<Page> {
  const page = await h.open('live', { theme });
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
  allPosted.push(...(await posted(page)));
  assert.deepEqual(await unexpectedProblems(page), []);
  assert.deepEqual(dialogs.get(page), [], 'a run string ran as script');
  await page.close();
}

/** A panel's data-* attributes (what its last draw showed) and whether it is hidden ('true'/'false'). */
const panel = (page: Page, id: string): Promise<Record<string, string>> =>
  page.evaluate((id) => {
    const el = document.querySelector(`figure[data-panel="${id}"]`) as HTMLElement;
    return { ...(el.dataset as Record<string, string>), hidden: String(el.hidden) };
  }, id);

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
    await send(page, { type: 'reset', runId: 'run-c', status: 'failed', series: { loss: { steps: [0, 1, 2], values: [1, 0.5, 0.25] } }, alerts: [], reliability: null });
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

  test('everything the sidebar posted matches the contract', () => {
    assert.ok(allPosted.length >= 8);
    for (const m of allPosted) assert.ok(isWebviewToHost(m), JSON.stringify(m));
  });
});
