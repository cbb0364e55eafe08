// The webviews' pure parts (series store, M4, layer spread, state codec, alerts, formatting, zoom
// arithmetic, calibration error) in plain Node: no browser needed.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expectedCalibrationError } from '../../webview/dashboard/reliability';
import { clampRange, zoomAround } from '../../webview/dashboard/zoom';
import { AlertBook } from '../../webview/shared/alerts';
import { luminance, parseColor, withAlpha } from '../../webview/shared/color';
import { viridis } from '../../webview/shared/colormap';
import { formatStep, formatTick, formatValue } from '../../webview/shared/format';
import { WorkCosts } from '../../webview/shared/frames';
import { LayerSpread, signDiversityLayer } from '../../webview/shared/layerSpread';
import { m4Select } from '../../src/store/downsample';
import { m4Display } from '../../webview/shared/m4';
import { PANEL_METRICS } from '../../webview/shared/panels';
import { GrowableSeries, SeriesStore } from '../../webview/shared/series';
import { decodeState, encodeState, thinSeries } from '../../webview/shared/stateCodec';
import { niceTicks } from '../../webview/shared/ticks';
import { alert, reliability } from './fixtures';

const range = (n: number, f: (i: number) => number) => Float64Array.from({ length: n }, (_, i) => f(i));

describe('M4', () => {
  test('keeps first, last, min and max of every bucket, and every kind of non-finite value once a bucket', () => {
    const n = 10_000;
    const steps = range(n, (i) => i);
    const values = range(n, (i) => Math.sin(i / 50));
    values[1234] = 50;
    values[4321] = -50;
    values[7000] = NaN;
    values[7001] = NaN;
    values[7002] = Infinity;
    values[9000] = -Infinity;
    const kept: number[] = [];
    m4Select(steps, values, 0, n, 0, n - 1, 100, (i) => kept.push(i));
    assert.ok(kept.length <= 100 * 4 + 4, `${kept.length} kept`);
    assert.deepEqual([...kept].sort((a, b) => a - b), kept, 'ascending');
    for (const i of [0, n - 1, 1234, 4321, 7000, 7002, 9000]) assert.ok(kept.includes(i), `index ${i} dropped`);
    assert.ok(!kept.includes(7001), 'a second NaN in the same bucket is not needed');
  });

  test('display: finite values as points, non-finite ones as markers inside the range only', () => {
    const steps = range(20, (i) => i * 10);
    const values = range(20, (i) => i);
    values[5] = NaN;
    values[15] = -Infinity;
    const d = m4Display(steps, values, 20, 40, 120, 300);
    assert.deepEqual(d.nonFinite, [{ x: 50, kind: 'nan' }]);
    assert.equal(d.points[0].x, 30, 'one neighbour before the range');
    assert.equal(d.points[d.points.length - 1].x, 130, 'one after');
    const big = m4Display(range(100_000, (i) => i), range(100_000, (i) => Math.cos(i)), 100_000, 0, 99_999, 200);
    assert.ok(big.points.length <= 800 && big.points.length >= 400);
  });
});

describe('series', () => {
  test('appends deltas, grows, skips points that go back in steps', () => {
    const s = new GrowableSeries();
    for (let k = 0; k < 100; k++) s.append([k * 10, k * 10 + 5], [k, k + 0.5]);
    assert.equal(s.length, 200);
    assert.equal(s.lastStep, 995);
    assert.equal(s.append([3], [1]), 0);
    assert.equal(s.outOfOrder, 1);
  });

  test('at its cap it compacts with M4: bounded, extrema and NaN kept', () => {
    const s = new GrowableSeries(1024);
    for (let k = 0; k < 100; k++) {
      const steps = Array.from({ length: 100 }, (_, i) => k * 100 + i);
      const values = steps.map((x) => (x === 5555 ? 99 : x === 7777 ? NaN : Math.sin(x)));
      s.append(steps, values);
    }
    assert.ok(s.length <= 1024 && s.length > 200, `${s.length}`);
    const values = Array.from(s.values.subarray(0, s.length));
    assert.ok(values.includes(99));
    assert.ok(values.some(Number.isNaN));
    assert.equal(s.lastStep, 9999);
    assert.equal(s.firstStep, 0);
  });

  test('a batch bigger than the cap is thinned in one pass', () => {
    const s = new GrowableSeries(8192);
    const n = 1_000_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const values = steps.map((i) => (i === 600_000 ? NaN : i === 300_000 ? -5 : Math.sin(i / 1000)));
    assert.equal(s.append(steps, values), n);
    assert.ok(s.length <= 8192);
    const v = Array.from(s.values.subarray(0, s.length));
    assert.ok(v.includes(-5) && v.some(Number.isNaN));
  });

  test('the store keeps only the metrics a view draws', () => {
    const store = new SeriesStore(Infinity, (name) => PANEL_METRICS.has(name));
    const changed = store.reset({ loss: { steps: [1], values: [2] }, 'weird/metric': { steps: [1], values: [1] } });
    assert.deepEqual([...changed], ['loss']);
    assert.deepEqual(store.names(), ['loss']);
    assert.deepEqual([...store.append({ loss: { steps: [2], values: [NaN] } })], ['loss']);
    assert.ok(Number.isNaN(store.get('loss')?.lastValue));
  });
});

