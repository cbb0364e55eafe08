// The comparison table bundle (dist/webview/compare.js) in real headless Chromium under the host's
// CSP (docs/compare.md): rows and config columns as the host sends them, sorting, the filter, checked
// runs opened on the dashboard, state across a reload, names that are not HTML, the three themes.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { isWebviewToHost, type HostToWebview } from '../../webview/contract';
import { buildCompareTable, encodeTable } from '../../src/view/compareRows';
import { newMeta, type RunMeta } from '../../src/store/meta';
import { emptyStats, observeRow } from '../../src/store/runStats';
import { posted, RESULTS, send, THEMES, useHarness } from './harness';

const h = useHarness();


const HOSTILE = '<img src=x onerror="document.title=1">';

function run(id: string, name: string, patch: Partial<RunMeta>, losses: number[], alerts: number | null): { meta: RunMeta; stats: ReturnType<typeof emptyStats> } {
  const stats = emptyStats(alerts);
  losses.forEach((loss, i) => observeRow(stats, i * 10, 1_700_000_000 + i, { loss }));
  return { meta: newMeta(id, 1_700_000_000, { name, status: 'completed', endedAt: 1_700_000_600, ...patch }), stats };
}

function tableMessage(steps = 3): HostToWebview {
  const losses = Array.from({ length: steps }, (_, i) => 2 - i * 0.1);
  return {
    type: 'compareTable',
    table: encodeTable(
      buildCompareTable([
        run('r-a', 'resnet-a', { tags: ['baseline'], config: { lr: 0.1, optim: { name: 'sgd' } } }, losses, 0),
        run('r-b', 'resnet-b', { status: 'failed', config: { lr: 0.5, optim: { name: 'adam' } } }, [2, 0.5, NaN], 3),
        run('r-c', 'vit-small', { status: 'running', endedAt: null, tags: ['baseline', 'vit'], config: { lr: 0.001, optim: { name: 'adam' }, note: HOSTILE } }, [1, 0.2, 0.3], 1),
        run('r-d', HOSTILE, { config: null }, [], null),
      ], { now: 1_700_000_900 }),
    ),
  };
}

async function open(theme: 'dark' | 'light' | 'high-contrast' = 'dark'): Promise<Page> {
  const page = await h.open('compare', { theme });
  await send(page, tableMessage());
  return page;
}

