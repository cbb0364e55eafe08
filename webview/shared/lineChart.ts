// One Chart.js line chart as the views use it: no animation, pre-decimated points (M4 at the
// chart's pixel width, see m4.ts) handed over without parsing, theme colours, and the markers
// plugin. The x axis is the step, relative time (linear, in seconds) or wall time (Chart.js's time
// scale with the date-fns adapter); the y axis linear or logarithmic (Chart.js's own scales), its
// range the data's or a robust one (yRange.ts). Tooltips are Chart.js's, with the step, the time
// and any event under the pointer (docs/charts.md).
import { Chart, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, TimeScale, Tooltip, type ChartDataset, type ChartOptions, type Plugin, type TooltipItem } from 'chart.js';
import 'chartjs-adapter-date-fns';
import type { XAxisKind } from '../contract';
import { withAlpha } from './color';
import { formatTick, formatValue } from './format';
import type { XY } from './m4';
import { drawnMarkers, markersPlugin, setMarkers, type MarkerCounts, type Markers } from './markers';
import type { Theme } from './theme';
import { niceTicks } from './ticks';
import { durationTicks, formatDuration } from './xAxis';

/**
 * What the tooltip shows, as text on the canvas's `data-tooltip` (empty when hidden): Chart.js draws
 * it on the canvas, and tests and assistive reading need it as text.
 */
const tooltipText: Plugin<'line'> = {
  id: 'lossRadarTooltipText',
  afterTooltipDraw(chart, { tooltip }) {
    const text = tooltip.opacity > 0 ? [...tooltip.title, ...tooltip.body.flatMap((b) => b.lines), ...tooltip.footer].join('\n') : '';
    if (chart.canvas.dataset.tooltip !== text) chart.canvas.dataset.tooltip = text;
  },
  afterEvent(chart, { event }) {
    if (event.type === 'mouseout' && chart.canvas.dataset.tooltip) chart.canvas.dataset.tooltip = '';
  },
};

Chart.register(LineController, LineElement, PointElement, LinearScale, LogarithmicScale, TimeScale, Tooltip, markersPlugin, tooltipText);

export interface LineInput {
  label: string;
  color: string;
  dashed?: boolean;
  width?: number;
  /** The raw series behind a smoothed one: drawn faint, left out of the tooltip. */
  faint?: boolean;
  points: XY[];
}

/** How the chart is drawn this time: its axes, and what its tooltip says. */
export interface RenderAxes {
  xKind: XAxisKind;
  log: boolean;
  /** A fixed value range (ignore outliers), or null for the data's. */
  y: XRange | null;
  /** The tooltip's heading for an axis x (the step and time). */
  describeX?: (x: number) => string;
  /** Lines naming the events near an axis x, for the tooltip. */
  eventsNear?: (x: number) => string[];
}

export interface XRange {
  min: number;
  max: number;
}

export interface LineChartOptions {
  yMin?: number;
  yMax?: number;
  legend?: boolean;
  tooltip?: boolean;
  xTicks?: number;
  yTicks?: number;
  /** A fixed y-axis width in pixels, so charts stacked above each other share their x positions. */
  yAxisWidth?: number;
}

type LineDataset = ChartDataset<'line', XY[]>;

const DASH = [5, 3];
const NO_DASH: number[] = [];

export function applyChartDefaults(theme: Theme): void {
  Chart.defaults.font.family = theme.fontFamily;
  Chart.defaults.font.size = Math.max(9, Math.round(theme.fontSize * 0.85));
  Chart.defaults.color = theme.muted;
  Chart.defaults.borderColor = theme.grid;
}

export class LineChart {
  readonly chart: Chart<'line', XY[]>;
  private theme: Theme;
  private xKind: XAxisKind = 'step';
  private log = false;
  private axes: RenderAxes = { xKind: 'step', log: false, y: null };

  /** `axes`: the axis types of the first render, so the chart is not built twice. */
  constructor(
    readonly canvas: HTMLCanvasElement,
    theme: Theme,
    private readonly options: LineChartOptions = {},
    axes?: Pick<RenderAxes, 'xKind' | 'log'>,
  ) {
    this.theme = theme;
    if (axes) {
      this.xKind = axes.xKind;
      this.log = axes.log;
    }
    applyChartDefaults(theme);
    this.chart = new Chart<'line', XY[]>(canvas, { type: 'line', data: { datasets: [] }, options: this.chartOptions() });
  }

