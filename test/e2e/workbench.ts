// The workbench of a running code-server as a user drives it: the command palette, the Loss Radar
// sidebar's webview frame, launching an experiment. Shared by the end-to-end tests and the
// end-to-end latency benchmark.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { parseJsonLines } from '../../src/store/jsonLines';
import type { RunMeta } from '../../src/store/meta';
import { CHROMIUM_ARGS, chromiumExecutable } from '../browser/harness';
import type { CodeServer } from './codeServer';

export interface Workbench {
  browser: Browser;
  page: Page;
}

export async function openWorkbench(server: CodeServer): Promise<Workbench> {
  const browser = await chromium.launch({ executablePath: chromiumExecutable(), args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  await page.goto(server.url);
  await page.waitForSelector('.monaco-workbench', { timeout: 90_000 });
  await page.waitForSelector('.statusbar', { timeout: 90_000 });
  return { browser, page };
}

/**
 * Runs `command` from the palette; `pick` is then chosen from the quick pick it opens. A quick
 * input closes when focus leaves it (a webview that finishes loading takes focus), so everything
 * up to the last Enter is tried again; nothing has run until that Enter.
 */
export async function palette(page: Page, command: string, pick?: string): Promise<void> {
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+Shift+P');
      await input.waitFor({ state: 'visible' });
      await input.fill(`>${command}`);
      await page.locator('.quick-input-list .monaco-list-row', { hasText: command }).first().waitFor({ timeout: 30_000 });
      if (pick === undefined) break;
      await page.keyboard.press('Enter');
      await page.locator('.quick-input-list .monaco-list-row', { hasText: pick }).first().waitFor({ timeout: 60_000 });
      await input.fill(pick, { timeout: 10_000 });
      await page.waitForTimeout(300);
      if (!(await input.isVisible())) throw new Error(`the quick pick for ${command} closed`);
      break;
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
  await page.keyboard.press('Enter');
}

/** Opens the Loss Radar container from the activity bar. */
export async function openLossRadar(page: Page): Promise<Frame> {
  await page.locator('.activitybar [aria-label^="Loss Radar"]').first().click();
  return liveFrame(page);
}

/** The frame of the sidebar's Live webview (VS Code nests it in iframes). */
export async function liveFrame(page: Page): Promise<Frame> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    for (const frame of page.frames()) {
      if (await frame.$('#live').catch(() => null)) return frame;
    }
    if (Date.now() > deadline) throw new Error('the Live view never rendered');
    await page.waitForTimeout(500);
  }
}

/** The run folders of runs named `name`. */
export function runDirs(server: CodeServer, name: string): string[] {
  try {
    return readdirSync(server.runsDir).filter((d) => d.includes(`-${name}-`));
  } catch {
    return [];
  }
}

/** The rows the store has written for a run so far (none before its first flush). */
export function runRows<T = { step: number; time: number; seq?: number }>(server: CodeServer, runId: string): T[] {
  return runRecords<T>(server, runId, 'metrics.jsonl');
}

/** The records of one of a run's JSON-lines files (alerts.jsonl, events.jsonl), none before its first flush. */
export function runRecords<T>(server: CodeServer, runId: string, file: string): T[] {
  try {
    return parseJsonLines<T>(readFileSync(path.join(server.runsDir, runId, file), 'utf8')).items;
  } catch {
    return [];
  }
}

/** A run's meta.json, or null before the store wrote it. */
export function runMeta(server: CodeServer, runId: string): RunMeta | null {
  try {
    return JSON.parse(readFileSync(path.join(server.runsDir, runId, 'meta.json'), 'utf8')) as RunMeta;
  } catch {
    return null;
  }
}

/** Launches `name` from the palette and returns the id of the run it created. */
export async function launch(page: Page, server: CodeServer, name: string): Promise<string> {
  const before = new Set(runDirs(server, name));
  await palette(page, 'Loss Radar: Launch Experiment', name);
  for (let i = 0; i < 600; i++) {
    const fresh = runDirs(server, name).find((d) => !before.has(d));
    if (fresh) return fresh;
    await page.waitForTimeout(100);
  }
  throw new Error(`launching ${name} made no run`);
}
