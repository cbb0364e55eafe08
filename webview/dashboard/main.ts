// The run dashboard (a WebviewPanel): full-size charts with a shared, zoomable step axis, alert and
// event markers on every chart and a banner of the open alerts, other runs overlaid on any chart,
// a chart for every metric the run logs (a picker, grouped by prefix), the SA heatmap (layers ×
// steps), the reliability diagram and SA histograms at any logged step, the run's events and
// config, and exports (a chart as PNG, the run as CSV). Smoothing, the x axis, outliers and log
// scales are the workspace's (ViewOptions; docs/charts.md). Every string from a run goes through
// textContent (or canvas fillText).
import { Chart, Legend } from 'chart.js';
import { isViewPrefs, type ReliabilityBins, type ViewHistogram } from '../contract';
import { drawableBins, drawableHistogram } from '../../src/view/distributions';
import { answeredStep } from '../../src/rescue/actions';
import { AlertList } from '../shared/alertList';
import { ChartPanel, extent, type ResolvedLine } from '../shared/chartPanel';
import { createButton, createChip } from '../shared/controls';
import { attachCrosshair } from '../shared/crosshair';
import { formatStep } from '../shared/format';
import { FrameScheduler, WorkCosts } from '../shared/frames';
import { onHostMessage, type HostMessage } from '../shared/hostMessages';
import { Visibility } from '../shared/visibility';
import { signDiversityLayer } from '../shared/layerSpread';
import type { XRange } from '../shared/lineChart';
import { metricPanel, PANEL_METRICS, PANELS, type PanelSpec } from '../shared/panels';
import { RunData } from '../shared/runData';
import { RunList } from '../shared/runList';
import { Smoother } from '../shared/smoothing';
import { decodeState, encodeState } from '../shared/stateCodec';
import { readTheme, watchTheme, type Theme } from '../shared/theme';
import { ViewOptions } from '../shared/viewOptions';
import { vscodeApi } from '../shared/vscodeApi';
import { drawChart, logChip, sharedFrame, type ViewChart } from '../shared/viewChart';
import { xAxisFor } from '../shared/xAxis';
import { SaHeatmap, type HeatmapLayer } from './heatmap';
import { HistogramGrid } from './histograms';
import { chartedByDefault, MetricPicker } from './metricPicker';
import { OverlayPicker } from './overlayPicker';
import { ReliabilityDiagram } from './reliability';
import { RunInfo } from './runInfo';
import { StepPicker } from './stepPicker';
import { attachZoom, ZoomDetail, type ZoomHost } from './zoom';
import { idLookup } from '../shared/byId';

Chart.register(Legend);

/** Points a series keeps before it compacts itself (M4); zooming shows this much detail. */
const MAX_POINTS = 262_144;

interface SavedState {
  v: 2;
  runId: string | null;
  zoom: XRange | null;
  overlay: string[];
  prefs: unknown;
  follow: boolean;
  pickedStep: number | null;
}

const byId = idLookup('dashboard', 'webview/dashboard/markup.ts');

const api = vscodeApi();
const title = byId('run-title');
const statusLine = byId('run-status');
const actions = byId('actions');
const banner = new AlertList(byId('banner'), {
  onAction: (alert, action) => runId !== null && api.postMessage({ type: 'runAction', runId, action, alertStep: answeredStep(alert) }),
});
const chartsBox = byId('charts');

// Every metric is kept: any of them may be charted (the picker).
const data: RunData = new RunData(MAX_POINTS, () => true);
const { store, alerts } = data;
const overlays = new Map<string, { name: string; data: RunData }>();
let reliabilityBins: ReliabilityBins<number> | null = null;
let histograms: ViewHistogram<number>[] = [];
let distributionsNote = '';
let theme = readTheme();
const list = new RunList();
let runId: string | null = null;
let zoom: XRange | null = null;
let selection: { from: number; to: number } | null = null;
let overlayAnnounced = false;
const smoother = new Smoother();

const options = new ViewOptions(api, () => {
  invalidate();
  saveState();
});
byId('view-options-slot').append(options.element);

