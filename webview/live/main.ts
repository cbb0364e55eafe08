// The sidebar "Live" view: the active run (a picker when there are several), its open alerts on
// top, and small multiples that grow as deltas arrive (loss and val loss, ECE, SA sign diversity
// min and median over the layers, entropy, learning rate, grad norm, GPU utilisation and memory),
// with the view's smoothing, x axis, outlier and log-scale choices, tooltips and a shared crosshair
// (docs/charts.md). Every string from a run goes through textContent. State (the run, its alerts,
// thinned series, clock, events and the preferences) survives hide/show through vscode.setState;
// a `reset` replaces everything.
import { isViewPrefs, type Alert, type RunListItem, type RunStatus, type SeriesPoints, type ViewEvent, type ViewPrefs } from '../contract';
import { answeredStep } from '../../src/rescue/actions';
import { AlertList } from '../shared/alertList';
import { ChartPanel, extent } from '../shared/chartPanel';
import { createButton, createSelect } from '../shared/controls';
import { attachCrosshair } from '../shared/crosshair';
import { formatStep } from '../shared/format';
import { FrameScheduler, WorkCosts } from '../shared/frames';
import { onHostMessage, type HostMessage } from '../shared/hostMessages';
import { Visibility } from '../shared/visibility';
import { PANEL_METRICS, PANELS } from '../shared/panels';
import { RunData } from '../shared/runData';
import { RunList } from '../shared/runList';
import { decodeState, encodeState, isSeriesPoints, thinSeries } from '../shared/stateCodec';
import { Smoother } from '../shared/smoothing';
import { readTheme, watchTheme } from '../shared/theme';
import { ViewOptions } from '../shared/viewOptions';
import { vscodeApi } from '../shared/vscodeApi';
import { drawChart, logChip, sharedFrame, type ViewChart } from '../shared/viewChart';
import { idLookup } from '../shared/byId';

/** Points a series keeps before it compacts itself (M4): the sidebar is a few hundred pixels wide. */
const MAX_POINTS = 8_192;
/** Buckets per series in the persisted state (up to 4 points each). */
const STATE_BUCKETS = 200;
const STATE_INTERVAL_MS = 1000;
/** Alerts the sidebar lists before "N more": with more, the loss chart would fall below the fold. */
const ALERTS_SHOWN = 3;

interface SavedState {
  v: 2;
  runs: RunListItem[];
  activeId: string | null;
  runId: string | null;
  status: RunStatus | null;
  alerts: Alert[];
  series: Record<string, SeriesPoints<number>>;
  spread: { min: SeriesPoints<number>; median: SeriesPoints<number>; layers: Record<string, number>; lastStep: number } | null;
  clock: SeriesPoints<number>;
  events: ViewEvent[];
  prefs: ViewPrefs;
}

const byId = idLookup('sidebar', 'webview/live/markup.ts');

const api = vscodeApi();
const pickerSlot = byId('run-picker-slot');
const statusLine = byId('run-status');
const actions = byId('actions');
const alertList = new AlertList(byId('alerts'), {
  compactLimit: ALERTS_SHOWN,
  onAction: (alert, action) => runId !== null && api.postMessage({ type: 'runAction', runId, action, alertStep: answeredStep(alert) }),
});
const empty = byId('empty');
const panelsBox = byId('panels');

const data: RunData = new RunData(MAX_POINTS, (name: string): boolean => PANEL_METRICS.has(name) || data.isRoleMetric(name));
const { store, spread, alerts } = data;
let theme = readTheme();
const list = new RunList();
let activeId: string | null = null;
let runId: string | null = null;

const picker = createSelect(
  'Run',
  (id) => {
    activeId = id;
    api.postMessage({ type: 'selectRun', runId: id });
    saveState();
  },
  { id: 'run-picker' },
);
pickerSlot.append(picker.element);
const stopButton = createButton('Stop Run', () => runId !== null && api.postMessage({ type: 'stopRun', runId }), { id: 'stop-run' });
const dashboardButton = createButton('Open Dashboard', () => runId !== null && api.postMessage({ type: 'openDashboard', runId }), { id: 'open-dashboard', appearance: 'primary' });
actions.append(stopButton.element, dashboardButton.element);

const options = new ViewOptions(api, () => {
  invalidate();
  saveSoon();
});
byId('view-options-slot').append(options.element);
const smoother = new Smoother();

