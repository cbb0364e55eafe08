// The charts people expect (issue 21, docs/charts.md), in real Chromium under the host's CSP, fed
// as the host feeds them: smoothing, log scale, outliers, time axes, any metric, tooltips and the
// shared crosshair, exports, events, config, the step slider of the distributions, themes and state.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeNumber } from '../../src/protocol/numbers';
import { isWebviewToHost, type HostToWebview, type SeriesPoints, type ViewEvent, type WebviewToHost } from '../../webview/contract';
import { clock, HOSTILE, reliability, ROLES, RUNS, resetMessage, rows, START } from './fixtures';
import { canvasStats, frames, idle, posted, reveal, RESULTS, send, THEMES, type ThemeName, type ViewName, useHarness } from './harness';

const h = useHarness();


const EVENTS: ViewEvent[] = [
  { step: 300, level: 'info', message: 'checkpoint saved', kind: 'checkpoint', span: null, time: START + 150 },
  { step: 900, level: 'warning', message: `rolled back past ${HOSTILE}`, kind: 'rollback', span: { from: 800, to: 900 }, time: START + 450 },
];

/** A run with a clock (two steps a second), events and a config. */
function chartedReset(extra: Partial<Extract<HostToWebview, { type: 'reset' }>> = {}): HostToWebview {
  return resetMessage('run-a', 1500, { clock: clock(0, 1500), events: EVENTS, config: { lr: 3e-4, optimizer: { name: 'adamw', betas: [0.9, 0.95] }, note: HOSTILE }, ...extra });
}

async function openWith(view: ViewName, reset: HostToWebview = chartedReset(), theme: ThemeName = 'dark'): Promise<Page> {
  const page = await h.open(view, { theme });
  await send(page, { type: 'runs', runs: RUNS, activeId: 'run-a' }, reset);
  return page;
}

const panel = (page: Page, id: string): Promise<Record<string, string>> =>
  page.evaluate((id): Record<string, string> => {
    const el = document.querySelector(`figure[data-panel="${CSS.escape(id)}"]`) as HTMLElement | null;
    return el ? { ...(el.dataset as Record<string, string>), hidden: String(el.hidden) } : { missing: 'true' };
  }, id);

const tooltip = (page: Page, id: string) => page.locator(`figure[data-panel="${id}"] canvas`).getAttribute('data-tooltip');

async function hover(page: Page, id: string, fx: number, fy = 0.5): Promise<void> {
  const box = await page.locator(`figure[data-panel="${id}"] canvas`).boundingBox();
  assert.ok(box);
  await page.mouse.move(box.x + box.width * fx, box.y + box.height * fy);
  await frames(page, 3);
}

/** A loss that falls from 3 to 0.1 with a huge spike at step 5: spans decades, one outlier. */
function spiky(n = 600): SeriesPoints {
  const steps = Array.from({ length: n }, (_, i) => i);
  return { steps, values: steps.map((s) => encodeNumber(s === 5 ? 5000 : 0.1 + 3 * Math.exp(-s / 100))) };
}