  /** The plot area's width in CSS pixels: the M4 bucket count for this chart. */
  get plotWidth(): number {
    const area = this.chart.chartArea;
    const w = area ? area.right - area.left : this.canvas.clientWidth;
    return Math.max(16, Math.round(w || 300));
  }

  get markerCounts(): MarkerCounts {
    return drawnMarkers(this.chart);
  }

  /** Converts a canvas x (CSS pixels) to an axis value (a step on a step axis), or null outside the plot area. */
  xAt(offsetX: number): number | null {
    const area = this.chart.chartArea;
    if (!area || offsetX < area.left || offsetX > area.right) return null;
    return this.chart.scales.x.getValueForPixel(offsetX) ?? null;
  }

  /** The value axis as the last update laid it out, or null before the first. */
  get yRange(): XRange | null {
    const y = this.chart.scales.y;
    return y && Number.isFinite(y.min) && Number.isFinite(y.max) ? { min: y.min, max: y.max } : null;
  }

  plotArea(): { left: number; right: number; top: number; bottom: number } | null {
    const area = this.chart.chartArea;
    return area ? { left: area.left, right: area.right, top: area.top, bottom: area.bottom } : null;
  }

  get logScale(): boolean {
    return this.log;
  }

  render(lines: readonly LineInput[], markers: Markers, range: XRange | null, axes: RenderAxes = { xKind: 'step', log: false, y: null }): void {
    this.axes = axes;
    if (axes.xKind !== this.xKind || axes.log !== this.log) {
      this.xKind = axes.xKind;
      this.log = axes.log;
      this.replaceOptions();
    }
    const datasets = this.chart.data.datasets as LineDataset[];
    lines.forEach((line, i) => {
      let ds = datasets[i];
      if (!ds) {
        ds = { data: [], pointRadius: 0, pointHoverRadius: 3, pointHitRadius: 6, tension: 0 };
        datasets[i] = ds;
      }
      ds.data = line.points;
      // Only what changed: Chart.js re-resolves a dataset's options when they change.
      const width = line.faint ? 1 : (line.width ?? 1);
      const dash = line.dashed ? DASH : NO_DASH;
      const color = line.faint ? withAlpha(line.color, 0.28) : line.color;
      const label = line.faint ? `${line.label} (raw)` : line.label;
      if (ds.label !== label) ds.label = label;
      if (ds.borderColor !== color) ds.borderColor = ds.backgroundColor = color;
      if (ds.borderWidth !== width) ds.borderWidth = width;
      if (ds.borderDash !== dash) ds.borderDash = dash;
    });
    datasets.length = lines.length;
    const x = this.chart.options.scales?.x;
    if (x) {
      x.min = range ? range.min : undefined;
      x.max = range ? range.max : undefined;
    }
    const y = this.chart.options.scales?.y;
    if (y) {
      y.min = axes.y ? axes.y.min : this.options.yMin !== undefined && !(axes.log && this.options.yMin <= 0) ? this.options.yMin : undefined;
      y.max = axes.y ? axes.y.max : this.options.yMax;
    }
    // A legend only when it tells lines apart (the raw twins of smoothed lines are not listed).
    const legend = this.chart.options.plugins?.legend;
    const named = lines.filter((l) => !l.faint).length;
    if (legend) legend.display = (this.options.legend ?? false) && named > 1;
    setMarkers(this.chart, markers);
    this.chart.update('none');
  }

  /** Takes the theme's colours; they show at the next render. */
  setTheme(theme: Theme): void {
    this.theme = theme;
    applyChartDefaults(theme);
    this.replaceOptions();
  }

  /**
   * New options (theme, axis types). Chart.js's `chart.options` is the resolved copy of the last
   * update until the next one: resolved at once, so render's writes to the axes land in the new ones.
   */
  private replaceOptions(): void {
    this.chart.options = this.chartOptions();
    this.chart.update('none');
  }

  /** Redraws without new data (after the markers' selection changed). */
  redraw(markers: Markers): void {
    setMarkers(this.chart, markers);
    this.chart.draw();
  }

  destroy(): void {
    this.chart.destroy();
  }

