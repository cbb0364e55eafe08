import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Series, SeriesSet } from '../../src/store/series';
import { downsampleM4 } from '../../src/store/downsample';

test('a series grows past its capacity and keeps every point in order', () => {
  const s = new Series(2);
  for (let i = 0; i < 1000; i++) s.push(i, i * 2);
  assert.equal(s.length, 1000);
  assert.equal(s.steps[999], 999);
  assert.equal(s.values[500], 1000);
  assert.deepEqual(s.last(), { step: 999, value: 1998 });
});

test('a series set keeps one column per metric, NaN included', () => {
  const set = new SeriesSet();
  set.append(1, { loss: 2, lr: 0.1 });
  set.append(2, { loss: NaN });
  assert.deepEqual(set.names().sort(), ['loss', 'lr']);
  assert.equal(set.get('loss')?.length, 2);
  assert.ok(Number.isNaN(set.get('loss')!.values[1]));
  assert.equal(set.get('lr')?.length, 1);
});

test('M4 keeps each bucket’s first, last, minimum and maximum, so no spike is lost', () => {
  const n = 100_000;
  const steps = new Float64Array(n);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    steps[i] = i;
    values[i] = Math.sin(i / 1000);
  }
  values[31_337] = 50; // a spike
  values[77_777] = -50; // a dip
  const out = downsampleM4(steps, values, 200);
  assert.ok(out.steps.length <= 800, `${out.steps.length} points`);
  assert.ok(out.steps.length >= 400);
  assert.equal(Math.max(...out.values), 50);
  assert.equal(Math.min(...out.values), -50);
  assert.equal(out.steps[0], 0);
  assert.equal(out.steps[out.steps.length - 1], n - 1);
  for (let i = 1; i < out.steps.length; i++) assert.ok(out.steps[i] > out.steps[i - 1], 'steps stay ordered');
});

test('M4 keeps every non-finite point', () => {
  const n = 10_000;
  const steps = Float64Array.from({ length: n }, (_, i) => i);
  const values = Float64Array.from({ length: n }, () => 1);
  values[4242] = NaN;
  values[4243] = Infinity;
  values[9000] = -Infinity;
  const out = downsampleM4(steps, values, 50);
  const kept = [...out.steps].filter((_, i) => !Number.isFinite(out.values[i]));
  assert.deepEqual(kept, [4242, 4243, 9000]);
});

test('M4 keeps one NaN per bucket of a run that logs NaN on every step after its blow-up', () => {
  const n = 1_000_000;
  const steps = Float64Array.from({ length: n }, (_, i) => i);
  const values = Float64Array.from({ length: n }, (_, i) => (i < 1000 ? 1 / (i + 1) : NaN));
  const out = downsampleM4(steps, values, 1000);
  const nans = out.values.filter((v) => Number.isNaN(v)).length;
  assert.ok(out.steps.length <= 4 * 1000 + 1000, `kept ${out.steps.length} of ${n}`);
  const tailBuckets = new Set(Array.from({ length: n - 1000 }, (_, k) => Math.min(999, Math.floor(((1000 + k) * 1000) / (n - 1))))).size;
  assert.equal(nans, tailBuckets, 'one NaN marker per bucket the tail covers');
  assert.equal(out.steps[[...out.values].findIndex((v) => Number.isNaN(v))], 1000, 'the first NaN is kept');
});

test('a short series comes back whole', () => {
  const out = downsampleM4(Float64Array.of(1, 2, 3), Float64Array.of(3, 2, 1), 10);
  assert.deepEqual([...out.values], [3, 2, 1]);
});
