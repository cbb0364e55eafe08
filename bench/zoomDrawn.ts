// Zoom into a random 1 % of a long run, measured to the pixels (issue 19: "detail drawn in < 100 ms"):
// the dashboard bundle in real headless Chromium shows the run (the product's ViewBridge over a
// RunStore reading the run's columns), a wheel zooms to 1 % of the steps at a random place, and
// from the view's `detail` question the clock runs through the host's answer (Run.detail reading
// the Arrow segments, ViewBridge encoding it), the message's JSON trip into the page, and the
// dashboard's redraw until it is idle again. The 150 ms the view waits for a wheel to settle
// before it asks is not counted: it is a choice of the view, not a cost of the store.
import { EventEmitter } from 'node:events';
import type { AlertMonitor } from '../src/detect/alertMonitor';
import { Hub } from '../src/hub/hub';
import { RunStore } from '../src/store/runStore';
import { ViewBridge } from '../src/view/viewBridge';
import { idle, posted, send, startHarness } from '../test/browser/harness';
import type { HostToWebview, WebviewToHost } from '../webview/contract';

const [runsDir, runId, zoomsArg] = process.argv.slice(2);
const zooms = Number(zoomsArg ?? 10);

async function main(): Promise<void> {
  const store = new RunStore(runsDir);
  const hub = new Hub({ store });
  const toPage: HostToWebview[] = [];
  const bridge = new ViewBridge((m) => toPage.push(m), store, hub, new EventEmitter() as unknown as AlertMonitor, { snapshotBuckets: 1000 });
  const h = await startHarness();
  const page = await h.open('dashboard', { width: 1200, height: 900 });
  try {
    await bridge.show(runId);
    await send(page, ...toPage.splice(0));
    const box = (await page.locator('figure[data-panel="loss"] canvas').boundingBox())!;
    const times: number[] = [];
    const hostTimes: number[] = [];
    let points = 0;
    let metrics = 0;
    for (let i = 0; i < zooms; i++) {
      await page.mouse.dblclick(box.x + box.width / 2, box.y + box.height / 2);
      await idle(page);
      const asked = (await posted(page)).filter((m) => m.type === 'detail').length;
      // exp(-2303 × 0.002) ≈ 0.01 (webview/dashboard/zoom.ts): one wheel turn to 1 % of the steps.
      await page.mouse.move(box.x + box.width * (0.1 + 0.8 * Math.random()), box.y + box.height / 2);
      await page.mouse.wheel(0, -2303);
      await page.waitForFunction((n) => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.filter((m) => m.type === 'detail').length > n, asked);
      const ask = (await posted(page)).filter((m): m is Extract<WebviewToHost, { type: 'detail' }> => m.type === 'detail').pop()!;
      const t0 = performance.now();
      await bridge.detail(ask.runId, ask.from, ask.to, ask.metrics ?? null);
      const answer = toPage.find((m) => m.type === 'detail') as Extract<HostToWebview, { type: 'detail' }>;
      const messages = toPage.splice(0).map((m) => JSON.stringify(m));
      const t1 = performance.now();
      // In the page: from the message's arrival (parsed as VS Code's postMessage would) to the end
      // of the frame in which the view has nothing left to draw, timed by the page's own clock, so
      // the devtools protocol's round trips and polling of the harness are not counted.
      const pageMs = await page.evaluate(async (texts) => {
        const start = performance.now();
        for (const t of texts) window.postMessage(JSON.parse(t), '*');
        await new Promise((r) => setTimeout(r, 0));
        while (document.querySelector('[data-drawing]') !== null) await new Promise((r) => requestAnimationFrame(r));
        await new Promise((r) => requestAnimationFrame(r));
        return performance.now() - start;
      }, messages);
      hostTimes.push(t1 - t0);
      times.push(t1 - t0 + pageMs);
      metrics = Object.keys(answer.series).length;
      points = Object.values(answer.series).reduce((n, s) => n + s.steps.length, 0);
    }
    times.sort((a, b) => a - b);
    hostTimes.sort((a, b) => a - b);
    const mid = Math.floor(times.length / 2);
    process.stdout.write(JSON.stringify({ zooms, p50Ms: times[mid], maxMs: times[times.length - 1], hostP50Ms: hostTimes[mid], points, metrics }) + '\n');
  } finally {
    bridge.dispose();
    await page.close();
    await h.close();
    await store.dispose();
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
