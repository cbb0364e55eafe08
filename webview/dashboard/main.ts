// The run dashboard (a WebviewPanel): full-size charts with a shared, zoomable step axis, alert
// markers on every chart and a banner of the open alerts, the loss of other runs overlaid, the SA
// heatmap (layers × steps), the reliability diagram of the latest bins and entropy over time.
// Every string from a run goes through textContent (or canvas fillText).
import { Chart, Legend, Tooltip } from 'chart.js';
import type { ReliabilityBins } from '../contract';
import { AlertList } from '../shared/alertList';
import { ChartPanel, extent, type ResolvedLine } from '../shared/chartPanel';
import { createButton } from '../shared/controls';
import { formatStep } from '../shared/format';
import { FrameScheduler, WorkCosts } from '../shared/frames';
import { onHostMessage, type HostMessage } from '../shared/hostMessages';
import { Visibility } from '../shared/visibility';
import { signDiversityLayer } from '../shared/layerSpread';
import type { XRange } from '../shared/lineChart';
import { PANEL_METRICS, PANELS, type PanelSpec } from '../shared/panels';
import { RunData } from '../shared/runData';
import { RunList } from '../shared/runList';
import { GrowableSeries } from '../shared/series';
import { decodeState, encodeState } from '../shared/stateCodec';
import { readTheme, watchTheme } from '../shared/theme';
import { vscodeApi } from '../shared/vscodeApi';
import { SaHeatmap, type HeatmapLayer } from './heatmap';
import { OverlayPicker } from './overlayPicker';
import { ReliabilityDiagram } from './reliability';
import { attachZoom, type ZoomHost } from './zoom';

Chart.register(Tooltip, Legend);

/** Points a series keeps before it compacts itself (M4); zooming shows this much detail. */
const MAX_POINTS = 262_144;

interface SavedState {
  v: 1;
  runId: string | null;
  zoom: XRange | null;
  overlay: string[];
}

function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`Loss Radar: the dashboard markup lacks #${id} (render DASHBOARD_MARKUP from webview/dashboard/markup.ts)`);
  return el as T;
}

const api = vscodeApi();
const title = byId('run-title');
const statusLine = byId('run-status');
const actions = byId('actions');
const banner = new AlertList(byId('banner'));
const chartsBox = byId('charts');

const data: RunData = new RunData(MAX_POINTS, (name: string): boolean => PANEL_METRICS.has(name) || data.isRoleMetric(name) || signDiversityLayer(name) !== null);
const { store, alerts } = data;
const overlays = new Map<string, { name: string; series: GrowableSeries }>();
let reliabilityBins: ReliabilityBins<number> | null = null;
let theme = readTheme();
const list = new RunList();
let runId: string | null = null;
let zoom: XRange | null = null;
let selection: { from: number; to: number } | null = null;
let overlayAnnounced = false;

const resetZoom = createButton('Reset Zoom', () => setZoom(null), { id: 'reset-zoom' });
const stopButton = createButton('Stop Run', () => runId !== null && api.postMessage({ type: 'stopRun', runId }), { id: 'stop-run' });
actions.append(resetZoom.element, stopButton.element);

const overlayPicker = new OverlayPicker(byId('overlay-runs'), byId('compare'), (ids) => {
  overlayAnnounced = true;
  api.postMessage({ type: 'setOverlay', runIds: ids });
  if (ids.length === 0) overlays.clear();
  saveState();
  invalidate();
});

const panels = PANELS.map((spec) => ({
  spec,
  view: new ChartPanel(spec.id, spec.title, {
    yMin: spec.yMin,
    yMax: spec.yMax,
    alwaysShown: spec.alwaysShown,
    tooltip: true,
    legend: spec.id === 'loss',
    xTicks: 8,
    yTicks: 5,
    yAxisWidth: 48,
  }),
}));
chartsBox.append(...panels.map((p) => p.view.element));

const heatmapCanvas = byId<HTMLCanvasElement>('heatmap');
const heatmap = new SaHeatmap(heatmapCanvas, byId('heatmap-readout'));
const reliability = new ReliabilityDiagram(byId<HTMLCanvasElement>('reliability'), byId('reliability-caption'));

type Panel = (typeof panels)[number];
/** Panels (and the heatmap) whose data, range, alerts or theme changed since they were drawn. */
const dirty = new Set<Panel>(panels);
let heatmapDirty = true;
const frames = new FrameScheduler(draw, byId('dashboard'));
const costs = new WorkCosts<Panel | 'heatmap'>();
const visibility = new Visibility(() => frames.request());
for (const p of panels) visibility.observe(p.view.element);
visibility.observe(heatmapCanvas);

/** New points, a new range, alerts or theme: every chart shares the step axis, all redraw. */
function invalidate(): void {
  for (const p of panels) dirty.add(p);
  heatmapDirty = true;
  frames.request();
}

