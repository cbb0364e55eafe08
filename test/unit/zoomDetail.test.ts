// Detail on zoom, the dashboard's side (webview/dashboard/zoom.ts, docs/store.md "Zoom"): it asks once
// the zoom settles, keeps only the answer to its latest question, and draws it over the range it
// covers with the overview around it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZoomDetail } from '../../webview/dashboard/zoom';

const settle = () => new Promise((r) => setTimeout(r, 30));
const overview = { steps: Float64Array.of(0, 100, 200, 300, 400), values: Float64Array.of(5, 4, 3, 2, 1), length: 5 };

test('a settled zoom asks once; a stale answer is dropped; the detail replaces the overview inside its range only', async () => {
  const asked: [string, number, number, string[]][] = [];
  const d = new ZoomDetail((id, from, to, metrics) => asked.push([id, from, to, metrics]), 10);
  d.zoomed('run', { min: 50.5, max: 120 });
  d.zoomed('run', { min: 90.2, max: 260.7 });
  // The view draws its charts at each zoom: what is on screen is what is asked for.
  assert.equal(d.refine('loss', overview), overview);
  assert.equal(d.refine('gpu/util', overview, false), overview, 'a chart off screen');
  await settle();
  assert.deepEqual(asked, [['run', 90, 261, ['loss']]], 'only the range the wheel stopped at, only the metric charted');
  assert.equal(d.accept({ runId: 'run', from: 50, to: 120, series: { loss: { steps: [60], values: [9] } } }), false, 'an answer to an earlier zoom');
  assert.equal(d.refine('loss', overview), overview);
  assert.equal(d.accept({ runId: 'run', from: 90, to: 261, series: { loss: { steps: [90, 150, 150, 260], values: [4.1, NaN, 3.5, 2.9] } } }), true);
  const line = d.refine('loss', overview);
  assert.deepEqual([...line.steps], [0, 90, 150, 150, 260, 300, 400]);
  assert.ok(Number.isNaN(line.values[2]), 'a NaN from disk is drawn');
  assert.equal(d.refine('lr', overview), overview, 'a metric the answer lacks keeps its overview');
  await settle();
  assert.deepEqual(asked[1], ['run', 90, 261, ['loss', 'lr']], 'a chart drawn after the question: asked again, with it');
  d.zoomed('run', null);
  assert.equal(d.refine('loss', overview), overview, 'reset zoom: the overview again');
});
