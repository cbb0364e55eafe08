// Webview benchmark (editor issue): the sidebar bundle in real headless Chromium, under the host's
// CSP, fed as the host feeds it.
//  * frames: 1 000 rows/s across 21 metrics as 10 Hz `append` deltas of 100 rows (with the run's
//    clock), on top of a run that already holds 20 000 rows (so the series sit at their point cap
//    and compact as they grow), drawn the dearest way the charts allow (docs/charts.md): smoothing
//    on (each line drawn twice: raw and its debiased EMA), every one of the eight charts on a log
//    axis, relative time on the x axis.
//    The view draws within a per-frame budget, so one delta may be drawn over a few frames: every
//    frame it works in is a sample (until its root drops data-drawing). A frame's time is the work
//    the renderer's main thread did for it, as Chromium's own trace records it: the frame's
//    BeginMainFrame (animation-frame callbacks, that is the view's drawing, then style, layout,
//    paint and commit), plus the message handler for the first frame after a delta.
//    framesFromVsync*: the same frames timed in the page instead, from the frame's vsync timestamp
//    to a task queued from the last animation-frame callback. That also counts the time the main
//    thread waited for Chromium to begin the frame (with software compositing on two cores the
//    compositor is often still busy with the previous one), which is no work of the view's.
//    drawLatency*: from a delta to the end of the last frame that drew it.
//  * rowsPerSecond: flat out, one 100-row delta after the other, each waited for until it is fully
//    drawn (so the frame rate and the per-frame budget cap it).
//  * firstFrameMs1M: a 1 000 000-point loss series sent as the host sends it, a `reset` with the
//    series M4-downsampled (src/store/downsample.ts, 1 000 buckets: ≤ 4 000 points), from the message
//    to the end of the frame that drew it (vsync wait included), on a fresh page (median of 3).
//  * firstFrameMsRaw1M: the same with all 1 000 000 raw points in the `reset` (the view compacts
//    them itself); firstFrameMsRaw1MChartjsDecimation: Chart.js alone with its decimation plugin
//    (min-max) given the 1 000 000 points, for comparison.
// The bundles are built in memory from webview/ with esbuild, so dist/ need not be fresh.
import * as esbuild from 'esbuild';
import * as path from 'node:path';
import { downsampleM4 } from '../src/store/downsample';
import { startHarness, type Harness } from '../test/browser/harness';
import { frameWorkMs, startTrace } from './chromeTrace';
import { percentile } from './percentile';

export interface WebviewBenchResult {
  /** Main-thread work per frame (Chromium's trace) plus the handler, over the frames the view worked in. */
  framesP50Ms: number;
  framesP99Ms: number;
  /** The same frames from their vsync timestamp to painted, timed in the page. */
  framesFromVsyncP50Ms: number;
  framesFromVsyncP99Ms: number;
  rowsPerSecond: number;
  firstFrameMs1M: number;
  framesMaxMs: number;
  /** Frames measured (every frame the view worked in, over 80 messages). */
  frames: number;
  /** From an append to the end of the last frame that drew it (p50, p99). */
  drawLatencyP50Ms: number;
  drawLatencyP99Ms: number;
  firstFrameMsRaw1M: number;
  firstFrameMsRaw1MChartjsDecimation: number;
}

const ROOT = path.resolve(__dirname, '..');

/** An in-memory browser bundle, as esbuild.mjs builds the webviews. */
async function browserBundle(input: Pick<esbuild.BuildOptions, 'entryPoints' | 'stdin'>): Promise<string> {
  const out = await esbuild.build({
    ...input,
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'chrome120',
    logLevel: 'silent',
    legalComments: 'none',
  });
  return out.outputFiles[0].text;
}

const bundle = (entry: string) => browserBundle({ entryPoints: [entry] });

const chartjsOnlyBundle = () =>
  browserBundle({
    stdin: {
      contents: `import { Chart, LineController, LineElement, PointElement, LinearScale, Decimation } from 'chart.js';
Chart.register(LineController, LineElement, PointElement, LinearScale, Decimation);
window.__Chart = Chart;`,
      resolveDir: ROOT,
      loader: 'js',
    },
  });

