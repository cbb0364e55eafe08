// One small multiple: a figure with a title, the latest value of each line, and a line chart drawn
// from the series at the chart's pixel width. The figure's data-* attributes say what the last draw
// showed (points, lines, non-finite and alert markers, the step and value ranges), for tests and for
// assistive reading alongside the aria label. The text (latest values, note) is cheap and kept
// current on every change; only the chart's drawing may wait until the panel is on screen.
// A frame says how to draw (docs/charts.md): smoothing (the raw line stays, faint), the x axis
// (step or time: every x is mapped from the step here, after M4), a log y axis, a robust y range.
import { formatStep, formatValue } from './format';
import { LineChart, type LineChartOptions, type LineInput, type XRange } from './lineChart';
import { m4Display, type XY } from './m4';
import type { AlertMarker, EventMarker, Markers, NonFiniteMarker } from './markers';
import type { SmoothableSeries, Smoother } from './smoothing';
import type { Theme } from './theme';
import { STEP_AXIS, type XAxis } from './xAxis';
import { robustRange } from './yRange';

/** A series as the chart reads it: the first `length` entries of the arrays. */
export interface SeriesView {
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly length: number;
}

export interface ResolvedLine {
  label: string;
  color: string;
  dashed?: boolean;
  width?: number;
  series: SeriesView;
  /** Shown in the header with its latest value (overlaid runs are not). */
  showLatest?: boolean;
  /** Another run's line maps its steps through that run's clock (default: the frame's axis). */
  xAxis?: XAxis;
}

/** An event to mark, by step (the panel maps it to its axis). */
export interface StepEvent {
  step: number;
  to?: number;
  color: string;
}

export interface PanelFrame {
  theme: Theme;
  lines: readonly ResolvedLine[];
  alerts: readonly AlertMarker[];
  /** The step range shown. */
  range: XRange | null;
  selection?: Markers['selection'];
  events?: readonly StepEvent[];
  xAxis?: XAxis;
  /** EMA weight (0: off), with the view's cache of smoothed lines. */
  smoothing?: { weight: number; smoother: Smoother };
  log?: boolean;
  ignoreOutliers?: boolean;
  /** The tooltip's heading for a step, and the events near a step. */
  describeStep?: (step: number) => string;
  eventsNear?: (step: number, stepsPerPixel: number) => string[];
}

export class ChartPanel {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly latest: HTMLElement;
  private readonly note: HTMLElement;
  private readonly titleEl: HTMLElement;
  private chart: LineChart | null = null;
  private lastMarkers: Markers | null = null;
  private xAxis: XAxis = STEP_AXIS;
  private readonly actions: HTMLElement;

  constructor(
    readonly id: string,
    title: string,
    private readonly options: LineChartOptions & { alwaysShown?: boolean; /** Pixels per M4 bucket (default 1). */ bucketPx?: number },
  ) {
    this.element = document.createElement('figure');
    this.element.className = 'panel';
    this.element.dataset.panel = id;
    const caption = document.createElement('figcaption');
    const name = document.createElement('span');
    name.className = 'panel-title';
    name.textContent = title;
    this.titleEl = name;
    this.latest = document.createElement('span');
    this.latest.className = 'panel-latest';
    this.actions = document.createElement('span');
    this.actions.className = 'panel-actions';
    caption.append(name, this.latest, this.actions);
    const box = document.createElement('div');
    box.className = 'chart-box';
    this.canvas = document.createElement('canvas');
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', title);
    this.note = document.createElement('div');
    this.note.className = 'panel-note';
    box.append(this.canvas, this.note);
    this.element.append(caption, box);
    this.element.hidden = !options.alwaysShown;
  }

  get lineChart(): LineChart | null {
    return this.chart;
  }

  /** Puts a control (the log toggle, Export PNG) in the panel's caption. */
  addAction(element: HTMLElement): void {
    this.actions.append(element);
  }

  /** The step under a canvas x (CSS pixels), or null outside the plot area. */
  stepAt(offsetX: number): number | null {
    const x = this.chart?.xAt(offsetX) ?? null;
    if (x === null) return null;
    const step = this.xAxis.toStep(x);
    return Number.isFinite(step) ? step : null;
  }