const names = (page: Page) => page.locator('#table-body tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.runId));
const cell = (page: Page, runId: string, column: string) => page.locator(`#table-body tr[data-run-id="${runId}"] td[data-column="${column}"]`);

describe('comparison table', () => {
  test('posts ready; one row per run with status, start, duration, steps, best and last loss, alerts, tags and every config key', async () => {
    const page = await h.open('compare');
    assert.deepEqual(await posted(page), [{ type: 'ready', view: 'compare' }]);
    await send(page, tableMessage());
    const heads = await page.locator('#table-head th').allInnerTexts();
    assert.deepEqual(heads.map((t) => t.replace(/[▲▼]/g, '').trim()), ['Run', 'Status', 'Tags', 'Start', 'Duration', 'Steps', 'Best loss', 'Last loss', 'Alerts', 'lr', 'note', 'optim.name']);
    // Newest first by default; equal starts keep the host's order.
    assert.deepEqual(await names(page), ['r-a', 'r-b', 'r-c', 'r-d']);
    assert.equal(await page.locator('#count').textContent(), '4 runs');
    assert.equal(await cell(page, 'r-a', 'best').textContent(), '1.800');
    assert.equal(await cell(page, 'r-a', 'steps').textContent(), '20');
    assert.equal(await cell(page, 'r-a', 'duration').textContent(), '10m 00s');
    assert.equal(await cell(page, 'r-c', 'duration').textContent(), '15m 00s', 'a running run lasts until now');
    assert.equal(await cell(page, 'r-a', 'config.optim.name').textContent(), 'sgd');
    assert.deepEqual(await page.locator('#table-body tr[data-run-id="r-c"] .tag').allTextContents(), ['baseline', 'vit']);
    // The run that blew up: its last loss is NaN, in the error colour, never a 0 or a blank.
    const last = cell(page, 'r-b', 'last');
    assert.equal(await last.textContent(), 'NaN');
    assert.match((await last.getAttribute('class')) ?? '', /nonfinite/);
    const colours = await last.evaluate((el) => {
      const probe = document.body.appendChild(document.createElement('span'));
      probe.style.color = 'var(--vscode-errorForeground)';
      const error = getComputedStyle(probe).color;
      probe.remove();
      return [getComputedStyle(el).color, error];
    });
    assert.equal(colours[0], colours[1]);
    assert.equal(await cell(page, 'r-d', 'alerts').textContent(), '—', 'an unknown count is not 0');
    assert.equal(await cell(page, 'r-d', 'best').getAttribute('title'), 'no loss logged (docs/metrics.md)');
    await h.done(page);
  });

  test('names and config values are text, never HTML', async () => {
    const page = await open();
    assert.equal(await page.locator('#table-body img').count(), 0);
    assert.equal(await page.title(), '', 'no handler ran');
    assert.equal(await page.locator('#table-body tr[data-run-id="r-d"] vscode-checkbox').textContent(), HOSTILE);
    assert.equal(await cell(page, 'r-c', 'config.note').textContent(), HOSTILE);
    await h.done(page);
  });

  test('a header sorts by its column, again the other way; empty and NaN cells stay last', async () => {
    const page = await open();
    await page.locator('#table-head th[data-column="best"] button').click();
    assert.deepEqual(await names(page), ['r-c', 'r-b', 'r-a', 'r-d']);
    assert.equal(await page.locator('#table-head th[data-column="best"]').getAttribute('aria-sort'), 'ascending');
    await page.locator('#table-head th[data-column="best"] button').click();
    assert.deepEqual(await names(page), ['r-a', 'r-b', 'r-c', 'r-d']);
    assert.equal(await page.locator('#table-head th[data-column="best"]').getAttribute('aria-sort'), 'descending');
    await page.locator('#table-head th[data-column="last"] button').click();
    assert.deepEqual(await names(page), ['r-c', 'r-a', 'r-b', 'r-d'], 'NaN sorts with the empty cells');
    await page.locator('#table-head th[data-column="config.lr"] button').click();
    assert.deepEqual(await names(page), ['r-c', 'r-a', 'r-b', 'r-d']);
    await h.done(page);
  });

  test('the filter narrows the rows as one types; a filter that cannot be read says why and keeps the last one', async () => {
    const page = await open();
    const input = page.locator('#filter input');
    await input.fill('tag:baseline');
    assert.deepEqual(await names(page), ['r-a', 'r-c']);
    assert.equal(await page.locator('#count').textContent(), '2 of 4 runs');
    await input.fill('optim.name=adam lr<0.1');
    assert.deepEqual(await names(page), ['r-c']);
    await input.fill('lr<fast');
    assert.match((await page.locator('#filter-error').textContent()) ?? '', /< compares numbers/);
    assert.deepEqual(await names(page), ['r-c']);
    await input.fill('nothing-like-this');
    assert.deepEqual(await names(page), []);
    assert.equal(await page.locator('#empty').textContent(), 'No run matches the filter.');
    assert.equal(await page.locator('#filter-error').textContent(), '');
    await h.done(page);
  });

  test('checked runs open on the dashboard: the first checked, the others overlaid; Set Tags… for one', async () => {
    const page = await open();
    const open_ = page.locator('#open-selected');
    assert.equal(await open_.getAttribute('disabled'), '');
    await page.locator('#table-body tr[data-run-id="r-c"] vscode-checkbox').click();
    await page.locator('#table-body tr[data-run-id="r-a"] vscode-checkbox').click();
    assert.equal(await page.locator('#selection').textContent(), 'Opens “vit-small” with “resnet-a” overlaid.');
    assert.equal(await page.locator('#set-tags').getAttribute('disabled'), '', 'tags are set one run at a time');
    await open_.click();
    await page.locator('#table-body tr[data-run-id="r-a"] vscode-checkbox').click();
    await page.locator('#set-tags').click();
    await page.locator('#table-body tr[data-run-id="r-b"]').dblclick({ position: { x: 400, y: 5 } });
    const sent = (await posted(page)).slice(1);
    assert.deepEqual(sent, [
      { type: 'compareRuns', runIds: ['r-c', 'r-a'] },
      { type: 'editTags', runId: 'r-c' },
      { type: 'openDashboard', runId: 'r-b' },
    ]);
    for (const m of sent) assert.ok(isWebviewToHost(m), `the host accepts ${JSON.stringify(m)}`);
    await h.done(page);
  });

  test('sort, filter and the checked runs survive a hide and show (a reload); a live refresh keeps the checks', async () => {
    const page = await open();
    await page.locator('#table-head th[data-column="alerts"] button').click();
    await page.locator('#filter input').fill('resnet');
    await page.locator('#table-body tr[data-run-id="r-b"] vscode-checkbox').click();
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'ready'));
    await send(page, tableMessage());
    assert.deepEqual(await names(page), ['r-b', 'r-a']);
    assert.equal(await page.locator('#filter input').inputValue(), 'resnet');
    assert.equal(await page.locator('#table-body tr[data-run-id="r-b"] vscode-checkbox').evaluate((el) => (el as HTMLInputElement).checked), true);
    // A live run's new rows: the same row elements, the cell rewritten, the check kept.
    const before = await page.locator('#table-body tr[data-run-id="r-a"]').elementHandle();
    await send(page, tableMessage(6));
    assert.equal(await cell(page, 'r-a', 'steps').textContent(), '50');
    assert.ok(await page.evaluate((tr) => tr?.isConnected, before), 'the row element was kept');
    assert.equal(await page.locator('#table-body tr[data-run-id="r-b"]').getAttribute('class'), 'selected');
    await h.done(page);
  });

  for (const theme of ['dark', 'light', 'high-contrast'] as const) {
    test(`the ${theme} theme's colours`, async () => {
      const page = await open(theme);
      await page.locator('#table-body tr[data-run-id="r-a"] vscode-checkbox').click();
      const colour = await page.locator('#table-body tr[data-run-id="r-b"] td[data-column="steps"]').evaluate((el) => getComputedStyle(el).color);
      const hex = THEMES[theme].foreground;
      const rgb = `rgb(${parseInt(hex.slice(1, 3), 16)}, ${parseInt(hex.slice(3, 5), 16)}, ${parseInt(hex.slice(5, 7), 16)})`;
      assert.equal(colour, rgb);
      await page.screenshot({ path: path.join(RESULTS, `compare-${theme}.png`), fullPage: true });
      await h.done(page);
    });
  }
});