// In-page helpers, as a string: functions handed to page.evaluate would be re-serialised from the
// transpiled source.
const FRAME_MARK = 'lossradar-bench-frame';
const pageHelpers = (features: boolean) => `(() => {
  const FEATURES = ${features};
  const METRICS = ['loss', 'loss/val', 'lr', 'calibration/ece', 'entropy/normalized', 'grad_norm', 'gpu/util', 'gpu/mem_used_mb', 'sa/min_sign_diversity'];
  // The heaviest drawing the views offer: smoothing (raw + smoothed lines), log axes on all eight charts, a time axis.
  const PREFS = FEATURES ? { smoothing: 0.6, xAxis: 'relative', logScale: { loss: true, lr: true, ece: true, sa: true, entropy: true, grad: true, 'gpu-util': true, 'gpu-mem': true } } : { smoothing: 0, xAxis: 'step', logScale: { loss: false } };
  const clock = (from, count) => {
    const steps = new Array(count), values = new Array(count);
    for (let i = 0; i < count; i++) { steps[i] = from + i; values[i] = 1.7e9 + (from + i) * 0.05; }
    return { steps, values };
  };
  for (let i = 0; i < 12; i++) METRICS.push('sa/layer' + i + '/sign_diversity');
  let seed = 1;
  const rand = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  const value = (m, step) => {
    if (m === 'gpu/util') return 85 + 10 * rand();
    if (m === 'gpu/mem_used_mb') return 6000 + 50 * rand();
    if (m.startsWith('sa/')) return 0.6 + 0.3 * rand();
    if (m === 'lr') return 3e-4 * Math.min(1, step / 2000);
    return 2 * Math.exp(-step / 20000) + 0.1 * rand();
  };
  const rows = (from, count) => {
    const series = {};
    for (const m of METRICS) {
      const steps = new Array(count), values = new Array(count);
      for (let i = 0; i < count; i++) { steps[i] = from + i; values[i] = value(m, from + i); }
      series[m] = { steps, values };
    }
    return series;
  };
  const dispatch = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
  // Resolves when the frame after now has been rendered: a task queued from the last
  // requestAnimationFrame callback runs after that frame's style, layout and paint.
  const rendered = () => new Promise((resolve) => {
    requestAnimationFrame((frameStart) => {
      // Names this frame in Chromium's trace (a TimeStamp event inside its BeginMainFrame).
      console.timeStamp('${FRAME_MARK}');
      const ch = new MessageChannel();
      ch.port1.onmessage = () => resolve({ frameStart, end: performance.now() });
      ch.port2.postMessage(null);
    });
  });
  const sleepUntil = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - performance.now())));
  window.__bench = {
    async preload(runId, count) {
      dispatch({ type: 'prefs', prefs: PREFS });
      dispatch({ type: 'runs', runs: [{ id: runId, name: 'bench', status: 'running', createdAt: 0 }], activeId: runId });
      dispatch({ type: 'reset', runId, status: 'running', series: rows(0, count), alerts: [], reliability: null, clock: clock(0, count), events: [], config: null, distributionSteps: [] });
      const root = document.querySelector('#live');
      do await rendered(); while (root.hasAttribute('data-drawing'));
      const drawn = [...document.querySelectorAll('figure.panel:not([hidden])')];
      if (drawn.length !== 8 || (FEATURES && drawn.some((f) => f.dataset.scale !== 'log' || f.dataset.smoothed !== '0.6'))) throw new Error('the bench must draw eight charts, smoothed, on log axes: ' + JSON.stringify(drawn.map((f) => ({ ...f.dataset }))));
      return count;
    },
    // Every frame the view works in after a message (it draws within a per-frame budget and marks
    // its root data-drawing while work is left) is one sample: the handler's time counts in the
    // first. Also the time from the message to the end of its last frame.
    async paced(runId, from, messages, rowsPerMessage, hz) {
      const times = [];
      const handlers = [];
      const latencies = [];
      const root = document.querySelector('#live');
      let step = from;
      const t0 = performance.now();
      for (let k = 0; k < messages; k++) {
        await sleepUntil(t0 + (k * 1000) / hz);
        const msg = { type: 'append', runId, series: rows(step, rowsPerMessage), clock: clock(step, rowsPerMessage) };
        step += rowsPerMessage;
        const a = performance.now();
        dispatch(msg);
        const b = performance.now();
        let extra = b - a;
        let f;
        do {
          f = await rendered();
          times.push(extra + (f.end - Math.max(f.frameStart, b)));
          handlers.push(extra);
          extra = 0;
        } while (root.hasAttribute('data-drawing'));
        latencies.push(f.end - a);
      }
      return { times, handlers, latencies, step };
    },
    async flatOut(runId, from, seconds, rowsPerMessage) {
      const msgs = [];
      let step = from;
      for (let k = 0; k < seconds * 80; k++) { msgs.push({ type: 'append', runId, series: rows(step, rowsPerMessage), clock: clock(step, rowsPerMessage) }); step += rowsPerMessage; }
      const t0 = performance.now();
      let sent = 0;
      const root = document.querySelector('#live');
      while (performance.now() - t0 < seconds * 1000 && sent < msgs.length) {
        dispatch(msgs[sent++]);
        do await rendered(); while (root.hasAttribute('data-drawing'));
      }
      return (sent * rowsPerMessage) / ((performance.now() - t0) / 1000);
    },
    lossRaw(n) {
      const steps = new Array(n), values = new Array(n);
      for (let i = 0; i < n; i++) { steps[i] = i; values[i] = 2 * Math.exp(-i / 200000) + 0.1 * rand(); }
      values[Math.floor(n * 0.7)] = NaN;
      return { steps, values };
    },
    async firstFrame(series) {
      dispatch({ type: 'prefs', prefs: PREFS });
      dispatch({ type: 'runs', runs: [{ id: 'big', name: 'big', status: 'running', createdAt: 0 }], activeId: 'big' });
      await rendered();
      const a = performance.now();
      dispatch({ type: 'reset', runId: 'big', status: 'running', series, alerts: [], reliability: null });
      const root = document.querySelector('#live');
      let f;
      do f = await rendered(); while (root.hasAttribute('data-drawing'));
      const panel = document.querySelector('figure[data-panel="loss"]');
      if (!panel || panel.dataset.nonfinite !== '1' || !(Number(panel.dataset.points) > 100) || (FEATURES && panel.dataset.smoothed !== '0.6')) throw new Error('the 1M series did not draw: ' + JSON.stringify(panel && panel.dataset));
      return f.end - a;
    },
    async firstFrameRaw() {
      return this.firstFrame({ loss: this.lossRaw(1000000) });
    },
    async chartjsDecimation(n) {
      const data = new Array(n);
      for (let i = 0; i < n; i++) data[i] = { x: i, y: 2 * Math.exp(-i / 200000) + 0.1 * rand() };
      const box = document.createElement('div');
      box.style.position = 'relative'; box.style.width = '340px'; box.style.height = '112px';
      const canvas = document.createElement('canvas');
      box.append(canvas); document.body.append(box);
      await rendered();
      const a = performance.now();
      new window.__Chart(canvas, {
        type: 'line',
        data: { datasets: [{ data, borderWidth: 1.5, pointRadius: 0, borderColor: '#3794ff' }] },
        options: {
          animation: false, parsing: false, normalized: true, responsive: true, maintainAspectRatio: false,
          scales: { x: { type: 'linear' }, y: { type: 'linear' } },
          plugins: { decimation: { enabled: true, algorithm: 'min-max' } },
        },
      });
      const f = await rendered();
      return f.end - a;
    },
  };
})()`;

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