const panels = PANELS.map((spec) => {
  const view = new ChartPanel(spec.id, spec.title, { yMin: spec.yMin, yMax: spec.yMax, alwaysShown: spec.alwaysShown, tooltip: true, xTicks: 5, yTicks: 3, yAxisWidth: 38, bucketPx: 2 });
  const log = logChip(spec, options);
  view.addAction(log.element);
  return { spec, view, log };
});
panelsBox.append(...panels.map((p) => p.view.element));
const crosshair = attachCrosshair(() => panels.map((p) => p.view), () => theme.foreground);
for (const p of panels) crosshair(p.view);

type Panel = ViewChart;
/** Panels whose data, range, alerts or theme changed since they were drawn. */
const dirty = new Set<Panel>(panels);
const frames = new FrameScheduler(draw, byId('live'), 6);
const costs = new WorkCosts<Panel>();
const visibility = new Visibility(() => frames.request());
for (const p of panels) visibility.observe(p.view.element);

/** Everything changed (new points move the shared step axis of every panel): redraw all. */
function invalidate(): void {
  for (const p of panels) dirty.add(p);
  frames.request();
}

/** A panel is drawn when on screen; a hidden one (no data yet) is always looked at, it may show now. */
const wanted = (p: Panel) => p.view.element.hidden || visibility.isVisible(p.view.element);

/** One frame's drawing: the dirty panels on screen, top first, until the deadline; true when done. */
function draw(deadline: number): boolean {
  renderStatus();
  const showCharts = runId !== null;
  if (!showCharts) {
    panelsBox.hidden = true;
    dirty.clear();
    return true;
  }
  if (panelsBox.hidden) {
    panelsBox.hidden = false;
    for (const p of panels) visibility.forget(p.view.element);
  }
  const resolved = panels.map((p) => data.lines(p.spec, theme));
  // Small multiples share the step axis, so an alert's step lines up across them.
  const range = extent(resolved.flat());
  const shared = sharedFrame(data, theme, options, smoother);
  // The text of every changed panel, drawn or not: one scrolled out of view must not show a stale value.
  for (const p of dirty) p.view.renderText(resolved[panels.indexOf(p)], data.titleFor(p.spec));
  const todo = panels.filter((p) => dirty.has(p) && wanted(p));
  costs.runWithin(deadline, todo, (p) => {
    drawChart(p, options, shared, resolved[panels.indexOf(p)], range);
    dirty.delete(p);
  });
  return ![...dirty].some(wanted);
}

function renderStatus(): void {
  const run = list.find(runId);
  const parts: string[] = [];
  if (runId !== null) {
    parts.push(run?.name ?? runId);
    if (list.status) parts.push(list.status);
    const step = data.lastStep();
    parts.push(Number.isFinite(step) ? `step ${formatStep(step)}` : 'waiting for the first row');
  }
  const text = parts.join(' · ');
  if (statusLine.textContent !== text) statusLine.textContent = text;
  stopButton.setDisabled(runId === null || list.status !== 'running');
  dashboardButton.setDisabled(runId === null);
}

function renderRuns(): void {
  picker.setOptions(
    list.runs.map((r) => ({ value: r.id, label: `${r.name} (${r.status})` })),
    activeId,
  );
  pickerSlot.hidden = list.runs.length < 2;
  empty.hidden = list.runs.length > 0 || runId !== null;
  empty.textContent = 'No runs yet. Start one with “Loss Radar: Launch Experiment”, or run a training script in the terminal.';
  renderStatus();
}

function renderAlertList(): void {
  alertList.render(alerts.open());
}