const resetZoom = createButton('Reset Zoom', () => setZoom(null), { id: 'reset-zoom' });
const stopButton = createButton('Stop Run', () => runId !== null && api.postMessage({ type: 'stopRun', runId }), { id: 'stop-run' });
const csvButton = createButton('Export CSV', () => runId !== null && api.postMessage({ type: 'exportCsv', runId }), { id: 'export-csv' });
actions.append(resetZoom.element, csvButton.element, stopButton.element);

const overlayPicker = new OverlayPicker(byId('overlay-runs'), byId('compare'), () => {
  overlayAnnounced = true;
  requestOverlay();
  if (overlayPicker.ids.length === 0) overlays.clear();
  saveState();
  invalidate();
});

const metricPicker = new MetricPicker(byId('metric-picker'), byId('metrics-section'), (name, charted) => {
  options.set({ metricCharts: { [name]: charted } });
  syncMetricPanels();
});

/** Whether a metric is charted: the user's tick in the picker, else the default. */
const charted = (name: string): boolean => options.metricChart(name) ?? chartedByDefault(name);

type Panel = ViewChart;

const panels: Panel[] = [];
const panelById = new Map<string, Panel>();
const heatmapCanvas = byId<HTMLCanvasElement>('heatmap');
const heatmap = new SaHeatmap(heatmapCanvas, byId('heatmap-readout'));
const reliability = new ReliabilityDiagram(byId<HTMLCanvasElement>('reliability'), byId('reliability-caption'));
const histogramGrid = new HistogramGrid(byId<HTMLCanvasElement>('histograms'));
const distributionsNoteEl = byId('distributions-note');
const runInfo = new RunInfo(byId('events'), byId('events-section'), byId('config'), byId('config-section'));
const stepPicker = new StepPicker(byId('step-picker'), (step) => {
  if (runId !== null) api.postMessage({ type: 'pickStep', runId, step });
  saveState();
});

/** Panels (and the heatmap) whose data, range, alerts or theme changed since they were drawn. */
const dirty = new Set<Panel>();
let heatmapDirty = true;
const frames = new FrameScheduler(draw, byId('dashboard'));
const costs = new WorkCosts<Panel | 'heatmap'>();
const visibility = new Visibility(() => frames.request());
visibility.observe(heatmapCanvas);
const crosshair = attachCrosshair(() => panels.map((p) => p.view), () => theme.foreground);

const zoomHost: ZoomHost = {
  full: () => extent(allLines().flat()),
  current: () => zoom,
  set: setZoom,
  select(next) {
    selection = next;
    const sel = next ? { ...next, color: theme.foreground } : null;
    for (const p of panels) p.view.setSelection(sel);
  },
};

/** A chart for `spec`, with its log toggle, PNG export, zoom and crosshair; appended in order. */
function addPanel(spec: PanelSpec): Panel {
  const view = new ChartPanel(spec.id, spec.title, {
    yMin: spec.yMin,
    yMax: spec.yMax,
    alwaysShown: spec.alwaysShown,
    tooltip: true,
    legend: true,
    xTicks: 8,
    yTicks: 5,
    yAxisWidth: 48,
  });
  const log = logChip(spec, options);
  const png = createChip('PNG', 'Export this chart as PNG', () => void exportPng(view, spec), { action: 'png' });
  view.addAction(log.element);
  view.addAction(png.element);
  const panel: Panel = { spec, view, log };
  panels.push(panel);
  panelById.set(spec.id, panel);
  chartsBox.append(view.element);
  visibility.observe(view.element);
  attachZoom({ element: view.canvas, stepAt: (x) => view.stepAt(x), plotBounds: () => view.lineChart?.plotArea() ?? null }, zoomHost);
  crosshair(view);
  dirty.add(panel);
  return panel;
}

for (const spec of PANELS) addPanel(spec);