describe('frame budget', () => {
  // A clock the pieces advance by what they cost.
  const clocked = () => {
    let t = 0;
    return { now: () => t, spend: (ms: number) => () => void (t += ms) };
  };

  test('a frame starts a piece only when its last cost fits in what is left; the first piece always runs', () => {
    const clock = clocked();
    const costs = new WorkCosts<string>(clock.now);
    const order: string[] = [];
    const frame = (deadline: number, pieces: [string, number][]) => {
      const cost = new Map(pieces);
      return costs.runWithin(deadline, cost.keys(), (key) => {
        order.push(key);
        clock.spend(cost.get(key)!)();
      });
    };
    // Nothing known yet: pieces start until the clock passes the deadline.
    assert.equal(frame(clock.now() + 6, [['a', 4], ['b', 4], ['c', 1]]), false);
    assert.deepEqual(order.splice(0), ['a', 'b']);
    assert.equal(frame(clock.now() + 6, [['c', 1]]), true);
    assert.deepEqual(order.splice(0), ['c']);
    // Now the costs are known: after a (4 ms), b (4 ms) would end past the 6 ms budget, so it waits.
    assert.equal(frame(clock.now() + 6, [['a', 4], ['b', 4], ['c', 1]]), false);
    assert.deepEqual(order.splice(0), ['a']);
    // After b, c (1 ms) still fits.
    assert.equal(frame(clock.now() + 6, [['b', 4], ['c', 1]]), true);
    assert.deepEqual(order.splice(0), ['b', 'c']);
    // A piece dearer than the whole budget still runs when it is first.
    assert.equal(frame(clock.now() + 2, [['b', 4]]), true);
    assert.deepEqual(order.splice(0), ['b']);
  });

  test('a cost rises at once and falls slowly', () => {
    const clock = clocked();
    const costs = new WorkCosts<string>(clock.now);
    const once = (ms: number) => costs.runWithin(Infinity, ['first', 'x'], (key) => key === 'x' && clock.spend(ms)());
    const fits = (budget: number) => costs.runWithin(clock.now() + budget, ['first', 'x'], () => undefined);
    once(1);
    once(10);
    assert.equal(fits(9), false, 'the 10 ms run is believed straight away');
    once(1);
    assert.equal(fits(8), false, 'one cheap run does not undo it');
    for (let i = 0; i < 20; i++) once(1);
    assert.equal(fits(3), true, 'many cheap runs do');
  });
});

describe('SA layer spread', () => {
  test('min and median over the layers at each step, sample and hold across unaligned steps', () => {
    assert.equal(signDiversityLayer('sa/blocks.0/attn/sign_diversity'), 'blocks.0/attn');
    assert.equal(signDiversityLayer('sa/min_sign_diversity'), null);
    const spread = new LayerSpread();
    spread.ingest({
      'sa/a/sign_diversity': { steps: [0, 10], values: [0.9, 0.8] },
      'sa/b/sign_diversity': { steps: [0, 10], values: [0.5, 0.4] },
      'sa/c/sign_diversity': { steps: [0, 5], values: [0.7, 0.1] },
      loss: { steps: [0], values: [1] },
    });
    assert.deepEqual(Array.from(spread.min.steps.subarray(0, spread.min.length)), [0, 5, 10]);
    assert.deepEqual(Array.from(spread.min.values.subarray(0, 3)), [0.5, 0.1, 0.1]);
    assert.deepEqual(Array.from(spread.median.values.subarray(0, 3)), [0.7, 0.5, 0.4]);
    // A delta carries on from the held values; a NaN layer makes the minimum NaN.
    spread.ingest({ 'sa/c/sign_diversity': { steps: [15], values: [NaN] } });
    assert.ok(Number.isNaN(spread.min.lastValue));
    assert.equal(spread.median.lastValue, (0.8 + 0.4) / 2);
    const restored = new LayerSpread();
    restored.restore(spread.snapshot());
    restored.ingest({ 'sa/c/sign_diversity': { steps: [20], values: [0.6] } });
    assert.equal(restored.min.lastValue, 0.4);
    assert.equal(restored.median.lastValue, 0.6);
  });
});

