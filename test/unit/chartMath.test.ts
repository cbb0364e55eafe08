// The arithmetic behind the charts (docs/charts.md): the debiased EMA of the smoothing slider, the
// run's clock behind the time axes, the robust y range and the log default, duration ticks, and
// which reliability bins and histograms a step shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { drawableBins, pickAt } from '../../src/view/distributions';
import { RunClock } from '../../webview/shared/clock';
import { GrowableSeries } from '../../webview/shared/series';
import { debiasedEma, Smoother } from '../../webview/shared/smoothing';
import { durationTicks, formatDuration, STEP_AXIS, xAxisFor } from '../../webview/shared/xAxis';
import { quantile, robustRange, spansDecade } from '../../webview/shared/yRange';

/** TensorBoard's smoothing, as its scalar dashboard computes it (tf-scalar-dashboard, "debiased"). */
function tensorboard(values: number[], weight: number): number[] {
  let last = 0;
  let n = 0;
  return values.map((v) => {
    if (!Number.isFinite(v)) return v;
    last = last * weight + (1 - weight) * v;
    n++;
    return last / (1 - weight ** n);
  });
}

test('smoothing: a debiased EMA, as TensorBoard draws it: the first point is the first value, never pulled to 0', () => {
  const values = [10, 10, 10, 4, NaN, 4, 4, Infinity, 4];
  const out = new Float64Array(values.length);
  debiasedEma(values, values.length, 0.9, out);
  assert.deepEqual([...out], tensorboard(values, 0.9));
  assert.equal(out[0], 10, 'a plain EMA would start at 1');
  assert.equal(out[2], 10, 'a constant stays constant');
  assert.ok(Number.isNaN(out[4]) && out[7] === Infinity, 'a non-finite value stays itself (a marker) and does not enter the average');
  assert.ok(out[8] > 4 && out[8] < 10);
});

test('smoothing: the view extends its smoothed line with each delta, and starts over after a compaction or a new weight', () => {
  const series = new GrowableSeries(Infinity);
  const smoother = new Smoother();
  const all = Array.from({ length: 300 }, (_, i) => Math.sin(i / 7) + i / 100);
  series.append([...all.keys()].slice(0, 100), all.slice(0, 100));
  smoother.smooth(series, 0.6);
  series.append([...all.keys()].slice(100), all.slice(100));
  const grown = smoother.smooth(series, 0.6);
  assert.deepEqual([...grown.values.subarray(0, grown.length)], tensorboard(all, 0.6), 'incremental = computed at once');
  const other = smoother.smooth(series, 0.3);
  assert.deepEqual([...other.values.subarray(0, other.length)], tensorboard(all, 0.3));
  series.compact(20);
  const compacted = smoother.smooth(series, 0.3);
  const kept = Array.from(series.values.subarray(0, series.length));
  assert.deepEqual([...compacted.values.subarray(0, compacted.length)], tensorboard(kept, 0.3), 'recomputed over the points kept');
});

test('clock: time between the points kept is interpolated, beyond them extrapolated, and stepAt inverts timeAt', () => {
  const clock = new RunClock();
  assert.ok(Number.isNaN(clock.timeAt(5)));
  clock.reset({ steps: [0, 100, 200], values: [1000, 1050, 1150] });
  assert.equal(clock.timeAt(50), 1025);
  assert.equal(clock.timeAt(150), 1100);
  assert.equal(clock.timeAt(300), 1250, 'past the last point at the last stretch’s rate');
  for (const step of [0, 37, 100, 180, 250]) assert.ok(Math.abs(clock.stepAt(clock.timeAt(step)) - step) < 1e-9);
  clock.append({ steps: [300, 400], values: [1100, 1300] });
  assert.equal(clock.timeAt(300), 1150, 'a clock that went backwards is held level: the axis stays monotone');
  assert.equal(clock.origin, 1000);
});