  /**
   * The latest values and the note, without drawing: a view calls it for a panel whose drawing it
   * skips (scrolled out of view), so the text is current the moment the panel shows.
   */
  renderText(lines: readonly ResolvedLine[], title?: string): void {
    if (title !== undefined && this.titleEl.textContent !== title) {
      this.titleEl.textContent = title;
      this.canvas.setAttribute('aria-label', title);
    }
    const withData = lines.filter((l) => l.series.length > 0);
    const note = withData.length === 0 ? 'waiting for the first value' : '';
    if (this.note.textContent !== note) this.note.textContent = note;
    this.renderLatest(withData);
  }

  render(frame: PanelFrame): void {
    const lines = frame.lines.filter((l) => l.series.length > 0);
    const visible = lines.length > 0 || !!this.options.alwaysShown;
    this.element.hidden = !visible;
    if (!visible) return;
    this.renderText(lines);
    const axis = frame.xAxis ?? STEP_AXIS;
    const log = frame.log ?? false;
    this.chart ??= new LineChart(this.canvas, frame.theme, this.options, { xKind: axis.kind, log });
    const chart = this.chart;
    const range = frame.range ?? extent(lines);
    this.xAxis = axis;
    const weight = frame.smoothing?.weight ?? 0;
    const buckets = Math.max(8, Math.round(chart.plotWidth / (this.options.bucketPx ?? 1)));
    const inputs: LineInput[] = [];
    const nonFinite: NonFiniteMarker[] = [];
    let points = 0;
    const draw = (series: SeriesView, line: ResolvedLine, faint: boolean) => {
      const own = line.xAxis ?? axis;
      // A run whose rows carried no time has no place on a time axis.
      if (own.kind !== axis.kind) return;
      const lineToX = own.kind === 'step' ? null : own.toX;
      const d = range ? m4Display(series.steps, series.values, series.length, range.min, range.max, buckets) : { points: [], nonFinite: [] };
      let pts: XY[] = d.points;
      // A log axis cannot place 0 or a negative value: those points are left out of the line.
      if (log) pts = pts.filter((p) => p.y > 0);
      if (lineToX) pts = pts.map((p) => ({ x: lineToX(p.x), y: p.y })).filter((p) => Number.isFinite(p.x));
      points += pts.length;
      inputs.push({ label: line.label, color: line.color, dashed: line.dashed, width: line.width, faint, points: pts });
      if (!faint) for (const n of d.nonFinite) nonFinite.push({ x: lineToX ? lineToX(n.x) : n.x, kind: n.kind, color: line.color });
    };
    for (const line of lines) {
      const smoothable = line.series as Partial<SmoothableSeries>;
      if (weight > 0 && frame.smoothing && typeof smoothable.rewrites === 'number') {
        // The raw line first, faint, behind its smoothed twin.
        draw(line.series, line, true);
        draw(frame.smoothing.smoother.smooth(line.series as SmoothableSeries, weight), line, false);
      } else {
        draw(line.series, line, false);
      }
    }
    const toX = axis.kind === 'step' ? null : axis.toX;
    const mapStep = (s: number) => (toX ? toX(s) : s);
    const alerts = toX ? frame.alerts.map((a) => ({ ...a, x: toX(a.x), closedX: a.closedX === undefined ? undefined : toX(a.closedX) })) : [...frame.alerts];
    const events: EventMarker[] = (frame.events ?? []).map((e) => ({ x: mapStep(e.step), toX: e.to === undefined ? undefined : mapStep(e.to), color: e.color }));
    const selection = frame.selection ? { ...frame.selection, from: mapStep(frame.selection.from), to: mapStep(frame.selection.to) } : null;
    this.lastMarkers = { nonFinite, alerts, events, errorColor: frame.theme.error, selection, crosshair: this.lastMarkers?.crosshair ?? null };
    const yRange = frame.ignoreOutliers ? robustRange(inputs.filter((i) => !i.faint).map((i) => i.points), log) : null;
    const xRange = range ? { min: mapStep(range.min), max: mapStep(range.max) } : null;
    const stepsPerPixel = range ? (range.max - range.min) / Math.max(1, chart.plotWidth) : 1;
    chart.render(inputs, this.lastMarkers, xRange && Number.isFinite(xRange.min) && Number.isFinite(xRange.max) ? xRange : null, {
      xKind: axis.kind,
      log,
      y: yRange,
      describeX: frame.describeStep ? (x) => frame.describeStep!(axis.toStep(x)) : undefined,
      eventsNear: frame.eventsNear ? (x) => frame.eventsNear!(axis.toStep(x), stepsPerPixel) : undefined,
    });
    const counts = chart.markerCounts;
    const ds = this.element.dataset;
    const set = (key: string, value: string) => {
      if (ds[key] !== value) ds[key] = value;
    };
    set('lines', String(inputs.length));
    set('points', String(points));
    set('nonfinite', String(counts.nonFinite));
    set('alerts', String(counts.alerts));
    set('events', String(counts.events));
    set('smoothed', weight > 0 ? String(weight) : '');
    set('scale', log ? 'log' : 'linear');
    set('xAxis', axis.kind);
    set('robust', yRange ? 'on' : '');
    set('xMin', range ? String(range.min) : '');
    set('xMax', range ? String(range.max) : '');
    const y = chart.yRange;
    set('yMin', y ? String(y.min) : '');
    set('yMax', y ? String(y.max) : '');
  }

