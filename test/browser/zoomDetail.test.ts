// Detail on zoom (docs/store.md "Zoom"), end to end in real headless Chromium: the dashboard bundle
// shows a long run whose overview came from its columns on disk (a bounded summary); a wheel zoom
// settles, the view asks for the detail of the range and only of the charts on screen; the host's
// side of the harness is the product's own (RunStore → Run.detail → ViewBridge, the run's Arrow
// segments read from disk), its answer goes to the page through JSON as VS Code's postMessage
// does, and the charts then draw that range at full resolution.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { AlertMonitor } from '../../src/detect/alertMonitor';
import { Hub } from '../../src/hub/hub';
import { RunStore } from '../../src/store/runStore';
import { ViewBridge } from '../../src/view/viewBridge';
import type { HostToWebview, WebviewToHost } from '../../webview/contract';
import { tempDir } from '../helpers/tmp';
import { canvasStats, posted, reveal, send, startHarness, unexpectedProblems, type Harness } from './harness';

const ROWS = 40_000;
let h: Harness;
const tmp = tempDir('lossradar-zoom-detail-');

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h?.close();
  tmp.cleanup();
});

/** A run of ROWS steps written through the store (sealed segments of 2 000 rows), then reopened from disk. */
async function longRun(): Promise<{ store: RunStore; id: string }> {
  const writer = new RunStore(tmp.dir, { flushMs: 1, segmentRows: 2000 });
  const { run } = await writer.open({ name: 'long', pid: 0 });
  for (let s = 0; s < ROWS; s += 1000) {
    const rows = Array.from({ length: 1000 }, (_, i) => {
      const step = s + i;
      // A fast wiggle on a slow decay: the overview's buckets cannot hold it, the detail does.
      const values: Record<string, number> = { loss: 2 * Math.exp(-step / 20_000) + 0.2 * Math.sin(step / 3), grad_norm: 1 + 0.1 * Math.cos(step / 5) };
      // A chart each, below the two above: the last of them far below the fold.
      for (let m = 0; m < 12; m++) values[`more/${m}`] = m + Math.sin(step / 7);
      values['far/below'] = step % 97;
      return { step, values };
    });
    run.append(rows as never, rows.map((r) => r.step));
    await run.flush();
  }
  await run.end('completed', null);
  await writer.dispose();
  return { store: new RunStore(tmp.dir, { segmentRows: 2000, bounds: { tailPoints: 500, overviewBuckets: 128 } }), id: run.id };
}

const dataset = (page: Page, selector: string): Promise<Record<string, string>> =>
  page.evaluate((s) => ({ ...((document.querySelector(s) as HTMLElement).dataset as Record<string, string>) }), selector);

test('a settled zoom asks for the range of the charts on screen, then of one scrolled to; the answers read from disk are drawn', async () => {
  const { store, id } = await longRun();
  const hub = new Hub({ store });
  const toPage: HostToWebview[] = [];
  const bridge = new ViewBridge((m) => toPage.push(m), store, hub, new EventEmitter() as unknown as AlertMonitor, { snapshotBuckets: 300 });
  // Short enough that the chart of 'far/below' (the last) is off-screen until scrolled to.
  const page = await h.open('dashboard', { height: 700 });
  try {
    await bridge.show(id);
    await send(page, ...toPage.splice(0));
    const loss = 'figure[data-panel="loss"]';
    const overview = await dataset(page, loss);
    assert.deepEqual([Number(overview.xMin), Number(overview.xMax)], [0, ROWS - 1], 'every step shown');
    assert.ok(Number(overview.points) < 4000, `the overview is a summary: ${overview.points} points`);

    const box = (await page.locator(`${loss} canvas`).boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.55, box.y + box.height / 2);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -500);
    // The view asks once the wheel has stopped (webview/dashboard/zoom.ts settles for 150 ms).
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'detail'));
    const asks = (await posted(page)).filter((m): m is Extract<WebviewToHost, { type: 'detail' }> => m.type === 'detail');
    const ask = asks[asks.length - 1];
    const zoomed = await dataset(page, loss);
    assert.equal(ask.runId, id);
    assert.deepEqual([ask.from, ask.to], [Math.floor(Number(zoomed.xMin)), Math.ceil(Number(zoomed.xMax))], 'the range the charts show');
    assert.ok(ask.to - ask.from < ROWS / 10, `zoomed into ${ask.from}–${ask.to}`);
    // The metrics of the charts on screen (or about to be), not the one far below the fold.
    const metrics = ask.metrics ?? [];
    assert.ok(metrics.includes('loss') && metrics.includes('grad_norm'), `asked for ${metrics}`);
    assert.ok(!metrics.includes('far/below') && metrics.length < 14, `asked for ${metrics}`);
    const before = await canvasStats(page, `${loss} canvas`);

    await bridge.detail(ask.runId, ask.from, ask.to, ask.metrics ?? null);
    const answer = toPage.find((m): m is Extract<HostToWebview, { type: 'detail' }> => m.type === 'detail');
    assert.ok(answer, 'the host answered');
    assert.deepEqual(Object.keys(answer.series).sort(), [...metrics].sort(), 'the metrics asked for, no others');
    // Every step of the range, from the sealed segments on disk (a 1 000-step zoom is under M4's 4 × 300).
    const span = ask.to - ask.from + 1;
    assert.deepEqual(answer.series.loss.steps, Array.from({ length: span }, (_, i) => ask.from + i));
    await send(page, ...toPage.splice(0));

    const drawn = await dataset(page, loss);
    assert.equal(drawn.xMin, zoomed.xMin, 'the zoom stays where it was');
    assert.ok(Number(drawn.points) >= Number(overview.points) - 4 * 128 + span, `${drawn.points} points drawn after the detail (overview ${overview.points})`);
    const after = await canvasStats(page, `${loss} canvas`);
    assert.ok(after.painted > before.painted, `the wiggle drawn in full: ${before.painted} → ${after.painted} pixels painted`);

    // Scrolled into view, the last chart draws in the same range: the view asks again, with it.
    const far = 'figure[data-panel="metric:far/below"]';
    await reveal(page, far);
    await page.waitForFunction((n) => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.filter((m) => m.type === 'detail').length > n, asks.length);
    const again = (await posted(page)).filter((m): m is Extract<WebviewToHost, { type: 'detail' }> => m.type === 'detail').pop()!;
    assert.deepEqual([again.from, again.to], [ask.from, ask.to]);
    assert.ok(again.metrics?.includes('far/below'), `asked again, with it: ${again.metrics}`);
    const farBefore = Number((await dataset(page, far)).points);
    await bridge.detail(again.runId, again.from, again.to, again.metrics ?? null);
    await send(page, ...toPage.splice(0));
    const farDrawn = await dataset(page, far);
    assert.equal(farDrawn.xMin, zoomed.xMin);
    assert.ok(Number(farDrawn.points) > farBefore && Number(farDrawn.points) >= span, `${farBefore} → ${farDrawn.points} points of far/below drawn`);
    assert.deepEqual(await unexpectedProblems(page), []);
  } finally {
    bridge.dispose();
    await page.close();
    await store.dispose();
  }
});