const wanted = (p: Panel) => p.view.element.hidden || visibility.isVisible(p.view.element);

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
for (const p of panels) {
  attachZoom(
    {
      element: p.view.canvas,
      stepAt: (x) => p.view.lineChart?.stepAt(x) ?? null,
      plotBounds: () => p.view.lineChart?.plotArea() ?? null,
    },
    zoomHost,
  );
}

function setZoom(range: XRange | null): void {
  zoom = range;
  resetZoom.setDisabled(zoom === null);
  saveState();
  invalidate();
}

function resolveLines(spec: PanelSpec): ResolvedLine[] {
  const out = data.lines(spec, theme, 2);
  if (spec.id === 'loss') {
    let k = 2;
    for (const [, o] of overlays) {
      if (o.series.length === 0) continue;
      out.push({ label: o.name, color: theme.series[k++ % theme.series.length], series: o.series, width: 1, dashed: true, showLatest: false });
    }
  }
  return out;
}

function allLines(): ResolvedLine[][] {
  return panels.map((p) => resolveLines(p.spec));
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
  const markers = data.alertMarkers(theme);
  const sel = selection ? { ...selection, color: theme.foreground } : null;
  // The text of every changed panel, drawn or not: one scrolled out of view must not show a stale value.
  for (const p of dirty) p.view.renderText(resolved[panels.indexOf(p)], data.titleFor(p.spec));
  const todo: (Panel | 'heatmap')[] = panels.filter((p) => dirty.has(p) && wanted(p));
  if (heatmapDirty && visibility.isVisible(heatmapCanvas)) todo.push('heatmap');
  const done = costs.runWithin(deadline, todo, (piece) => {
    if (piece === 'heatmap') {
      heatmap.render(theme, heatmapLayers(), range);
      heatmapDirty = false;
    } else {
      piece.view.render({ theme, lines: resolved[panels.indexOf(piece)], alerts: markers, range, selection: sel });
      dirty.delete(piece);
    }
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
  resetZoom.setDisabled(zoom === null);
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
        api.postMessage({ type: 'setOverlay', runIds: overlayPicker.ids });
      }
      renderHeader();
      return;
    case 'reset':
      if (message.runId !== runId) zoom = null;
      runId = message.runId;
      list.setStatus(message.runId, message.status);
      data.reset(message.series, message.alerts, message.roles);
      reliabilityBins = message.reliability;
      overlayPicker.render(list.runs, runId);
      banner.render(alerts.open());
      reliability.render(theme, reliabilityBins);
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
      invalidate();
      return;
    case 'alerts':
      if (message.runId !== runId) return;
      alerts.apply(message.alerts);
      banner.render(alerts.open());
      invalidate();
      return;
    case 'reliability':
      if (message.runId !== runId) return;
      reliabilityBins = message.bins;
      reliability.render(theme, reliabilityBins);
      return;
    case 'status':
      if (message.runId !== runId) return;
      list.setStatus(message.runId, message.status);
      renderHeader();
      return;
    case 'overlay': {
      overlays.clear();
      const wanted = new Set(overlayPicker.ids);
      for (const o of message.runs) {
        if (o.id === runId || !wanted.has(o.id)) continue;
        const series = new GrowableSeries(MAX_POINTS, o.loss.steps.length);
        series.append(o.loss.steps, o.loss.values);
        overlays.set(o.id, { name: o.name, series });
      }
      invalidate();
      return;
    }
  }
}

function saveState(): void {
  const state: SavedState = { v: 1, runId, zoom, overlay: overlayPicker.ids };
  api.setState(encodeState(state));
}

function restoreState(): void {
  const saved = decodeState(api.getState()) as Partial<SavedState> | null;
  if (!saved || saved.v !== 1) return;
  runId = typeof saved.runId === 'string' ? saved.runId : null;
  const z = saved.zoom;
  zoom = z && typeof z.min === 'number' && typeof z.max === 'number' && z.max > z.min ? { min: z.min, max: z.max } : null;
  if (Array.isArray(saved.overlay)) overlayPicker.setSelected(saved.overlay.filter((id): id is string => typeof id === 'string'));
}

onHostMessage(handle);

watchTheme((next) => {
  theme = next;
  for (const p of panels) p.view.setTheme(theme);
  reliability.render(theme, reliabilityBins);
  invalidate();
});

// The hand-drawn canvases follow the page's width.
let lastWidth = -1;
new ResizeObserver(() => {
  if (document.body.clientWidth === lastWidth) return;
  lastWidth = document.body.clientWidth;
  reliability.render(theme, reliabilityBins);
  heatmapDirty = true;
  frames.request();
}).observe(document.body);

restoreState();
banner.render([]);
reliability.render(theme, null);
invalidate();
api.postMessage({ type: 'ready', view: 'dashboard' });
