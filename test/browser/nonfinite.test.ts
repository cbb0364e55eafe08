// A run that blows up, as both webviews show it: the host builds its messages with its own code
// (src/view/viewBridge.ts seriesPoints) and the harness delivers them through JSON as VS Code does,
// so a NaN or ±∞ reaches the view only if the contract carries it explicitly. It must be drawn as
// a marker, never as a 0, and the panel's value label must say what it is, in the error colour.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { seriesPoints } from '../../src/view/viewBridge';
import { Series } from '../../src/store/series';
import type { SeriesPoints } from '../../webview/contract';
import { noExtras, ROLES, RUNS } from './fixtures';
import { canvasStats, send, startHarness, THEMES, unexpectedProblems, type Harness, type ViewName } from './harness';

let h: Harness;

before(async () => {
  h = await startHarness();
});

after(async () => {
  await h?.close();
});

/** The host's message form of `points` ([step, value] pairs), as viewBridge builds it. */
function hostPoints(points: [number, number][]): SeriesPoints {
  const series = new Series();
  for (const [step, value] of points) series.push(step, value);
  return seriesPoints(series, 1000);
}

/** Loss 1.9 … 2.1 over steps 0..99, with NaN at 40, +∞ at 70 and −∞ at 85. */
const BLOWN_UP: [number, number][] = Array.from({ length: 100 }, (_, i) => [i, i === 40 ? NaN : i === 70 ? Infinity : i === 85 ? -Infinity : 2 + 0.1 * Math.sin(i / 3)]);

const lossPanel = (page: Page) =>
  page.evaluate(() => {
    const figure = document.querySelector('figure[data-panel="loss"]') as HTMLElement;
    const latest = [...figure.querySelectorAll('.panel-latest .latest')].map((e) => ({ text: e.textContent, colour: getComputedStyle(e).color }));
    const { nonfinite, points, yMin, yMax } = figure.dataset;
    return { nonfinite, points, yMin, yMax, latest };
  });

const ERROR = 'rgb(244, 135, 113)'; // errorForeground of Dark+

describe('non-finite values from the host', () => {
  for (const view of ['live', 'dashboard'] as ViewName[]) {
    test(`${view}: NaN, +∞ and −∞ are markers, never a 0; the label names them in the error colour`, async () => {
      const page = await h.open(view);
      await send(page, { type: 'runs', runs: RUNS.slice(0, 1), activeId: 'run-a' }, { type: 'reset', runId: 'run-a', status: 'running', series: { loss: hostPoints(BLOWN_UP) }, alerts: [], reliability: null, roles: ROLES, ...noExtras() });
      const drawn = await lossPanel(page);
      assert.equal(drawn.nonfinite, '3', 'one marker each for NaN, +∞ and −∞');
      assert.equal(drawn.points, '97', 'the three are not points of the line');
      assert.ok(Number(drawn.yMin) > 1, `the y axis reaches down to ${drawn.yMin}: a non-finite value was drawn as a number`);
      assert.ok(Number(drawn.yMax) < 3, `the y axis reaches up to ${drawn.yMax}`);
      // The triangles in the error colour: NaN and +∞ at the top of the plot, −∞ at the bottom.
      const stats = await canvasStats(page, 'figure[data-panel="loss"] canvas', [THEMES.dark.errorForeground]);
      const [top, bottom] = stats.rows[0] ?? [Infinity, -Infinity];
      assert.ok(top < stats.height * 0.2 && bottom > stats.height * 0.6, `error-coloured markers span rows ${top}..${bottom} of ${stats.height}`);
      assert.equal(drawn.latest.length, 1);
      assert.notEqual(drawn.latest[0].colour, ERROR, 'a finite latest value is not an error');

      await send(page, { type: 'append', runId: 'run-a', series: { loss: hostPoints([[100, NaN]]) } });
      const nan = await lossPanel(page);
      assert.deepEqual(nan.latest, [{ text: 'NaN', colour: ERROR }]);
      assert.equal(nan.nonfinite, '4');
      assert.ok(Number(nan.yMin) > 1, `the y axis reaches down to ${nan.yMin}`);

      await send(page, { type: 'append', runId: 'run-a', series: { loss: hostPoints([[101, Infinity]]) } });
      assert.deepEqual((await lossPanel(page)).latest, [{ text: '+∞', colour: ERROR }]);
      await send(page, { type: 'append', runId: 'run-a', series: { loss: hostPoints([[102, -Infinity]]) } });
      const last = await lossPanel(page);
      assert.deepEqual(last.latest, [{ text: '−∞', colour: ERROR }]);
      assert.equal(last.points, '97');
      assert.deepEqual(await unexpectedProblems(page), []);
      await page.close();
    });
  }
});