test('x axes: steps, seconds since the first row, or Unix milliseconds for the time scale; no clock falls back to steps', () => {
  const clock = new RunClock();
  assert.equal(xAxisFor('wall', clock), STEP_AXIS, 'a run whose rows carried no time');
  clock.reset({ steps: [0, 1000], values: [1_700_000_000, 1_700_000_500] });
  const rel = xAxisFor('relative', clock);
  assert.equal(rel.toX(500), 250);
  assert.equal(rel.toStep(250), 500);
  const wall = xAxisFor('wall', clock);
  assert.equal(wall.toX(1000), 1_700_000_500_000);
  assert.equal(wall.toStep(1_700_000_250_000), 500);
});

test('relative time reads as durations, with round ticks', () => {
  assert.deepEqual([0, 4.25, 45, 65, 3600, 5400, 90000].map(formatDuration), ['0s', '4.3s', '45s', '1m 5s', '1h', '1h 30m', '1d 1h']);
  assert.deepEqual(durationTicks(0, 3600, 4), [0, 900, 1800, 2700, 3600]);
  assert.deepEqual(durationTicks(100, 400, 3), [120, 240, 360]);
});

test('ignore outliers: one huge early spike leaves the range of the other values; nothing to hide gives null', () => {
  const pts = Array.from({ length: 500 }, (_, i) => ({ x: i, y: 1 + 0.1 * Math.sin(i) }));
  pts[3] = { x: 3, y: 1e4 };
  const r = robustRange([pts], false);
  assert.ok(r, 'a range that leaves out the spike');
  assert.ok(r.max < 1.5 && r.min > 0.8, JSON.stringify(r));
  assert.equal(robustRange([pts.filter((p) => p.y < 100)], false), null, 'without the spike there is nothing to leave out');
  const logR = robustRange([pts], true);
  assert.ok(logR && logR.max < 2 && logR.min > 0.5, `on a log axis too: ${JSON.stringify(logR)}`);
  assert.equal(quantile(Float64Array.from([1, 2, 3, 4]), 0.5), 2.5);
});

test('the loss goes on a log axis by default once its finite positive values span more than a decade', () => {
  const series = (values: number[]) => ({ series: { steps: Float64Array.from(values.keys()), values: Float64Array.from(values), length: values.length } });
  assert.equal(spansDecade([series([2.3, 1.5, 0.9, 0.4])]), false);
  assert.equal(spansDecade([series([2.3, 0.9, 0.2, NaN, -1, 0])]), true);
});

test('distributions at a step: the newest drawable frame at or before it, the latest finite bins when the newest are NaN, and a note that says so', () => {
  const bins = (step: number, ok: boolean) => ({ step, counts: ok ? [3, 5] : [0, 0], accuracy: [0.2, 0.8], confidence: [0.25, 0.75] });
  const hist = (name: string, step: number, ok = true) => ({ name, step, edges: [0, 1, 2], counts: ok ? [1, 2] : [0, 0] });
  const rel = [bins(10, true), bins(20, true), bins(30, false)];
  const his = [hist('sa/a', 10), hist('sa/b', 10), hist('sa/a', 20), hist('sa/a', 30, false)];
  const latest = pickAt(rel, his, null);
  assert.equal(latest.reliability?.step, 20);
  assert.deepEqual(latest.histograms.map((h) => [h.name, h.step]), [['sa/a', 20], ['sa/b', 10]]);
  assert.match(latest.note ?? '', /Step 30 has no finite bins \(NaN predictions\): showing step 20/);
  const at = pickAt(rel, his, 15);
  assert.equal(at.reliability?.step, 10);
  assert.deepEqual(at.histograms.map((h) => [h.name, h.step]), [['sa/a', 10], ['sa/b', 10]]);
  assert.equal(at.note, null);
  assert.equal(pickAt([bins(5, false)], [], null).reliability, null);
  assert.equal(drawableBins({ step: 1, counts: [2], accuracy: [NaN], confidence: [0.5] }), false);
});