  private chartOptions(): ChartOptions<'line'> {
    const t = this.theme;
    const o = this.options;
    const font = { family: t.fontFamily, size: Math.max(9, Math.round(t.fontSize * 0.85)) };
    const ticks = (limit: number) => ({
      color: t.muted,
      font,
      maxTicksLimit: limit,
      maxRotation: 0,
      // The ticks are round numbers from niceTicks, already few: no auto-skip pass.
      autoSkip: false,
      callback: (value: number | string) => formatTick(Number(value)),
    });
    const prev = this.chart?.options.scales?.x;
    const xKind = this.xKind;
    const xTicks = o.xTicks ?? 4;
    const xTickOptions = {
      ...ticks(xTicks),
      callback: (value: number | string) => (xKind === 'relative' ? formatDuration(Number(value)) : formatTick(Number(value))),
    };
    const x =
      xKind === 'wall'
        ? {
            type: 'time' as const,
            bounds: 'data' as const,
            min: typeof prev?.min === 'number' ? prev.min : undefined,
            max: typeof prev?.max === 'number' ? prev.max : undefined,
            // The time scale picks its own units and labels (date-fns formats): ticks of our own only cap their number.
            ticks: { color: t.muted, font, maxTicksLimit: xTicks, maxRotation: 0, autoSkip: true },
            time: { displayFormats: { millisecond: 'HH:mm:ss.SSS', second: 'HH:mm:ss', minute: 'HH:mm', hour: 'HH:mm', day: 'd MMM', week: 'd MMM', month: 'MMM yyyy' } },
            grid: { color: t.grid, drawTicks: false },
            border: { color: t.grid },
          }
        : {
            type: 'linear' as const,
            bounds: 'data' as const,
            min: typeof prev?.min === 'number' ? prev.min : undefined,
            max: typeof prev?.max === 'number' ? prev.max : undefined,
            ticks: xTickOptions,
            grid: { color: t.grid, drawTicks: false },
            border: { color: t.grid },
            // Round steps (or round durations) even when a zoom put the axis bounds between them.
            afterBuildTicks: (axis: { min: number; max: number; ticks: { value: number }[] }) => {
              const values = xKind === 'relative' ? durationTicks(axis.min, axis.max, xTicks) : niceTicks(axis.min, axis.max, xTicks);
              if (values.length >= 2) axis.ticks = values.map((value) => ({ value }));
            },
          };
    const yCommon = {
      grid: { color: t.grid, drawTicks: false },
      border: { color: t.grid },
      afterFit: (axis: { width: number }) => {
        if (o.yAxisWidth !== undefined) axis.width = o.yAxisWidth;
      },
    };
    const y = this.log
      ? { ...yCommon, type: 'logarithmic' as const, ticks: { ...ticks(o.yTicks ?? 4), autoSkip: true } }
      : {
          ...yCommon,
          type: 'linear' as const,
          min: o.yMin,
          max: o.yMax,
          ticks: ticks(o.yTicks ?? 4),
          afterBuildTicks: (axis: { min: number; max: number; ticks: { value: number }[] }) => {
            const values = niceTicks(axis.min, axis.max, o.yTicks ?? 4);
            if (values.length >= 2) axis.ticks = values.map((value) => ({ value }));
          },
        };
    return {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      spanGaps: true,
      events: o.tooltip ? ['mousemove', 'mouseout', 'touchstart', 'touchmove'] : [],
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      layout: { padding: { top: 10, right: 6, bottom: 2, left: 0 } },
      scales: { x, y },
      plugins: {
        legend: { display: o.legend ?? false, labels: { color: t.foreground, font, boxWidth: 12, boxHeight: 2, filter: (item) => !item.text.endsWith(' (raw)') } },
        tooltip: {
          enabled: o.tooltip ?? false,
          backgroundColor: t.background,
          titleColor: t.foreground,
          bodyColor: t.foreground,
          borderColor: t.grid,
          borderWidth: 1,
          titleFont: font,
          bodyFont: font,
          // The raw line behind a smoothed one is not read out: its smoothed twin is.
          filter: (item: TooltipItem<'line'>) => !String(item.dataset.label ?? '').endsWith(' (raw)'),
          callbacks: {
            title: (items: TooltipItem<'line'>[]) => {
              if (items.length === 0) return '';
              const x = items[0].parsed.x ?? NaN;
              return this.axes.describeX ? this.axes.describeX(x) : formatTick(x);
            },
            label: (item: TooltipItem<'line'>) => `${item.dataset.label ?? ''}: ${formatValue(item.parsed.y ?? NaN)}`,
            footer: (items: TooltipItem<'line'>[]) => (items.length > 0 && this.axes.eventsNear ? this.axes.eventsNear(items[0].parsed.x ?? NaN) : []),
          },
        },
        decimation: { enabled: false },
      },
    };
  }
}
