// One small multiple: a figure with a title, the latest value of each line, and a line chart drawn
// from the series at the chart's pixel width. The figure's data-* attributes say what the last draw
// showed (points, lines, non-finite and alert markers, the step and value ranges), for tests and for
// assistive reading alongside the aria label. The text (latest values, note) is cheap and kept
// current on every change; only the chart's drawing may wait until the panel is on screen.
import { formatStep, formatValue } from './format';
import { LineChart, type LineChartOptions, type LineInput, type XRange } from './lineChart';
import { m4Display } from './m4';
import type { AlertMarker, Markers, NonFiniteMarker } from './markers';
import type { Theme } from './theme';

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
}

export interface PanelFrame {
  theme: Theme;
  lines: readonly ResolvedLine[];
  alerts: readonly AlertMarker[];
  range: XRange | null;
  selection?: Markers['selection'];
}

export class ChartPanel {
  readonly element: HTMLElement;
  readonly canvas: HTMLCanvasElement;
  private readonly latest: HTMLElement;
  private readonly note: HTMLElement;
  private readonly titleEl: HTMLElement;
  private chart: LineChart | null = null;
  private lastMarkers: Markers | null = null;

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
    caption.append(name, this.latest);
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
    this.chart ??= new LineChart(this.canvas, frame.theme, this.options);
    const chart = this.chart;
    const range = frame.range ?? extent(lines);
    const buckets = Math.max(8, Math.round(chart.plotWidth / (this.options.bucketPx ?? 1)));
    const inputs: LineInput[] = [];
    const nonFinite: NonFiniteMarker[] = [];
    let points = 0;
    for (const line of lines) {
      const d = range ? m4Display(line.series.steps, line.series.values, line.series.length, range.min, range.max, buckets) : { points: [], nonFinite: [] };
      points += d.points.length;
      inputs.push({ label: line.label, color: line.color, dashed: line.dashed, width: line.width, points: d.points });
      for (const n of d.nonFinite) nonFinite.push({ x: n.x, kind: n.kind, color: line.color });
    }
    this.lastMarkers = { nonFinite, alerts: [...frame.alerts], errorColor: frame.theme.error, selection: frame.selection ?? null };
    chart.render(inputs, this.lastMarkers, range);
    const counts = chart.markerCounts;
    const ds = this.element.dataset;
    const set = (key: string, value: string) => {
      if (ds[key] !== value) ds[key] = value;
    };
    set('lines', String(inputs.length));
    set('points', String(points));
    set('nonfinite', String(counts.nonFinite));
    set('alerts', String(counts.alerts));
    set('xMin', range ? String(range.min) : '');
    set('xMax', range ? String(range.max) : '');
    const y = chart.yRange;
    set('yMin', y ? String(y.min) : '');
    set('yMax', y ? String(y.max) : '');
  }

  /** Redraws the drag selection only (the data stays as the last render left it). */
  setSelection(selection: Markers['selection']): void {
    if (!this.chart || !this.lastMarkers || this.element.hidden) return;
    this.lastMarkers = { ...this.lastMarkers, selection };
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