/** Metrics no panel draws (by name or role) and the heatmap does not: each gets its own chart. */
function syncMetricPanels(): void {
  const drawn = new Set<string>(PANEL_METRICS);
  for (const spec of PANELS) {
    for (const line of spec.lines) {
      if (line.source.kind !== 'metric') continue;
      const actual = data.resolve(line.source.names);
      if (actual !== undefined) drawn.add(actual);
    }
  }
  const names = store.names().filter((n) => store.has(n));
  let index = 0;
  for (const name of names) {
    if (drawn.has(name) || signDiversityLayer(name) !== null) continue;
    if (!panelById.has(`metric:${name}`) && charted(name)) addPanel(metricPanel(name, index));
    index++;
  }
  metricPicker.render(names, charted);
}

function wanted(p: Panel): boolean {
  return p.view.element.hidden || visibility.isVisible(p.view.element);
}

/** New points, a new range, alerts or theme: every chart shares the step axis, all redraw. */
function invalidate(): void {
  for (const p of panels) dirty.add(p);
  heatmapDirty = true;
  frames.request();
}

/** A zoomed range's points come from the host's disk (docs/store.md "Zoom"); the overview is a summary. */
const detail = new ZoomDetail((id, from, to, metrics) => api.postMessage({ type: 'detail', runId: id, from, to, metrics }));

function setZoom(range: XRange | null): void {
  zoom = range;
  detail.zoomed(runId, range);
  resetZoom.setDisabled(zoom === null);
  saveState();
  invalidate();
}

function resolveLines(spec: PanelSpec, shown = true): ResolvedLine[] {
  const out = data.lines(spec, theme, 2, charted);
  for (const line of out) {
    const name = store.names().find((n) => store.get(n) === line.series);
    if (name !== undefined) line.series = detail.refine(name, line.series, shown);
  }
  let k = 2;
  for (const [, o] of overlays) {
    const axis = xAxisFor(options.xAxis, o.data.clock);
    for (const line of o.data.lines(spec, theme, 1)) {
      out.push({ ...line, label: `${o.name}: ${line.label}`, color: theme.series[k % theme.series.length], dashed: true, showLatest: false, xAxis: axis });
    }
    k++;
  }
  return out;
}

function allLines(): ResolvedLine[][] {
  return panels.map((p) => resolveLines(p.spec, wanted(p)));
}

function heatmapLayers(): HeatmapLayer[] {
  const out: HeatmapLayer[] = [];
  for (const name of store.names()) {
    const layer = signDiversityLayer(name);
    const series = store.get(name);
    if (layer !== null && series && series.length > 0) out.push({ name: layer, series });
  }
  return out;
}


/** One frame's drawing: dirty charts on screen, top first, then the heatmap, until the deadline. */
function draw(deadline: number): boolean {
  renderHeader();
  const resolved = allLines();
  const full = extent(resolved.flat());
  const range = zoom ?? full;
  const shared = sharedFrame(data, theme, options, smoother);
  const sel = selection ? { ...selection, color: theme.foreground } : null;
  // The text of every changed panel, drawn or not: one scrolled out of view must not show a stale value.
  for (const p of dirty) p.view.renderText(resolved[panels.indexOf(p)], data.titleFor(p.spec));
  const todo: (Panel | 'heatmap')[] = panels.filter((p) => dirty.has(p) && wanted(p));
  if (heatmapDirty && visibility.isVisible(heatmapCanvas)) todo.push('heatmap');
  const done = costs.runWithin(deadline, todo, (piece) => {
    if (piece === 'heatmap') {
      heatmap.render(theme, heatmapLayers(), range);
      heatmapDirty = false;
      return;
    }
    drawChart(piece, options, shared, resolved[panels.indexOf(piece)], range, sel);
    dirty.delete(piece);
  });
  return done && ![...dirty].some(wanted) && !(heatmapDirty && visibility.isVisible(heatmapCanvas));
}