interface BenchWindow {
  __bench: {
    preload(runId: string, count: number): Promise<number>;
    paced(runId: string, from: number, messages: number, rowsPerMessage: number, hz: number): Promise<{ times: number[]; handlers: number[]; latencies: number[]; step: number }>;
    flatOut(runId: string, from: number, seconds: number, rowsPerMessage: number): Promise<number>;
    firstFrame(series: Record<string, { steps: number[]; values: number[] }>): Promise<number>;
    firstFrameRaw(): Promise<number>;
    chartjsDecimation(n: number): Promise<number>;
  };
}

type B = BenchWindow['__bench'];

/** `features: false` draws the same charts plain (no smoothing, linear, steps), for comparison. */
export async function benchWebview(options: { features?: boolean } = {}): Promise<WebviewBenchResult> {
  const PAGE_HELPERS = pageHelpers(options.features ?? true);
  const [live, chartOnly] = await Promise.all([bundle('webview/live/main.ts'), chartjsOnlyBundle()]);
  const h: Harness = await startHarness({ bundles: { live, dashboard: '' } });
  try {
    const fresh = async () => {
      const page = await h.open('live', { width: 360, height: 1000 });
      await page.evaluate(PAGE_HELPERS);
      return page;
    };
    const call = <K extends keyof B>(page: Awaited<ReturnType<typeof fresh>>, name: K, ...args: Parameters<B[K]>) =>
      page.evaluate(({ name, args }) => ((window as unknown as BenchWindow).__bench[name] as (...a: unknown[]) => unknown)(...args), { name, args }) as ReturnType<B[K]>;

    // Frames at 1 000 rows/s across 20 metrics.
    const page = await fresh();
    const preloaded = await call(page, 'preload', 'bench', 20_000);
    await call(page, 'paced', 'bench', preloaded, 10, 100, 10); // warm-up
    const trace = await startTrace(page);
    const paced = await call(page, 'paced', 'bench', preloaded + 1000, 80, 100, 10);
    const work = frameWorkMs(await trace.stop(), FRAME_MARK);
    if (work.length !== paced.times.length) throw new Error(`the trace holds ${work.length} marked frames, the page sampled ${paced.times.length}`);
    const sorted = work.map((ms, i) => ms + paced.handlers[i]).sort((a, b) => a - b);
    const fromVsync = [...paced.times].sort((a, b) => a - b);
    const latencies = [...paced.latencies].sort((a, b) => a - b);
    const rowsPerSecond = await call(page, 'flatOut', 'bench', paced.step, 3, 100);
    await page.close();

    // First frame of a 1M-point series: as the host sends it (M4), and raw.
    const n = 1_000_000;
    const steps = new Float64Array(n);
    const values = new Float64Array(n);
    let seed = 1;
    for (let i = 0; i < n; i++) {
      seed = (seed * 16807) % 2147483647;
      steps[i] = i;
      values[i] = 2 * Math.exp(-i / 200_000) + (0.1 * seed) / 2147483647;
    }
    values[Math.floor(n * 0.7)] = NaN;
    const m4 = downsampleM4(steps, values, 1000);
    const reset = { loss: { steps: Array.from(m4.steps), values: Array.from(m4.values) } };
    const m4Times: number[] = [];
    const rawTimes: number[] = [];
    for (let i = 0; i < 3; i++) {
      const p = await fresh();
      m4Times.push(await call(p, 'firstFrame', reset));
      await p.close();
      const q = await fresh();
      rawTimes.push(await call(q, 'firstFrameRaw'));
      await q.close();
    }

    // Chart.js alone with its decimation plugin, for comparison.
    const blank = await h.browser.newPage({ viewport: { width: 360, height: 300 } });
    await blank.setContent('<!DOCTYPE html><html><body></body></html>');
    await blank.evaluate(chartOnly);
    await blank.evaluate(PAGE_HELPERS);
    const decimation: number[] = [];
    for (let i = 0; i < 3; i++) decimation.push(await call(blank, 'chartjsDecimation', n));
    await blank.close();

    return {
      framesP50Ms: percentile(sorted, 50),
      framesP99Ms: percentile(sorted, 99),
      framesFromVsyncP50Ms: percentile(fromVsync, 50),
      framesFromVsyncP99Ms: percentile(fromVsync, 99),
      framesMaxMs: sorted[sorted.length - 1],
      frames: sorted.length,
      drawLatencyP50Ms: percentile(latencies, 50),
      drawLatencyP99Ms: percentile(latencies, 99),
      rowsPerSecond,
      firstFrameMs1M: median(m4Times),
      firstFrameMsRaw1M: median(rawTimes),
      firstFrameMsRaw1MChartjsDecimation: median(decimation),
    };
  } finally {
    await h.close();
  }
}
