// One Chart.js line chart as the views use it: linear step axis, no animation, pre-decimated
// points (M4 at the chart's pixel width, see m4.ts) handed over without parsing, theme colours,
// and the markers plugin. Only the Chart.js parts used here are registered (a view that wants
// tooltips or a legend registers those itself).
import { Chart, LinearScale, LineController, LineElement, PointElement, type ChartDataset, type ChartOptions } from 'chart.js';
import { formatStep, formatTick } from './format';
import type { XY } from './m4';
import { drawnMarkers, markersPlugin, setMarkers, type MarkerCounts, type Markers } from './markers';
import type { Theme } from './theme';
import { niceTicks } from './ticks';

Chart.register(LineController, LineElement, PointElement, LinearScale, markersPlugin);

export interface LineInput {
  label: string;
  color: string;
  dashed?: boolean;
  width?: number;
  points: XY[];
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

  constructor(
    readonly canvas: HTMLCanvasElement,
    theme: Theme,
    private readonly options: LineChartOptions = {},
  ) {
    this.theme = theme;
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

  /** Converts a canvas x (CSS pixels) to a step, or null outside the plot area. */
  stepAt(offsetX: number): number | null {
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

  render(lines: readonly LineInput[], markers: Markers, range: XRange | null): void {
    const datasets = this.chart.data.datasets as LineDataset[];
    lines.forEach((line, i) => {
      let ds = datasets[i];
      if (!ds) {
        ds = { data: [], pointRadius: 0, pointHoverRadius: 3, pointHitRadius: 6, tension: 0 };
        datasets[i] = ds;
      }
      ds.data = line.points;
      // Only what changed: Chart.js re-resolves a dataset's options when they change.
      const width = line.width ?? 1;
      const dash = line.dashed ? DASH : NO_DASH;
      if (ds.label !== line.label) ds.label = line.label;
      if (ds.borderColor !== line.color) ds.borderColor = ds.backgroundColor = line.color;
      if (ds.borderWidth !== width) ds.borderWidth = width;
      if (ds.borderDash !== dash) ds.borderDash = dash;
    });
    datasets.length = lines.length;
    const x = this.chart.options.scales?.x;
    if (x) {
      x.min = range ? range.min : undefined;
      x.max = range ? range.max : undefined;
    }
    setMarkers(this.chart, markers);
    this.chart.update('none');
  }

  /** Takes the theme's colours; they show at the next render. */
  setTheme(theme: Theme): void {
    this.theme = theme;
    applyChartDefaults(theme);
    this.chart.options = this.chartOptions();
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
      scales: {
        x: {
          type: 'linear',
          bounds: 'data',
          min: typeof prev?.min === 'number' ? prev.min : undefined,
          max: typeof prev?.max === 'number' ? prev.max : undefined,
          ticks: ticks(o.xTicks ?? 4),
          grid: { color: t.grid, drawTicks: false },
          border: { color: t.grid },
          // Round steps even when a zoom put the axis bounds between them.
          afterBuildTicks: (axis) => {
            const values = niceTicks(axis.min, axis.max, o.xTicks ?? 4);
            if (values.length >= 2) axis.ticks = values.map((value) => ({ value }));
          },
        },
        y: {
          type: 'linear',
          min: o.yMin,
          max: o.yMax,
          ticks: ticks(o.yTicks ?? 4),
          grid: { color: t.grid, drawTicks: false },
          border: { color: t.grid },
          afterBuildTicks: (axis) => {
            const values = niceTicks(axis.min, axis.max, o.yTicks ?? 4);
            if (values.length >= 2) axis.ticks = values.map((value) => ({ value }));
          },
          afterFit: (axis) => {
            if (o.yAxisWidth !== undefined) axis.width = o.yAxisWidth;
          },
        },
      },
      plugins: {
        legend: { display: o.legend ?? false, labels: { color: t.foreground, font, boxWidth: 12, boxHeight: 2 } },
        tooltip: {
          enabled: o.tooltip ?? false,
          backgroundColor: t.background,
          titleColor: t.foreground,
          bodyColor: t.foreground,
          borderColor: t.grid,
          borderWidth: 1,
          titleFont: font,
          bodyFont: font,
          callbacks: { title: (items) => (items.length > 0 ? `step ${formatStep(items[0].parsed.x ?? NaN)}` : '') },
        },
        decimation: { enabled: false },
      },
    };
  }
}
