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

  let divergeRunId = '';

  test('Launch Experiment runs lm-diverge: charts grow, the alert reaches the sidebar and the Problems panel', step('launch-experiment-runs-lm-diverge-charts', async () => {
    const runId = await launch('lm-diverge-fast');
    divergeRunId = runId;
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

  test('the step where the loss became NaN is a marker in the sidebar, its label in the error colour, never a 0', step('nan-step-is-a-marker', async () => {
    const nonFinite = (v: unknown) => v === 'NaN' || v === 'Infinity' || v === '-Infinity';
    let at: number | undefined;
    for (let i = 0; i < 1200 && at === undefined; i++) {
      at = wb.runRows<{ step: number; loss?: unknown }>(server, divergeRunId).find((r) => nonFinite(r.loss))?.step;
      if (at === undefined) await page.waitForTimeout(200);
    }
    assert.ok(at !== undefined, 'lm-diverge reached a non-finite loss');
    // VS Code hands webview messages over as JSON: this is where a NaN once arrived as null, drawn as 0.
    const live = await liveFrame();
    await live.waitForFunction(() => Number(document.querySelector<HTMLElement>('figure[data-panel="loss"]')?.dataset.nonfinite ?? 0) > 0, undefined, { timeout: 30_000 });
    const loss = await live.evaluate(() => {
      const fig = document.querySelector<HTMLElement>('figure[data-panel="loss"]')!;
      const label = fig.querySelector<HTMLElement>('.panel-latest .latest')!;
      const probe = document.body.appendChild(document.createElement('span'));
      probe.style.color = 'var(--vscode-errorForeground)';
      const error = getComputedStyle(probe).color;
      probe.remove();
      return { label: label.textContent, nonfinite: label.classList.contains('nonfinite'), colour: getComputedStyle(label).color, error };
    });
    await snap('nan-step-marker');
    // A NaN that arrived as null would be a plain point at 0: no marker, and a label reading 0.
    assert.match(loss.label ?? '', /NaN|∞/);
    assert.ok(loss.nonfinite, 'the label is marked non-finite');
    assert.equal(loss.colour, loss.error, 'the label is in the theme’s error colour');
  }));

  test('python train.py in the integrated terminal shows up live with no configuration, its alert on the logging line', step('python-train-py-in-the-integrated-termin', async () => {
    await page.keyboard.press('Control+Backquote');
    await page.locator('.terminal-wrapper').first().waitFor({ timeout: 30_000 });
    await page.waitForTimeout(2000);
    // As a user with an activated virtual environment would: nothing about Loss Radar is set by hand.
    await page.keyboard.type(`source ${path.dirname(path.dirname(python!))}/bin/activate && python train.py\n`);
    const runId = await runIdByName('e2e-train');
    terminalRuns.push(runId);
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

  /** Runs started from the terminal: a command typed while one still runs would reach its shell as a paste, never run. */
  const terminalRuns: string[] = [];
  const alive = (pid: number | null | undefined) => {
    if (!pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  /**
   * Types a command into a new integrated terminal with the virtual environment activated, as a
   * user opening one would. A fresh shell each time: a shell that ran a script stopped from the
   * editor was seen to take the next typed line as a highlighted paste and never run it.
   */
  async function inTerminal(command: string): Promise<void> {
    for (let i = 0; i < 600 && terminalRuns.some((id) => alive(wb.runMeta(server, id)?.pid)); i++) await page.waitForTimeout(100);
    const before = await page.locator('.terminal-wrapper').count();
    await palette('Terminal: Create New Terminal');
    for (let i = 0; i < 100 && (await page.locator('.terminal-wrapper').count()) <= before; i++) await page.waitForTimeout(100);
    const terminal = page.locator('.terminal-wrapper.active .xterm-screen').first();
    await terminal.waitFor({ timeout: 30_000 });
    // The new shell's prompt, before anything is typed into it.
    await page.waitForTimeout(2000);
    await terminal.click();
    await page.keyboard.type(`source ${path.dirname(path.dirname(python!))}/bin/activate && ${command}`);
    await page.waitForTimeout(300);
    await page.keyboard.press('Enter');
  }

  /** Starts `python SCRIPT` in the terminal; resolves with the id of the run named `name` it made, once that has `rows` rows. */
  async function scriptFromTerminal(script: string, name: string, rows: number): Promise<string> {
    const before = new Set(wb.runDirs(server, name));
    await inTerminal(`python ${script}`);
    let runId: string | undefined;
    for (let i = 0; i < 900 && !runId; i++) {
      runId = wb.runDirs(server, name).find((d) => !before.has(d));
      if (!runId) await page.waitForTimeout(100);
    }
    assert.ok(runId, `python ${script} made a run`);
    terminalRuns.push(runId);
    for (let i = 0; i < 600 && rowsOf(runId).length < rows; i++) await page.waitForTimeout(100);
    return runId;
  }

  const trainFromTerminal = (rows: number) => scriptFromTerminal('train.py', 'e2e-train', rows);

  const statusBarText = () => page.locator('.statusbar-item', { hasText: 'e2e-train' }).first().innerText({ timeout: 10_000 });
  const problemRows = async () => page.locator('.markers-panel .monaco-list-row', { hasText: 'e2e-train' }).allInnerTexts();

  test('a rerun of the script replaces its diagnostics: the Problems panel and the line show the newest run only', step('a-rerun-replaces-its-diagnostics', async () => {
    const previous = wb.runDirs(server, 'e2e-train').sort().pop()!;
    for (let i = 0; i < 600 && metaOf(previous).status === 'running'; i++) await page.waitForTimeout(200);
    const runId = await trainFromTerminal(1);
    for (let i = 0; i < 900 && metaOf(runId).status === 'running'; i++) await page.waitForTimeout(200);
    assert.equal(metaOf(runId).status, 'completed');
    // The last delta reaches every view: the status bar and the sidebar end on the run's last step.
    const lastStep = Math.max(...rowsOf(runId).map((r) => r.step));
    const ended = new RegExp(`e2e-train · completed · step ${lastStep} · loss `);
    for (let i = 0; i < 50 && !ended.test(await statusBarText()); i++) await page.waitForTimeout(100);
    assert.match(await statusBarText(), ended);
    const live = await liveFrame();
    await live.waitForFunction((step) => (document.querySelector('#run-status')?.textContent ?? '').includes(`step ${step}`), lastStep, { timeout: 10_000 });
    // What the newest run still has open, on lines of train.py: exactly what the editor must show.
    const records = wb.runRecords<{ id: string; step: number; state: string; source?: { file: string } }>(server, runId, 'alerts.jsonl');
    const open = new Map<string, number>();
    for (const r of records) if (r.state === 'open' && r.source?.file.endsWith('train.py')) open.set(r.id, r.step); else open.delete(r.id);
    await page.keyboard.press('Control+Shift+M');
    // Only this script's entries, in a panel tall enough to list them all (the list renders what is in view).
    await page.locator('.markers-panel-action-filter input, .viewpane-filter input').first().fill('e2e-train');
    await palette('View: Toggle Maximized Panel');
    await page.waitForTimeout(2000);
    const rows = await problemRows();
    await snap('problems-after-rerun');
    await palette('View: Toggle Maximized Panel');
    await page.locator('.markers-panel-action-filter input, .viewpane-filter input').first().fill('');
    assert.equal(rows.length, open.size, `Problems lists ${rows.length} entries for ${open.size} open alerts of the newest run:\n${rows.join('\n')}`);
    for (const step of open.values()) assert.ok(rows.some((r) => r.includes(`step ${step}:`)), `the open alert at step ${step} is listed`);
  }));

  test('Stop Run on a script started in the terminal records it as stopped, though the script calls finish()', step('stop-run-on-a-terminal-script', async () => {
    const runId = await trainFromTerminal(20);
    await palette('Loss Radar: Stop Run');
    const quick = page.locator('.quick-input-list .monaco-list-row', { hasText: runId });
    await quick.first().waitFor({ timeout: 5000 }).then(() => quick.first().click()).catch(() => undefined);
    for (let i = 0; i < 300 && metaOf(runId).status === 'running'; i++) await page.waitForTimeout(100);
    assert.equal(metaOf(runId).status, 'stopped');
    await page.locator('.monaco-list-row[aria-label*="stopped"]').first().waitFor({ timeout: 30_000 });
    await snap('terminal-run-stopped');
  }));

  test('a script killed with SIGKILL is interrupted in meta.json, the sidebar, the Runs tree and the status bar', step('a-killed-script-is-interrupted', async () => {
    const runId = await trainFromTerminal(20);
    const live = await liveFrame();
    await live.waitForFunction(() => (document.querySelector('#run-status')?.textContent ?? '').includes('running'), undefined, { timeout: 30_000 });
    const pid = metaOf(runId).pid;
    assert.ok(pid, 'the run recorded its trainer’s pid');
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 100 && metaOf(runId).status === 'running'; i++) await page.waitForTimeout(100);
    assert.equal(metaOf(runId).status, 'interrupted', 'meta.json');
    await live.waitForFunction(() => (document.querySelector('#run-status')?.textContent ?? '').includes('interrupted'), undefined, { timeout: 10_000 });
    await page.locator('.monaco-list-row[aria-label*="e2e-train, interrupted"]').first().waitFor({ timeout: 10_000 });
    const interrupted = /e2e-train · interrupted · step \d+/;
    for (let i = 0; i < 50 && !interrupted.test(await statusBarText()); i++) await page.waitForTimeout(100);
    assert.match(await statusBarText(), interrupted);
    await snap('killed-script-interrupted');
    // Nothing is running now: Stop Run says so rather than "not connected".
    await palette('Loss Radar: Stop Run');
    await page.locator('.notification-list-item-message', { hasText: 'no run is running' }).first().waitFor({ timeout: 10_000 });
  }));

  test('a Lightning script from the terminal, logging train_loss and lr-SGD, shows up live with its loss chart and its warnings', step('lightning-script-from-the-terminal', async () => {
    const runId = await scriptFromTerminal('train_lightning.py', 'e2e-lightning', 1);
    const live = await liveFrame();
    await live.waitForFunction(() => (document.querySelector('#run-status')?.textContent ?? '').includes('e2e-lightning'), undefined, { timeout: 60_000 });
    await live.waitForFunction(() => Number(document.querySelector<HTMLElement>('figure[data-panel="loss"]')?.dataset.points ?? 0) > 10, undefined, { timeout: 60_000 });
    assert.equal(await live.locator('figure[data-panel="loss"] .panel-title').textContent(), 'Loss (train_loss)', 'the chart says which metric it draws');
    await live.waitForSelector('.alert', { timeout: SLOW });
    // alerts.jsonl is written in batches (at most 250 ms apart): the sidebar can be first.
    const judged = () => wb.runRecords<{ metric: string; state: string }>(server, runId, 'alerts.jsonl');
    for (let i = 0; i < 100 && !judged().some((a) => a.state === 'open'); i++) await page.waitForTimeout(100);
    const alerts = judged();
    assert.ok(alerts.some((a) => a.state === 'open' && a.metric === 'train_loss'), `warnings judge train_loss: ${JSON.stringify(alerts.map((a) => a.metric))}`);
    await snap('lightning-run-live');
    for (let i = 0; i < 600 && metaOf(runId).status === 'running'; i++) await page.waitForTimeout(200);
    assert.equal(metaOf(runId).status, 'completed');
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

  test('Compare Runs opens the comparison table with the runs of the steps before, sortable and filtered', step('compare-runs-opens-the-comparison-table', async () => {
    // On the Runs view's title bar, and in the palette (docs/compare.md).
    assert.ok((await page.locator('[aria-label="Compare Runs"]').count()) > 0, 'Compare Runs is on the Runs view’s title bar');
    await palette('Loss Radar: Compare Runs');
    let table: Frame | undefined;
    for (let i = 0; i < 120 && !table; i++) {
      for (const frame of page.frames()) if (await frame.$('#runs-table').catch(() => null)) table = frame;
      if (!table) await page.waitForTimeout(500);
    }
    assert.ok(table, 'the comparison table rendered');
    const names = () => table!.locator('#table-body tr vscode-checkbox').allTextContents();
    for (const name of ['lm-diverge-fast', 'e2e-train', 'e2e-lightning']) {
      await table.locator('#table-body tr vscode-checkbox', { hasText: name }).first().waitFor({ timeout: 30_000 });
    }
    const listed = await names();
    for (const name of ['lm-diverge-fast', 'e2e-train', 'e2e-lightning']) {
      assert.equal(listed.filter((n) => n === name).length, wb.runDirs(server, name).length, `one row per run named ${name}: ${listed.join(', ')}`);
    }
    // The run that diverged: its steps and its alerts, from meta.json's summary, not its series.
    const diverge = table.locator(`#table-body tr[data-run-id="${divergeRunId}"]`);
    assert.ok(Number((await diverge.locator('td[data-column="alerts"]').textContent()) ?? 0) > 0, 'lm-diverge-fast has alerts');
    assert.notEqual(await diverge.locator('td[data-column="steps"]').textContent(), '—');
    // The Lightning run logs train_loss: the loss columns read it through the metric roles.
    const lightning = table.locator('#table-body tr', { hasText: 'e2e-lightning' }).first();
    assert.match((await lightning.locator('td[data-column="best"]').getAttribute('title')) ?? '', /^train_loss at step/);
    await table.locator('#filter input').fill('e2e-lightning');
    for (let i = 0; i < 50 && (await names()).some((n) => n !== 'e2e-lightning'); i++) await page.waitForTimeout(100);
    assert.ok((await names()).every((n) => n === 'e2e-lightning'), `filtered: ${(await names()).join(', ')}`);
    await snap('compare-table');
  }));

  test('Lower Learning Rate from a notification halves the lr of a live script: its rows and its events say so', step('lower-lr-from-a-notification', async () => {
    // train_rescue.py arms the actions (run.watch(model, optimizer=..., scheduler=...); docs/rescue.md).
    const runId = await scriptFromTerminal('train_rescue.py', 'e2e-rescue', 1);
    const notification = page.locator('.notification-list-item', { hasText: 'e2e-rescue' }).filter({ has: page.locator('.monaco-button', { hasText: 'Lower Learning Rate' }) }).first();
    await notification.waitFor({ timeout: SLOW });
    await snap('rescue-notification');
    await notification.locator('.monaco-button', { hasText: 'Lower Learning Rate' }).click();
    type Event = { kind?: string; step?: number; message: string };
    let event: Event | undefined;
    for (let i = 0; i < 600 && !event; i++) {
      event = wb.runRecords<Event>(server, runId, 'events.jsonl').find((e) => e.kind === 'lr');
      if (!event) await page.waitForTimeout(100);
    }
    assert.ok(event?.step !== undefined, `run ${runId} has an lr event: ${JSON.stringify(wb.runRecords(server, runId, 'events.jsonl'))}`);
    assert.match(event.message, /^lr × 0\.5: /);
    const at = event.step;
    const lrAt = () => new Map(wb.runRows<{ step: number; lr?: number }>(server, runId).map((r) => [r.step, r.lr]));
    for (let i = 0; i < 300 && lrAt().get(at + 1) === undefined; i++) await page.waitForTimeout(100);
    const lr = lrAt();
    // The scheduler ramps the lr by 2.6 % a step; lowered, the next step's is about half.
    assert.ok((lr.get(at + 1) ?? Infinity) < 0.6 * (lr.get(at) ?? 0), `lr ${lr.get(at)} at step ${at}, then ${lr.get(at + 1)}`);
    for (let i = 0; i < 600 && metaOf(runId).status === 'running'; i++) await page.waitForTimeout(100);
    assert.equal(metaOf(runId).status, 'completed');
    await snap('rescue-lr-lowered');
  }));
});