  /** Redraws the drag selection only (the data stays as the last render left it). */
  setSelection(selection: Markers['selection']): void {
    if (!this.chart || !this.lastMarkers || this.element.hidden) return;
    const map = (s: number) => this.xAxis.toX(s);
    this.lastMarkers = { ...this.lastMarkers, selection: selection ? { ...selection, from: map(selection.from), to: map(selection.to) } : null };
    this.chart.redraw(this.lastMarkers);
  }

  /** Redraws the shared crosshair at `step` (null: none); the data stays as the last render left it. */
  setCrosshair(step: number | null, color: string): void {
    if (!this.chart || !this.lastMarkers || this.element.hidden) return;
    const crosshair = step === null ? null : { x: this.xAxis.toX(step), color };
    const was = this.lastMarkers.crosshair ?? null;
    if (was === crosshair || (was && crosshair && was.x === crosshair.x && was.color === crosshair.color)) return;
    this.lastMarkers = { ...this.lastMarkers, crosshair };
    this.element.dataset.crosshair = step === null ? '' : String(step);
    this.chart.redraw(this.lastMarkers);
  }

  setTheme(theme: Theme): void {
    this.chart?.setTheme(theme);
  }

  /** Rewrites only what changed: this runs for every delta, and new nodes would re-lay out the view. */
  private renderLatest(lines: readonly ResolvedLine[]): void {
    const shown = lines.filter((l) => l.showLatest !== false);
    const parts = this.latest.children;
    while (parts.length > shown.length) parts[parts.length - 1].remove();
    shown.forEach((line, i) => {
      const part = (parts[i] as HTMLElement | undefined) ?? this.latest.appendChild(document.createElement('span'));
      const s = line.series;
      const value = s.values[s.length - 1];
      setIfChanged(part, 'className', Number.isFinite(value) ? 'latest' : 'latest nonfinite');
      setIfChanged(part, 'title', `${line.label} at step ${formatStep(s.steps[s.length - 1])}`);
      setIfChanged(part, 'textContent', lines.length > 1 ? `${line.label} ${formatValue(value)}` : formatValue(value));
    });
  }
}

function setIfChanged(el: HTMLElement, key: 'className' | 'title' | 'textContent', value: string): void {
  if (el[key] !== value) el[key] = value;
}

/** The step range the lines cover (a single step is widened so the axis has a span). */
export function extent(lines: readonly { series: SeriesView }[]): XRange | null {
  let min = Infinity;
  let max = -Infinity;
  for (const { series: s } of lines) {
    if (s.length === 0) continue;
    min = Math.min(min, s.steps[0]);
    max = Math.max(max, s.steps[s.length - 1]);
  }
  if (!(min <= max)) return null;
  if (min === max) return { min: min - 1, max: max + 1 };
  return { min, max };
}