function handle(message: HostMessage): void {
  switch (message.type) {
    case 'runs':
      list.setRuns(message.runs, runId);
      activeId = message.activeId;
      if (activeId === null && list.runs.length === 0) clearRun();
      renderRuns();
      invalidate();
      saveState();
      return;
    case 'reset':
      runId = message.runId;
      activeId = message.runId;
      list.setStatus(message.runId, message.status);
      data.reset(message.series, message.alerts, message.roles);
      data.clock.reset(message.clock);
      data.events = [...message.events];
      data.config = message.config;
      renderRuns();
      renderAlertList();
      invalidate();
      saveState();
      return;
    case 'roles':
      if (message.runId !== runId) return;
      data.setRoles(message.roles);
      return;
    case 'append':
      if (message.runId !== runId) return;
      data.append(message.series);
      if (message.clock) data.clock.append(message.clock);
      invalidate();
      saveSoon();
      return;
    case 'events':
      if (message.runId !== runId) return;
      data.events.push(...message.events);
      invalidate();
      saveSoon();
      return;
    case 'prefs':
      options.apply(message.prefs);
      return;
    case 'alerts':
      if (message.runId !== runId) return;
      alerts.apply(message.alerts);
      renderAlertList();
      invalidate();
      saveState();
      return;
    case 'status':
      if (message.runId !== runId) return;
      list.setStatus(message.runId, message.status);
      renderRuns();
      saveState();
      return;
    case 'actions':
      if (message.runId === runId) alertList.setActions(message.actions);
      return;
    case 'reliability':
    case 'overlay':
    case 'distributions':
    case 'histogram':
      return; // the dashboard's
  }
}

function clearRun(): void {
  runId = null;
  list.status = null;
  data.clear();
  renderAlertList();
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
let saveIdle: number | undefined;

/**
 * Persists within about a second: appends arrive up to 10 times a second, the state need not. The
 * save itself (thinning and encoding every series) waits for idle time, so it never lands in
 * front of a frame.
 */
function saveSoon(): void {
  if (saveTimer !== undefined || saveIdle !== undefined) return;
  saveTimer = setTimeout(() => {
    saveTimer = undefined;
    saveIdle = requestIdleCallback(saveState, { timeout: STATE_INTERVAL_MS });
  }, STATE_INTERVAL_MS);
}

function saveState(): void {
  if (saveTimer !== undefined) clearTimeout(saveTimer);
  if (saveIdle !== undefined) cancelIdleCallback(saveIdle);
  saveTimer = saveIdle = undefined;
  const series: Record<string, SeriesPoints<number>> = {};
  for (const name of store.names()) {
    const s = store.get(name);
    if (s && s.length > 0) series[name] = thinSeries(s, STATE_BUCKETS);
  }
  const state: SavedState = {
    v: 2,
    runs: list.runs,
    activeId,
    runId,
    status: list.status,
    alerts: alerts.all(),
    series,
    spread: spread.min.length > 0 ? { min: thinSeries(spread.min, STATE_BUCKETS), median: thinSeries(spread.median, STATE_BUCKETS), ...spread.snapshot() } : null,
    clock: data.clock.points.toPoints(),
    events: data.events,
    prefs: options.current,
  };
  api.setState(encodeState(state));
}

function restoreState(): void {
  const saved = decodeState(api.getState()) as Partial<SavedState> | null;
  if (!saved || saved.v !== 2) return;
  list.runs = Array.isArray(saved.runs) ? saved.runs : [];
  activeId = typeof saved.activeId === 'string' ? saved.activeId : null;
  runId = typeof saved.runId === 'string' ? saved.runId : null;
  list.status = saved.status ?? null;
  if (saved.series && typeof saved.series === 'object') {
    const series: Record<string, SeriesPoints<number>> = {};
    for (const [name, pts] of Object.entries(saved.series)) if (isSeriesPoints(pts)) series[name] = pts;
    store.reset(series);
  }
  const sp = saved.spread;
  if (sp && isSeriesPoints(sp.min) && isSeriesPoints(sp.median)) {
    spread.min.append(sp.min.steps, sp.min.values);
    spread.median.append(sp.median.steps, sp.median.values);
    spread.restore({ layers: sp.layers ?? {}, lastStep: typeof sp.lastStep === 'number' ? sp.lastStep : -Infinity });
  }
  if (Array.isArray(saved.alerts)) alerts.apply(saved.alerts);
  if (isSeriesPoints(saved.clock)) data.clock.reset(saved.clock);
  if (Array.isArray(saved.events)) data.events = saved.events.filter((e) => e && typeof e.message === 'string');
  if (isViewPrefs(saved.prefs)) options.apply(saved.prefs);
}

onHostMessage(handle);

watchTheme((next) => {
  theme = next;
  for (const p of panels) p.view.setTheme(theme);
  invalidate();
});

restoreState();
renderRuns();
renderAlertList();
invalidate();
api.postMessage({ type: 'ready', view: 'sidebar' });
