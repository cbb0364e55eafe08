// `npm run bench`: every benchmark of the project, printed as rates and ratios against targets.
import { benchDetectors } from './detectors';
import { benchE2eLatency } from './e2eLatency';
import { benchIngest } from './ingest';
import { benchListing } from './listing';
import { benchPythonLog } from './pythonLog';
import { benchLongRun, benchSoak } from './store';
import { benchWebview } from './webview';

interface Line {
  name: string;
  value: string;
  target: string;
  ok: boolean;
}

async function main(): Promise<void> {
  const lines: Line[] = [];
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  const max = await benchIngest(600);
  lines.push({
    name: 'hub ingest, flat out (100 rows × 50 metrics a frame, separate client process, until the last row is acknowledged on disk)',
    value: `${fmt(max.valuesPerSecond)} values/s (${fmt(max.rowsPerSecond)} rows/s), ${(max.valuesPerSecond / 200_000).toFixed(2)}× the target, hub at ${max.hubCores.toFixed(2)} cores`,
    target: '≥ 200,000 values/s',
    ok: max.valuesPerSecond >= 200_000,
  });
  const paced = await benchIngest(400, 200_000);
  lines.push({
    name: 'hub CPU at 200,000 values/s offered',
    value: `${paced.hubCores.toFixed(2)} cores (${(paced.hubCores * 100).toFixed(0)}% of the 1-core budget); took ${fmt(paced.valuesPerSecond)} values/s`,
    target: '< 1 core',
    ok: paced.hubCores < 1 && paced.valuesPerSecond >= 190_000,
  });
  const py = await benchPythonLog();
  lines.push({
    name: `Python SDK run.log() on the training thread, 2,000 rows/s × 20 scalars for 30 s, hub SIGKILLed and restarted halfway (${fmt(py.rows)} rows)`,
    value: `p50 ${py.p50Ms.toFixed(3)} ms, p99 ${py.p99Ms.toFixed(3)} ms (${(py.p99Ms / 1).toFixed(2)}× the target), max ${py.maxMs.toFixed(2)} ms (${(py.maxMs / 5).toFixed(2)}×); stored ${fmt(py.stored)}, reported dropped ${fmt(py.dropped)}, missing ${fmt(py.rows - py.stored)}`,
    target: 'p99 < 1 ms, max < 5 ms, reported dropped = missing',
    ok: py.p99Ms < 1 && py.maxMs < 5 && py.dropped === py.rows - py.stored,
  });
  const det = benchDetectors();
  lines.push({
    name: 'detectors, 200,000-row run (25 SA layers every 5th row)',
    value: `${fmt(det.rowsPerSecond)} rows/s; last tenth / first tenth time per row = ${det.lateOverEarly.toFixed(2)}`,
    target: 'cost per row flat over the run (ratio < 1.5)',
    ok: det.lateOverEarly < 1.5,
  });
  const listing = await benchListing();
  lines.push({
    name: `comparison table of ${fmt(listing.runs)} finished runs × ${listing.metrics} summarised metrics, rebuilt as a live run logs (once a second), one meta.json changed each time`,
    value: `${listing.againMs.toFixed(0)} ms a table (${(listing.againMs / 100).toFixed(2)}× the target; the first, reading every file, ${listing.firstMs.toFixed(0)} ms, ${(listing.firstMs / listing.againMs).toFixed(1)}× longer)`,
    target: '< 100 ms (a tenth of the host per second)',
    ok: listing.againMs < 100,
  });
  const web = await benchWebview();
  lines.push({
    name: 'sidebar in Chromium, 1,000 rows/s across 21 metrics (10 Hz deltas), eight charts smoothed on log axes over relative time',
    value: `main-thread work per frame p50 ${web.framesP50Ms.toFixed(1)} ms, p99 ${web.framesP99Ms.toFixed(1)} ms (p99 ${(web.framesP99Ms / 16).toFixed(2)}× the 16 ms budget; ${web.frames} frames); vsync to painted p50 ${web.framesFromVsyncP50Ms.toFixed(1)} ms, p99 ${web.framesFromVsyncP99Ms.toFixed(1)} ms; delta drawn in p50 ${web.drawLatencyP50Ms.toFixed(0)} ms, p99 ${web.drawLatencyP99Ms.toFixed(0)} ms; flat out ${fmt(web.rowsPerSecond)} rows/s`,
    target: '< 16 ms per frame',
    ok: web.framesP99Ms < 16,
  });
  lines.push({
    name: '1,000,000-point series, first frame (smoothed, log axis)',
    value: `${web.firstFrameMs1M.toFixed(0)} ms (${(web.firstFrameMs1M / 200).toFixed(2)}× the budget)`,
    target: '< 200 ms',
    ok: web.firstFrameMs1M < 200,
  });
  const e2e = await benchE2eLatency();
  lines.push({
    name: `end to end in code-server, run.log() → drawn in the sidebar, newest value of each draw (${fmt(e2e.rowsPerSecond)} rows/s × 8 metrics, ${fmt(e2e.draws)} draws)`,
    value: `p50 ${e2e.newestP50Ms.toFixed(0)} ms (${(e2e.newestP50Ms / 50).toFixed(2)}× the target), p99 ${e2e.newestP99Ms.toFixed(0)} ms (${(e2e.newestP99Ms / 200).toFixed(2)}×)`,
    target: 'p50 ≤ 50 ms, p99 ≤ 200 ms',
    ok: e2e.newestP50Ms <= 50 && e2e.newestP99Ms <= 200,
  });
  lines.push({
    name: `end to end, every row until its first draw (${fmt(e2e.rows)} rows; batched by the SDK every 100 ms and by the host at ≤ 10 Hz)`,
    value: `p50 ${e2e.everyRowP50Ms.toFixed(0)} ms, p99 ${e2e.everyRowP99Ms.toFixed(0)} ms`,
    target: 'p99 ≤ 200 ms (its p50 cannot be under ~50 ms at 10 Hz)',
    ok: e2e.everyRowP99Ms <= 200,
  });
  // The store (docs/store.md). The issue's soak is 30 minutes; `npm run bench` runs
  // LOSSRADAR_SOAK_MIN minutes (default 3) so the whole bench stays under a CI run's budget.
  const long = await benchLongRun(Number(process.env.LOSSRADAR_LONG_ROWS ?? 1_000_000), 50);
  const rowsText = `${fmt(long.rows)}-row × ${long.metrics}-metric run`;
  lines.push({
    name: `${rowsText}: resume, hello → welcome`,
    value: `${long.resumeMs.toFixed(0)} ms (${(long.resumeMs / 1000).toFixed(2)}× the target)`,
    target: '< 1 s',
    ok: long.resumeMs < 1000,
  });
  lines.push({
    name: `${rowsText}: longest event-loop block while resuming, showing and zooming`,
    value: `${long.longestBlockMs.toFixed(0)} ms (${(long.longestBlockMs / 50).toFixed(2)}× the target; ${Object.entries(long.blocks).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} ms)`,
    target: '< 50 ms',
    ok: long.longestBlockMs < 50,
  });
  lines.push({
    name: `${rowsText}: the dashboard's first frame (the host's snapshot, ${fmt(long.snapshotPoints)} points)`,
    value: `${long.firstFrameMs.toFixed(0)} ms (${(long.firstFrameMs / 1000).toFixed(2)}× the target)`,
    target: '< 1 s',
    ok: long.firstFrameMs < 1000,
  });
  lines.push({
    name: `${rowsText}: hub RSS after resume, show and 20 zooms`,
    value: `${long.rssMiB.toFixed(0)} MiB (${(long.rssMiB / 300).toFixed(2)}× the budget; series hold ${(long.heldBytes / 1024 / 1024).toFixed(1)} MiB)`,
    target: '< 300 MiB',
    ok: long.rssMiB < 300,
  });
  lines.push({
    name: `${rowsText}: zoom into a random 1 %, detail from disk to the host's answer (${fmt(long.zoomPoints)} points, all metrics)`,
    value: `p50 ${long.zoomP50Ms.toFixed(0)} ms, max ${long.zoomMaxMs.toFixed(0)} ms (${(long.zoomMaxMs / 100).toFixed(2)}× the target)`,
    target: '< 100 ms',
    ok: long.zoomMaxMs < 100,
  });
  lines.push({
    name: `${rowsText}: zoom into a random 1 % in the dashboard (Chromium), question → host's answer → redrawn (${long.drawn.metrics} charts on screen, ${fmt(long.drawn.points)} points; the view's 150 ms settle and the devtools protocol's trip into the page not counted)`,
    value: `p50 ${long.drawn.p50Ms.toFixed(0)} ms (host ${long.drawn.hostP50Ms.toFixed(0)} ms), max ${long.drawn.maxMs.toFixed(0)} ms (${(long.drawn.p50Ms / 100).toFixed(2)}× the target at p50)`,
    target: '< 100 ms',
    ok: long.drawn.p50Ms < 100,
  });
  lines.push({
    name: 'bytes on disk per stored value: Arrow columns against the JSON lines',
    value: `${long.columnBytesPerValue.toFixed(2)} B vs ${long.jsonBytesPerValue.toFixed(2)} B (${(long.columnBytesPerValue / long.jsonBytesPerValue).toFixed(2)}× the log)`,
    target: 'a ratio < 1',
    ok: long.columnBytesPerValue < long.jsonBytesPerValue,
  });
  const soak = await benchSoak(Number(process.env.LOSSRADAR_SOAK_MIN ?? 3));
  lines.push({
    name: `soak: ${soak.clients} clients, ${fmt(soak.rowsPerSecond)} rows/s × 50 metrics together, ${soak.minutes} min (the issue's is 30: LOSSRADAR_SOAK_MIN=30)`,
    value: `RSS growth after the first minute ${soak.growthMiBPerMin.toFixed(2)} MiB/min (${(soak.growthMiBPerMin / 5).toFixed(2)}× the budget); ${soak.rssStartMiB.toFixed(0)} → ${soak.rssEndMiB.toFixed(0)} MiB`,
    target: '< 5 MiB/min',
    ok: soak.growthMiBPerMin < 5,
  });
  for (const l of lines) process.stdout.write(`${l.ok ? 'PASS' : 'MISS'}  ${l.name}: ${l.value}  [target ${l.target}]\n`);
  process.exitCode = lines.every((l) => l.ok) ? 0 : 1;
}

void main();