function renderHeader(): void {
  const run = list.find(runId);
  const name = run?.name ?? runId ?? 'Loss Radar';
  if (title.textContent !== name) title.textContent = name;
  const parts: string[] = [];
  if (list.status) parts.push(list.status);
  const step = data.lastStep();
  if (Number.isFinite(step)) parts.push(`step ${formatStep(step)}`);
  const open = alerts.open().length;
  if (open > 0) parts.push(`${open} open alert${open === 1 ? '' : 's'}`);
  const text = parts.join(' · ');
  if (statusLine.textContent !== text) statusLine.textContent = text;
  stopButton.setDisabled(runId === null || list.status !== 'running');
  csvButton.setDisabled(runId === null);
  resetZoom.setDisabled(zoom === null);
}

function renderDistributions(): void {
  reliability.render(theme, reliabilityBins);
  histogramGrid.render(theme, histograms);
  if (distributionsNoteEl.textContent !== distributionsNote) distributionsNoteEl.textContent = distributionsNote;
}

/** The metrics the charts draw, by name and role: what an overlaid run is asked for. */
function chartedMetrics(): string[] {
  const names = new Set<string>();
  for (const p of panels) {
    for (const line of p.spec.lines) {
      if (line.source.kind !== 'metric') continue;
      for (const n of line.source.names) names.add(n);
      const actual = data.resolve(line.source.names);
      if (actual !== undefined) names.add(actual);
    }
  }
  return [...names].slice(0, 256);
}

function requestOverlay(): void {
  api.postMessage({ type: 'setOverlay', runIds: overlayPicker.ids, metrics: chartedMetrics() });
}

/** The chart on the theme's background (a transparent PNG is unreadable on the other theme). */
async function exportPng(view: ChartPanel, spec: PanelSpec): Promise<void> {
  const src = view.canvas;
  if (view.element.hidden || src.width === 0) return;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext('2d');
  if (!ctx) return;
  ctx.fillStyle = theme.background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  const blob = await new Promise<Blob | null>((resolve) => out.toBlob(resolve, 'image/png'));
  if (!blob) return;
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  const run = list.find(runId)?.name ?? runId ?? 'run';
  api.postMessage({ type: 'exportPng', name: `${run}-${spec.id}`, base64: btoa(binary) });
}

/** A live reliability frame, shown when following; non-finite bins keep the last finite ones. */
function liveReliability(bins: ReliabilityBins<number>, apply: boolean): void {
  if (!apply) return;
  if (drawableBins(bins)) {
    reliabilityBins = bins;
    distributionsNote = '';
  } else if (reliabilityBins) {
    distributionsNote = `Step ${formatStep(bins.step)} has no finite bins (NaN predictions): showing step ${formatStep(reliabilityBins.step)}, the latest finite ones.`;
  } else {
    distributionsNote = `Step ${formatStep(bins.step)} has no finite bins (NaN predictions).`;
  }
  renderDistributions();
}

function liveHistogram(h: ViewHistogram<number>, apply: boolean): void {
  if (!apply || !drawableHistogram(h)) return;
  histograms = [...histograms.filter((x) => x.name !== h.name), h].sort((a, b) => a.name.localeCompare(b.name));
  renderDistributions();
}