describe('state codec', () => {
  test('NaN and ±∞ survive JSON; series are thinned', () => {
    const state = { a: [1, NaN, Infinity, -Infinity], b: { c: NaN }, s: 'x', n: null };
    assert.deepEqual(decodeState(JSON.parse(JSON.stringify(encodeState(state)))), state);
    const s = new GrowableSeries();
    s.append(Array.from({ length: 10_000 }, (_, i) => i), Array.from({ length: 10_000 }, (_, i) => (i === 5000 ? NaN : i % 7)));
    const thin = thinSeries(s, 50);
    assert.ok(thin.steps.length <= 50 * 4 + 1);
    assert.ok(thin.values.some(Number.isNaN));
  });
});

describe('alerts', () => {
  test('a closed record ends the episode; open ones sort critical first, newest first', () => {
    const book = new AlertBook();
    book.apply([alert({ id: 'a', step: 10 }), alert({ id: 'b', step: 20, severity: 'critical' }), alert({ id: 'c', step: 30 })]);
    assert.deepEqual(book.open().map((a) => a.id), ['b', 'c', 'a']);
    book.apply([alert({ id: 'b', step: 20, severity: 'critical', state: 'closed', closedStep: 25 })]);
    assert.deepEqual(book.open().map((a) => a.id), ['c', 'a']);
    assert.equal(book.all().length, 3);
  });
});

describe('formatting, colours, ticks, zoom, calibration', () => {
  test('values, steps and ticks', () => {
    assert.equal(formatValue(NaN), 'NaN');
    assert.equal(formatValue(Infinity), '+∞');
    assert.equal(formatValue(-Infinity), '−∞');
    assert.equal(formatValue(0.123456), '0.1235');
    assert.equal(formatValue(1.5e-5), '1.50e-5');
    assert.equal(formatStep(1234567.4), '1,234,567');
    assert.equal(formatTick(25_000), '25k');
    assert.equal(formatTick(1_500_000), '1.5M');
    assert.deepEqual(niceTicks(569, 1060, 8), [600, 700, 800, 900, 1000]);
    assert.deepEqual(niceTicks(0, 1, 4), [0, 0.5, 1]);
    assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  });

  test('theme colour strings', () => {
    assert.deepEqual(parseColor('#ccccccb3'), { r: 204, g: 204, b: 204, a: 179 / 255 });
    assert.deepEqual(parseColor('rgb(1, 2, 3)'), { r: 1, g: 2, b: 3, a: 1 });
    assert.equal(withAlpha('#ff0000', 0.5), 'rgba(255, 0, 0, 0.5)');
    assert.ok(luminance('#ffffff') > 0.99 && luminance('#000000') < 0.01);
    assert.deepEqual(viridis(0), [68, 1, 84]);
    assert.deepEqual(viridis(1), [253, 231, 37]);
  });

  test('zoom arithmetic stays inside the data and gives back null for everything', () => {
    const full = { min: 0, max: 1000 };
    assert.deepEqual(zoomAround({ min: 0, max: 1000 }, 500, 0.5), { min: 250, max: 750 });
    assert.equal(clampRange({ min: -10, max: 2000 }, full), null);
    assert.deepEqual(clampRange({ min: 900, max: 1100 }, full), { min: 800, max: 1000 });
    assert.deepEqual(clampRange({ min: 10, max: 11 }, full), { min: 10, max: 14 });
  });

  test('ECE from reliability bins skips empty bins', () => {
    const bins = reliability(100);
    const expected = bins.counts.reduce((s, n, i) => s + n * Math.abs(bins.accuracy[i] - bins.confidence[i]), 0) / bins.counts.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(expectedCalibrationError(bins) - expected) < 1e-12);
    assert.ok(Number.isNaN(expectedCalibrationError({ step: 0, edges: [0, 1], confidence: [0.5], accuracy: [0.5], counts: [0] })));
  });
});
