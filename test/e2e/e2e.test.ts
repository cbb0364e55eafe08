// Loss Radar as a user meets it: the VSIX installed in a real VS Code (code-server), driven through
// Chromium. Each step leaves a screenshot in test-results/e2e/.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import type { RunMeta } from '../../src/store/meta';
import { startCodeServer, type CodeServer } from './codeServer';
import * as wb from './workbench';

const cache = process.env.LOSSRADAR_E2E_CACHE;
const python = process.env.LOSSRADAR_PYTHON;
const shots = path.resolve(__dirname, '..', '..', 'test-results', 'e2e');
const SLOW = 240_000;

describe('Loss Radar in a real VS Code', { timeout: 600_000 }, () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let shot = 0;

  const step = (name: string, body: () => Promise<void>) => async () => {
    try {
      await body();
    } catch (err) {
      await snap(`FAILED-${name}`).catch(() => undefined);
      throw err;
    }
  };

  const snap = async (name: string) => {
    shot += 1;
    await page.screenshot({ path: path.join(shots, `${String(shot).padStart(2, '0')}-${name}.png`) });
  };

  before(async () => {
    assert.ok(cache && python, 'run through test/e2e/run.sh, which sets LOSSRADAR_E2E_CACHE and LOSSRADAR_PYTHON');
    mkdirSync(shots, { recursive: true });
    server = await startCodeServer(cache, python);
    ({ browser, page } = await wb.openWorkbench(server));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const palette = (command: string, pick?: string) => wb.palette(page, command, pick);
  const liveFrame = () => wb.liveFrame(page);
  const launch = (name: string) => wb.launch(page, server, name);

  async function runIdByName(name: string): Promise<string> {
    for (let i = 0; i < 600; i++) {
      const id = wb.runDirs(server, name).sort().pop();
      if (id) return id;
      await page.waitForTimeout(100);
    }
    throw new Error(`no run named ${name} in ${server.runsDir}`);
  }

  const rowsOf = (runId: string) => wb.runRows(server, runId);
  const metaOf = (runId: string): RunMeta => {
    const meta = wb.runMeta(server, runId);
    assert.ok(meta, `run ${runId} has no meta.json`);
    return meta;
  };

  test('the Loss Radar container opens with its Live view and Runs tree', step('the-loss-radar-container-opens-with-its', async () => {
    const live = await wb.openLossRadar(page);
    await live.waitForSelector('#run-status');
    await page.locator('.pane-header', { hasText: 'Runs' }).first().waitFor();
    await snap('container');
  }));

  test('Launch Experiment runs lm-diverge: charts grow, the alert reaches the sidebar and the Problems panel', step('launch-experiment-runs-lm-diverge-charts', async () => {
    const runId = await launch('lm-diverge-fast');
    const live = await liveFrame();
    await live.waitForFunction(() => (document.querySelector('#run-status')?.textContent ?? '').includes('lm-diverge-fast'), undefined, { timeout: 60_000 });
    const countAt = async () => rowsOf(runId).length;
    for (let i = 0; i < 600 && (await countAt()) === 0; i++) await page.waitForTimeout(200);
    const first = await countAt();
    await page.waitForTimeout(5000);
    assert.ok((await countAt()) > first, 'rows keep arriving');
    const drawn = await live.evaluate(() =>
      [...document.querySelectorAll('canvas')].filter((c) => {
        const ctx = (c as HTMLCanvasElement).getContext('2d');
        if (!ctx || c.width === 0 || c.height === 0) return false;
        const data = ctx.getImageData(0, 0, c.width, c.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
      }).length,
    );
    assert.ok(drawn >= 3, `${drawn} charts drew`);
    await snap('charts-growing');
    await live.waitForSelector('.alert', { timeout: SLOW });
    await snap('sidebar-alert');
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel .monaco-list-row', { hasText: 'lm-diverge-fast' }).first().waitFor({ timeout: 30_000 });
    await snap('problems-panel');
  }));

  test('python train.py in the integrated terminal shows up live with no configuration, its alert on the logging line', step('python-train-py-in-the-integrated-termin', async () => {
    await page.keyboard.press('Control+Backquote');
    await page.locator('.terminal-wrapper').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(2000);
    // As a user with an activated virtual environment would: nothing about Loss Radar is set by hand.
    await page.keyboard.type(`source ${path.dirname(path.dirname(python!))}/bin/activate && python train.py\n`);
    const runId = await runIdByName('e2e-train');
    const live = await liveFrame();
    await live.waitForFunction(() => (document.querySelector('#run-status')?.textContent ?? '').includes('e2e-train'), undefined, { timeout: 60_000 });
    await snap('terminal-run-live');
    await live.waitForSelector('.alert', { timeout: SLOW });
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('train.py');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'train.py' }).first().waitFor();
    await page.keyboard.press('Enter');
    const line = readFileSync(path.join(server.workspace, 'train.py'), 'utf8').split('\n').findIndex((l) => l.includes('run.log(step, loss=')) + 1;
    // Go to the logging line: the editor renders only the lines in view.
    await page.waitForTimeout(1000);
    await page.keyboard.press('Control+G');
    await page.locator('.quick-input-widget input').fill(`:${line}`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.querySelector('.view-lines')?.textContent?.includes('Loss Radar') || [...document.querySelectorAll('.view-lines span')].some((s) => getComputedStyle(s, '::after').content.includes('Loss Radar')), undefined, { timeout: 30_000 });
    await page.locator('.squiggly-warning, .squiggly-error').first().waitFor({ timeout: 30_000 });
    await snap(`decoration-line-${line}`);
    assert.ok(metaOf(runId).name === 'e2e-train');
  }));

  test('Stop Run ends a second run and the tree shows it stopped', step('stop-run-ends-a-second-run-and-the-tree', async () => {
    const runId = await launch('e2e-train');
    for (let i = 0; i < 300 && rowsOf(runId).length < 20; i++) await page.waitForTimeout(200);
    await palette('Loss Radar: Stop Run');
    // With several runs live, Stop Run asks which one; with one, it stops it straight away.
    const quick = page.locator('.quick-input-list .monaco-list-row', { hasText: runId });
    await quick
      .first()
      .waitFor({ timeout: 5000 })
      .then(() => quick.first().click())
      .catch(() => undefined);
    await page.locator('.monaco-list-row[aria-label*="stopped"]').first().waitFor({ timeout: 30_000 });
    assert.equal(metaOf(runId).status, 'stopped');
    await snap('run-stopped');
  }));

  test('Open Run Dashboard shows the SA heatmap', step('open-run-dashboard-shows-the-sa-heatmap', async () => {
    await palette('Loss Radar: Open Run Dashboard');
    const pick = page.locator('.quick-input-list .monaco-list-row', { hasText: 'lm-diverge-fast' });
    if (await pick.first().isVisible({ timeout: 3000 }).catch(() => false)) await pick.first().click();
    let heat: Frame | undefined;
    for (let i = 0; i < 120 && !heat; i++) {
      for (const frame of page.frames()) if (await frame.$('#heatmap, .heatmap canvas, canvas.heatmap').catch(() => null)) heat = frame;
      if (!heat) await page.waitForTimeout(500);
    }
    assert.ok(heat, 'the dashboard rendered its heatmap');
    await page.waitForTimeout(1500);
    await snap('dashboard');
  }));

  test('a window reload mid-run: the run re-attaches and no row is lost', step('a-window-reload-mid-run-the-run-re-attac', async () => {
    const runId = await launch('e2e-train');
    for (let i = 0; i < 300 && rowsOf(runId).length < 30; i++) await page.waitForTimeout(200);
    await palette('Developer: Reload Window');
    await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
    for (let i = 0; i < 900 && metaOf(runId).status === 'running'; i++) await page.waitForTimeout(200);
    const meta = metaOf(runId);
    assert.ok(['completed', 'interrupted'].includes(meta.status), meta.status);
    const steps = rowsOf(runId).map((r) => r.seq);
    const unique = new Set(steps);
    assert.equal(unique.size, steps.length, 'no row twice');
    assert.deepEqual([...unique].sort((a, b) => a! - b!), Array.from({ length: unique.size }, (_, i) => i), 'no row lost');
    await snap('after-reload');
  }));

  test('a missing interpreter is a clear error, and nothing hangs', step('a-missing-interpreter-is-a-clear-error-a', async () => {
    await palette('Loss Radar: Launch Experiment', 'missing-python');
    await page.locator('.notification-list-item-message', { hasText: 'was not found' }).first().waitFor({ timeout: 30_000 });
    await snap('missing-interpreter');
  }));
});