function handle(message: HostMessage): void {
  switch (message.type) {
    case 'runs':
      if (runId === null) runId = message.activeId;
      list.setRuns(message.runs, runId);
      overlayPicker.render(list.runs, runId);
      if (!overlayAnnounced && overlayPicker.ids.length > 0) {
        // The selection restored from the state: the host learns it again after a reload.
        overlayAnnounced = true;
        requestOverlay();
      }
      renderHeader();
      return;
    case 'reset':
      if (message.runId !== runId) zoom = null;
      runId = message.runId;
      list.setStatus(message.runId, message.status);
      data.reset(message.series, message.alerts, message.roles);
      // A zoom kept across a reload (or the same run shown afresh) asks for its detail again.
      detail.zoomed(runId, zoom);
      data.clock.reset(message.clock);
      data.events = [...message.events];
      data.config = message.config;
      reliabilityBins = message.reliability;
      histograms = [];
      distributionsNote = '';
      stepPicker.setSteps(message.distributionSteps);
      if (!stepPicker.following) api.postMessage({ type: 'pickStep', runId: message.runId, step: stepPicker.step });
      overlayPicker.render(list.runs, runId);
      banner.render(alerts.open());
      syncMetricPanels();
      runInfo.render(data.events, data.config);
      renderDistributions();
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
      syncMetricPanels();
      invalidate();
      return;
    case 'alerts':
      if (message.runId !== runId) return;
      alerts.apply(message.alerts);
      banner.render(alerts.open());
      invalidate();
      return;
    case 'events':
      if (message.runId !== runId) return;
      data.events.push(...message.events);
      runInfo.render(data.events, data.config);
      invalidate();
      return;
    case 'prefs':
      options.apply(message.prefs);
      syncMetricPanels();
      return;
    case 'reliability':
      if (message.runId !== runId) return;
      stepPicker.addStep(message.bins.step);
      liveReliability(message.bins, stepPicker.following);
      return;
    case 'histogram':
      if (message.runId !== runId) return;
      stepPicker.addStep(message.histogram.step);
      liveHistogram(message.histogram, stepPicker.following);
      return;
    case 'distributions':
      if (message.runId !== runId || message.requested !== stepPicker.step) return;
      reliabilityBins = message.reliability;
      histograms = message.histograms;
      distributionsNote = message.note ?? '';
      renderDistributions();
      return;
    case 'status':
      if (message.runId !== runId) return;
      list.setStatus(message.runId, message.status);
      renderHeader();
      return;
    case 'actions':
      if (message.runId === runId) banner.setActions(message.actions);
      return;
    case 'detail':
      // The answer to a gesture: every chart at once, in this task. Spread over frames, as streaming
      // deltas are (8 ms a frame), seven charts would take seven frames to show it (docs/store.md "Zoom").
      if (message.runId === runId && detail.accept(message)) {
        invalidate();
        frames.flush();
      }
      return;
    case 'overlaySelect':
      // Runs chosen in the comparison table (docs/compare.md): as if ticked here.
      overlayPicker.choose(message.runIds.filter((id) => id !== runId));
      return;
    case 'compareTable':
      return; // the comparison table's
    case 'overlay': {
      overlays.clear();
      const chosen = new Set(overlayPicker.ids);
      for (const o of message.runs) {
        if (o.id === runId || !chosen.has(o.id)) continue;
        const run = new RunData(MAX_POINTS, () => true);
        run.reset(o.series, [], o.roles);
        run.clock.reset(o.clock);
        overlays.set(o.id, { name: o.name, data: run });
      }
      invalidate();
      return;
    }
  }
}

function saveState(): void {
  const state: SavedState = { v: 2, runId, zoom, overlay: overlayPicker.ids, prefs: options.current, follow: stepPicker.following, pickedStep: stepPicker.step };
  api.setState(encodeState(state));
}

function restoreState(): void {
  const saved = decodeState(api.getState()) as Partial<SavedState> | null;
  if (!saved || saved.v !== 2) return;
  runId = typeof saved.runId === 'string' ? saved.runId : null;
  const z = saved.zoom;
  zoom = z && typeof z.min === 'number' && typeof z.max === 'number' && z.max > z.min ? { min: z.min, max: z.max } : null;
  if (Array.isArray(saved.overlay)) overlayPicker.setSelected(saved.overlay.filter((id): id is string => typeof id === 'string'));
  if (isViewPrefs(saved.prefs)) options.apply(saved.prefs);
  stepPicker.restore(saved.follow !== false, typeof saved.pickedStep === 'number' ? saved.pickedStep : null);
}

onHostMessage(handle);

function applyTheme(next: Theme): void {
  theme = next;
  for (const p of panels) p.view.setTheme(theme);
  renderDistributions();
  invalidate();
}
watchTheme(applyTheme);

// The hand-drawn canvases follow the page's width.
let lastWidth = -1;
new ResizeObserver(() => {
  if (document.body.clientWidth === lastWidth) return;
  lastWidth = document.body.clientWidth;
  renderDistributions();
  heatmapDirty = true;
  frames.request();
}).observe(document.body);

restoreState();
banner.render([]);
renderDistributions();
invalidate();
api.postMessage({ type: 'ready', view: 'dashboard' });
