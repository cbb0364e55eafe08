// The hub's side of the long-run benchmark, in a process of its own so its RSS is the hub's alone:
// resumes a run of a million rows (hello → welcome over a real `ws` connection), shows it the way
// the dashboard does (ViewBridge: the snapshot a first frame draws), zooms into random 1 % spans
// of it (the detail read from disk), and reports the longest event-loop block meanwhile.
import { EventEmitter } from 'node:events';
import { Hub } from '../src/hub/hub';
import { RunStore } from '../src/store/runStore';
import { ViewBridge } from '../src/view/viewBridge';
import type { AlertMonitor } from '../src/detect/alertMonitor';
import type { HostToWebview } from '../webview/contract';
import { TestTrainer } from '../test/helpers/trainerClient';

const [runsDir, runId, rowsArg] = process.argv.slice(2);
const rows = Number(rowsArg);

async function main(): Promise<void> {
  let longest = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longest = Math.max(longest, now - last - 5);
    last = now;
  }, 5);
  const store = new RunStore(runsDir);
  const hub = new Hub({ store });
  await hub.listen();
  const trainer = await TestTrainer.connect(hub.url, hub.token);
  const t0 = performance.now();
  const welcome = trainer.next('welcome', 60_000);
  trainer.send({ type: 'hello', protocol: 1, runId, run: { name: runId }, pid: process.pid });
  const w = await welcome;
  const resumeMs = performance.now() - t0;
  const blocks: Record<string, number> = {};
  // The longest block of each phase, then the next phase starts from zero (the overall one is their maximum).
  const phase = (name: string) => {
    blocks[name] = longest;
    longest = 0;
  };
  phase('resume');
  if (w.lastSeq !== rows - 1) throw new Error(`welcome.lastSeq ${w.lastSeq}, expected ${rows - 1}`);

  let reset: { at: number; points: number } | undefined;
  let detail: { at: number; points: number } | undefined;
  const bridge = new ViewBridge(
    (m: HostToWebview) => {
      const points = 'series' in m && m.series ? Object.values(m.series).reduce((n, s) => n + s.steps.length, 0) : 0;
      if (m.type === 'reset') reset = { at: performance.now(), points };
      if (m.type === 'detail') detail = { at: performance.now(), points };
    },
    store,
    hub,
    new EventEmitter() as unknown as AlertMonitor,
    { snapshotBuckets: 2000 },
  );
  const s0 = performance.now();
  await bridge.show(runId);
  const firstFrameMs = reset!.at - s0;
  phase('show');
  const zooms: number[] = [];
  let zoomPoints = 0;
  for (let i = 0; i < 20; i++) {
    const from = Math.floor(Math.random() * rows * 0.99);
    const z0 = performance.now();
    await bridge.detail(runId, from, from + rows / 100, null);
    zooms.push(detail!.at - z0);
    zoomPoints = detail!.points;
  }
  phase('zoom');
  clearInterval(ticker);
  const longestBlockMs = Math.max(...Object.values(blocks));
  const rssMiB = process.memoryUsage().rss / 1024 / 1024;
  zooms.sort((a, b) => a - b);
  process.stdout.write(
    JSON.stringify({ resumeMs, firstFrameMs, snapshotPoints: reset!.points, longestBlockMs, blocks, rssMiB, zoomP50Ms: zooms[10], zoomMaxMs: zooms[zooms.length - 1], zoomPoints, heldBytes: (await store.get(runId))!.series.heldBytes }) + '\n',
  );
  bridge.dispose();
  trainer.ws.close();
  await hub.close();
  await store.dispose();
}

void main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