describe('charts', () => {
  test('sidebar: hover shows step, value and time in a tooltip, and a crosshair at that step on every chart', async () => {
    const page = await openWith('live');
    await hover(page, 'grad', 0.5);
    const text = (await tooltip(page, 'grad')) ?? '';
    assert.match(text, /^step [\d,]+ · \d+m \d+s · \d+ \w+ \d{4}, \d\d:\d\d:\d\d\ngrad_norm: [\d.]+$/m, text);
    const steps = await page.evaluate(() => [...document.querySelectorAll('figure.panel:not([hidden])')].map((f) => (f as HTMLElement).dataset.crosshair));
    assert.ok(steps.length >= 7 && steps.every((s) => s !== undefined && s !== '' && s === steps[0]), `one step on every chart: ${steps}`);
    // The crosshair line on a chart the pointer is not over: the foreground colour in a column.
    const ece = await canvasStats(page, 'figure[data-panel="ece"] canvas', [THEMES.dark.foreground], 30);
    assert.ok(ece.rows[0] && ece.rows[0][1] - ece.rows[0][0] > ece.height * 0.5, `crosshair on the ECE chart: ${JSON.stringify(ece.rows)}`);
    await page.locator('figure[data-panel="grad"]').screenshot({ path: `${RESULTS}/charts-sidebar-tooltip.png` });
    await page.mouse.move(2, 2);
    await frames(page, 3);
    assert.equal(await page.locator('figure[data-panel="ece"]').getAttribute('data-crosshair'), '');
    await h.done(page);
  });

  test('smoothing: the slider smooths every chart (debiased EMA), the raw line stays faint behind, the choice goes to the host', async () => {
    const page = await openWith('live');
    const before = await panel(page, 'grad');
    assert.equal(before.lines, '1');
    assert.equal(before.smoothed, '');
    await page.locator('#smoothing input').fill('0.9');
    await idle(page);
    const after = await panel(page, 'grad');
    assert.equal(after.smoothed, '0.9');
    assert.equal(after.lines, '2', 'the raw line and its smoothed twin');
    assert.equal(await page.locator('#smoothing output').textContent(), '0.90');
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'savePrefs'));
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'savePrefs').at(-1), { type: 'savePrefs', prefs: { smoothing: 0.9 } });
    // The host's prefs (another view changed them) move the slider here.
    await send(page, { type: 'prefs', prefs: { smoothing: 0.5 } });
    assert.equal(await page.locator('#smoothing input').inputValue(), '0.5');
    assert.equal((await panel(page, 'loss')).smoothed, '0.5');
    await page.locator('figure[data-panel="grad"]').screenshot({ path: `${RESULTS}/charts-smoothing.png` });
    await h.done(page);
  });

  test('log scale: the loss on a log axis by default once it spans a decade; a toggle per chart, remembered through the host', async () => {
    const spikyReset = resetMessage('run-a', 0, { series: { loss: spiky(), grad_norm: rows(0, 600).grad_norm }, alerts: [], reliability: null });
    const page = await openWith('live', spikyReset);
    assert.equal((await panel(page, 'loss')).scale, 'log');
    assert.equal(await page.locator('figure[data-panel="loss"] [data-action="log"]').getAttribute('aria-pressed'), 'true');
    assert.equal((await panel(page, 'grad')).scale, 'linear');
    await page.locator('figure[data-panel="grad"] [data-action="log"]').click();
    await idle(page);
    assert.equal((await panel(page, 'grad')).scale, 'log');
    await page.locator('figure[data-panel="loss"] [data-action="log"]').click();
    await idle(page);
    assert.equal((await panel(page, 'loss')).scale, 'linear');
    const prefs = (await posted(page)).filter((m) => m.type === 'savePrefs');
    assert.deepEqual(prefs, [
      { type: 'savePrefs', prefs: { logScale: { grad: true } } },
      { type: 'savePrefs', prefs: { logScale: { loss: false } } },
    ]);
    await h.done(page);
  });

  test('ignore outliers: one huge early spike no longer flattens the loss', async () => {
    const spikyReset = resetMessage('run-a', 0, { series: { loss: spiky() }, alerts: [], reliability: null });
    const page = await openWith('dashboard', spikyReset);
    await page.locator('figure[data-panel="loss"] [data-action="log"]').click();
    await idle(page);
    const full = await panel(page, 'loss');
    assert.equal(full.scale, 'linear');
    assert.ok(Number(full.yMax) >= 5000, `the spike sets the range: ${full.yMax}`);
    await page.locator('#ignore-outliers').click();
    await idle(page);
    const robust = await panel(page, 'loss');
    assert.equal(robust.robust, 'on');
    assert.ok(Number(robust.yMax) < 5, `the range of the other values: ${robust.yMax}`);
    await page.locator('figure[data-panel="loss"]').screenshot({ path: `${RESULTS}/charts-outliers.png` });
    await h.done(page);
  });

  test('x axis: relative and wall time from the run’s clock; a run without one stays on steps', async () => {
    const page = await openWith('dashboard');
    await send(page, { type: 'prefs', prefs: { xAxis: 'relative' } });
    assert.equal((await panel(page, 'loss')).xAxis, 'relative');
    await hover(page, 'loss', 0.5, 0.3);
    assert.match((await tooltip(page, 'loss')) ?? '', /^step [\d,]+ · \d+m( \d+s)? · /);
    await page.locator('figure[data-panel="loss"]').screenshot({ path: `${RESULTS}/charts-relative-time.png` });
    await send(page, { type: 'prefs', prefs: { xAxis: 'wall' } });
    assert.equal((await panel(page, 'loss')).xAxis, 'wall');
    // Zoom still works in steps on a time axis: a drag selects a step range.
    const box = await page.locator('figure[data-panel="loss"] canvas').boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    await idle(page);
    const zoomed = await panel(page, 'loss');
    assert.ok(Number(zoomed.xMin) > 200 && Number(zoomed.xMax) < 1200, `zoomed steps: ${zoomed.xMin}–${zoomed.xMax}`);
    await page.locator('figure[data-panel="loss"]').screenshot({ path: `${RESULTS}/charts-wall-time.png` });
    await send(page, resetMessage('run-a', 300));
    assert.equal((await panel(page, 'loss')).xAxis, 'step', 'no clock: steps');
    await h.done(page);
  });

  test('any metric: the learning rate has a chart; metrics no panel names get one; the picker lists them by prefix and remembers a choice', async () => {
    const series = { ...rows(0, 400), learning_rate: { steps: [0, 100, 200, 300], values: [0.1, 0.1, 0.05, 0.01] }, 'train/acc': { steps: [0, 200, 399], values: [0.1, 0.5, 0.9] }, 'sa/fc1/sigma1': { steps: [0, 200], values: [1, 2] } };
    const page = await openWith('dashboard', resetMessage('run-a', 0, { series, roles: { ...ROLES, lr: 'learning_rate' }, alerts: [] }));
    const lr = await panel(page, 'lr');
    assert.equal(lr.points, '4');
    assert.equal(await page.locator('figure[data-panel="lr"] .panel-title').textContent(), 'Learning rate (learning_rate)');
    assert.equal((await panel(page, 'metric:train/acc')).points, '3');
    assert.equal((await panel(page, 'metric:sa/fc1/sigma1')).missing, 'true', 'per-layer series are opt-in');
    const groups = await page.locator('#metric-picker details').evaluateAll((els) => els.map((e) => e.querySelector('summary')?.textContent));
    assert.deepEqual(groups, ['(no prefix) · 3', 'calibration/ · 1', 'entropy/ · 1', 'gpu/ · 2', 'loss/ · 1', 'sa/ · 9', 'train/ · 1']);
    await page.locator('#metric-picker vscode-checkbox[data-metric="train/acc"]').click();
    await idle(page);
    assert.equal((await panel(page, 'metric:train/acc')).hidden, 'true');
    await page.locator('#metric-picker details[data-group="sa"] summary').click();
    await page.locator('#metric-picker vscode-checkbox[data-metric="sa/fc1/sigma1"]').click();
    await idle(page);
    assert.equal((await panel(page, 'metric:sa/fc1/sigma1')).points, '2');
    const prefs = (await posted(page)).filter((m) => m.type === 'savePrefs');
    assert.deepEqual(prefs, [
      { type: 'savePrefs', prefs: { metricCharts: { 'train/acc': false } } },
      { type: 'savePrefs', prefs: { metricCharts: { 'sa/fc1/sigma1': true } } },
    ]);
    // The host's prefs, after a reload of another view: the same choice applies here.
    await send(page, { type: 'prefs', prefs: { metricCharts: { 'train/acc': true } } });
    assert.equal((await panel(page, 'metric:train/acc')).hidden, 'false');
    await h.done(page);
  });

  test('overlay: another run on any chart (its gradient norm and lr too), under its own roles', async () => {
    const page = await openWith('dashboard');
    await page.locator('#overlay-runs vscode-checkbox[data-run-id="run-c"]').click();
    await idle(page);
    const other = rows(0, 800, { seed: 5 });
    await send(page, { type: 'overlay', runs: [{ id: 'run-c', name: 'baseline', series: { train_loss: other.loss, grad_norm: other.grad_norm }, roles: { ...ROLES, loss: 'train_loss' }, clock: clock(0, 800) }] });
    assert.equal((await panel(page, 'grad')).lines, '2');
    assert.equal((await panel(page, 'loss')).lines, '3', 'loss, val loss and the other run’s train_loss');
    await send(page, { type: 'prefs', prefs: { xAxis: 'relative' } });
    assert.equal((await panel(page, 'grad')).lines, '2', 'on a time axis too, through its own clock');
    await h.done(page);
  });

  test('export: a chart as PNG (the host saves it) and the run as CSV', async () => {
    const page = await openWith('dashboard');
    await page.locator('figure[data-panel="loss"] [data-action="png"]').click();
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'exportPng'));
    const png = (await posted(page)).find((m) => m.type === 'exportPng') as Extract<WebviewToHost, { type: 'exportPng' }>;
    assert.equal(png.name, 'resnet-cifar-loss');
    const bytes = Buffer.from(png.base64, 'base64');
    assert.equal(bytes.readUInt32BE(0), 0x89504e47, 'a PNG');
    assert.ok(bytes.length > 5000, `${bytes.length} bytes`);
    assert.equal(bytes.readUInt32BE(16), 1280 - 40, 'the canvas’s width');
    await page.locator('#export-csv').click();
    assert.deepEqual((await posted(page)).at(-1), { type: 'exportCsv', runId: 'run-a' });
    await h.done(page);
  });

  test('events and config: listed as text beside the charts, markers and bands on every chart, the message in the tooltip', async () => {
    const page = await openWith('dashboard');
    const events = await page.locator('#events tr').evaluateAll((els) => els.map((e) => [...e.querySelectorAll('td')].map((td) => td.textContent)));
    assert.deepEqual(events, [
      ['800–900', 'rollback', `rolled back past ${HOSTILE}`],
      ['300', 'checkpoint', 'checkpoint saved'],
    ]);
    const config = await page.locator('#config tr').evaluateAll((els) => els.map((e) => [e.querySelector('th')?.textContent, e.querySelector('td')?.textContent]));
    assert.deepEqual(config, [
      ['lr', '0.0003'],
      ['optimizer.name', 'adamw'],
      ['optimizer.betas', '[0.9,0.95]'],
      ['note', HOSTILE],
    ]);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal((await panel(page, 'ece')).events, '2');
    // The rollback's band: the warning colour, faint, over steps 800–900 of the ECE chart.
    const band = await canvasStats(page, 'figure[data-panel="ece"] canvas', [THEMES.dark['editorWarning-foreground']]);
    assert.ok(band.near[0] > 100, JSON.stringify(band));
    // The loss chart spans steps 0…1499 over its plot: hover the band's middle (step 850).
    const area = await page.evaluate(() => {
      const c = document.querySelector('figure[data-panel="loss"] canvas') as HTMLCanvasElement;
      return c.getBoundingClientRect().width;
    });
    await hover(page, 'loss', (48 + (850 / 1499) * (area - 48 - 6)) / area, 0.5);
    assert.match((await tooltip(page, 'loss')) ?? '', /rollback \(steps 800–900\): rolled back past <img/);
    // A live event joins the list and the charts.
    await send(page, { type: 'events', runId: 'run-a', events: [{ step: 1200, level: 'error', message: 'lr lowered ×0.5', kind: 'lr', span: null, time: null }] });
    assert.equal(await page.locator('#events tr').first().locator('.event-message').textContent(), 'lr lowered ×0.5');
    assert.equal((await panel(page, 'ece')).events, '3');
    await page.locator('figure[data-panel="loss"]').screenshot({ path: `${RESULTS}/charts-events.png` });
    await h.done(page);
  });

  test('distributions: a step slider over the logged steps, following the live step; NaN bins show the latest finite ones and say so', async () => {
    const page = await openWith('dashboard', chartedReset({ distributionSteps: [100, 500, 1000, 1499] }));
    await send(page, {
      type: 'distributions',
      runId: 'run-a',
      requested: null,
      reliability: reliability(1499),
      histograms: ['sa/fc1', 'sa/fc2', 'sa/head'].map((name, i) => ({ name, step: 1499, edges: [-1, -0.5, 0, 0.5, 1], counts: [1 + i, 5, 9, 4] })),
      note: null,
    });
    await reveal(page, '#histograms');
    assert.equal(await page.locator('#histograms').getAttribute('data-histograms'), '3');
    const hist = await canvasStats(page, '#histograms', [THEMES.dark['charts-blue']]);
    assert.ok(hist.near[0] > 300, `bars drawn: ${JSON.stringify(hist)}`);
    assert.equal(await page.locator('#dist-step output').textContent(), '1,499');
    // Live bins that are NaN (nothing counted): the diagram keeps the last finite ones and says so.
    const empty = { ...reliability(1600), counts: reliability(1600).counts.map(() => 0) };
    await send(page, { type: 'reliability', runId: 'run-a', bins: empty });
    assert.match((await page.locator('#reliability-caption').textContent()) ?? '', /^step 1,499 /);
    assert.equal(await page.locator('#distributions-note').textContent(), 'Step 1,600 has no finite bins (NaN predictions): showing step 1,499, the latest finite ones.');
    assert.equal(await page.locator('#reliability').getAttribute('data-bins'), '8');
    // The slider: an earlier step, asked of the host; following stops.
    await page.locator('#dist-step input').fill('1');
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'pickStep'));
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'pickStep'), [{ type: 'pickStep', runId: 'run-a', step: 500 }]);
    assert.equal(await page.locator('#dist-step output').textContent(), '500');
    await send(page, { type: 'distributions', runId: 'run-a', requested: 500, reliability: reliability(500, 0.1), histograms: [{ name: 'sa/fc1', step: 500, edges: [0, 1], counts: [3] }], note: null });
    assert.match((await page.locator('#reliability-caption').textContent()) ?? '', /^step 500 /);
    assert.equal(await page.locator('#histograms').getAttribute('data-histograms'), '1');
    // Not following: a live frame moves nothing.
    await send(page, { type: 'reliability', runId: 'run-a', bins: reliability(1700) });
    assert.match((await page.locator('#reliability-caption').textContent()) ?? '', /^step 500 /);
    // Follow live again: asks for the newest.
    await page.locator('#dist-follow').click();
    await idle(page);
    assert.deepEqual((await posted(page)).filter((m) => m.type === 'pickStep').at(-1), { type: 'pickStep', runId: 'run-a', step: null });
    await page.locator('section.distributions').screenshot({ path: `${RESULTS}/charts-distributions.png` });
    await h.done(page);
  });

  test('state across hide/show: the sidebar keeps its clock, events and preferences; the dashboard its step slider', async () => {
    const page = await openWith('live');
    await send(page, { type: 'prefs', prefs: { smoothing: 0.7, xAxis: 'relative' } });
    await page.evaluate(() => new Promise((r) => setTimeout(r, 1300)));
    await page.reload();
    await page.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'ready'));
    await idle(page);
    const loss = await panel(page, 'loss');
    assert.equal(loss.smoothed, '0.7');
    assert.equal(loss.xAxis, 'relative', 'the clock came back with the state');
    assert.equal(loss.events, '2');
    await h.done(page);
    const dash = await openWith('dashboard', chartedReset({ distributionSteps: [100, 500, 1000] }));
    await dash.locator('#dist-step input').fill('0');
    await dash.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'pickStep'));
    await dash.reload();
    await dash.waitForFunction(() => (window as unknown as { __harness: { posted: { type: string }[] } }).__harness.posted.some((m) => m.type === 'ready'));
    await send(dash, { type: 'runs', runs: RUNS, activeId: 'run-a' }, chartedReset({ distributionSteps: [100, 500, 1000] }));
    assert.deepEqual((await posted(dash)).filter((m) => m.type === 'pickStep').at(-1), { type: 'pickStep', runId: 'run-a', step: 100 }, 'the picked step is asked for again');
    assert.equal(await dash.locator('#dist-follow').getAttribute('aria-checked'), 'false');
    await h.done(dash);
  });

  for (const theme of ['light', 'dark', 'high-contrast'] as ThemeName[]) {
    test(`${theme}: smoothed lines, events, the crosshair and the controls in the theme's colours`, async () => {
      const page = await openWith('dashboard', chartedReset(), theme);
      await send(page, { type: 'prefs', prefs: { smoothing: 0.8, xAxis: 'relative' } });
      await hover(page, 'loss', 0.4, 0.4);
      const stats = await canvasStats(page, 'figure[data-panel="grad"] canvas', [THEMES[theme]['charts-orange'], THEMES[theme].foreground]);
      assert.ok(stats.near[0] > 200, `the gradient norm in the theme's orange: ${JSON.stringify(stats)}`);
      assert.ok(stats.near[1] > 30, `the crosshair in its foreground: ${JSON.stringify(stats)}`);
      await page.screenshot({ path: `${RESULTS}/charts-dashboard-${theme}.png`, fullPage: true });
      await h.done(page);
    });
  }

  test('everything the views posted matches the contract', () => {
    assert.ok(h.allPosted.length > 20);
    for (const m of h.allPosted) assert.ok(isWebviewToHost(m), JSON.stringify(m).slice(0, 300));
  });
});

