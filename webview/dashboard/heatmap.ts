// The SA heatmap: one row per layer, one column per pixel of the step range, colour = the lowest
// sign diversity any of the layer's points in that column had (so a collapse is never averaged
// away), held forward over columns without a point. A non-finite value paints its cell in the
// theme's error colour. Hovering reads out layer, step and value (textContent).
import type { SeriesView } from '../shared/chartPanel';
import { sizeCanvas } from '../shared/canvasSize';
import { parseColor } from '../shared/color';
import { viridis } from '../shared/colormap';
import { formatStep, formatTick, formatValue } from '../shared/format';
import type { XRange } from '../shared/lineChart';
import { lowerBound } from '../../src/store/sortedSearch';
import type { Theme } from '../shared/theme';
import { niceTicks } from '../shared/ticks';

export interface HeatmapLayer {
  name: string;
  series: SeriesView;
}

interface Layout {
  left: number;
  top: number;
  cols: number;
  rowH: number;
  layers: HeatmapLayer[];
  range: XRange;
  cells: Float64Array;
  /** 0: no data, 1: finite value, 2: non-finite. */
  kinds: Uint8Array;
}

const EMPTY = 0;
const FINITE = 1;
const NONFINITE = 2;

export class SaHeatmap {
  private layout: Layout | null = null;
  private readonly offscreen = document.createElement('canvas');

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly readout: HTMLElement,
  ) {
    canvas.addEventListener('mousemove', (e) => this.hover(e.offsetX, e.offsetY));
    canvas.addEventListener('mouseleave', () => {
      this.readout.textContent = '';
    });
  }

  render(theme: Theme, layers: HeatmapLayer[], range: XRange | null): void {
    const rowH = layers.length === 0 ? 0 : Math.max(5, Math.min(18, Math.floor(360 / layers.length)));
    const top = 6;
    const axisH = 24;
    const sized = sizeCanvas(this.canvas, layers.length === 0 || !range ? 44 : top + rowH * layers.length + axisH);
    this.layout = null;
    this.canvas.dataset.layers = String(layers.length);
    if (!sized) return;
    const { ctx, width } = sized;
    const font = `${Math.max(9, Math.round(theme.fontSize * 0.85))}px ${theme.fontFamily}`;
    ctx.font = font;
    ctx.textBaseline = 'middle';
    if (layers.length === 0 || !range) {
      ctx.fillStyle = theme.muted;
      ctx.fillText('No layer logged sa/<layer>/sign_diversity yet.', 4, 22);
      return;
    }
    const labelW = Math.min(width * 0.35, Math.max(...layers.map((l) => ctx.measureText(l.name).width)) + 8);
    const left = Math.ceil(labelW + 6);
    const legendW = 44;
    const cols = Math.max(1, Math.floor(width - left - legendW - 8));
    const plotH = rowH * layers.length;

    const cells = new Float64Array(cols * layers.length);
    const kinds = new Uint8Array(cols * layers.length);
    layers.forEach((layer, row) => fillRow(layer.series, range, cols, cells.subarray(row * cols, (row + 1) * cols), kinds.subarray(row * cols, (row + 1) * cols)));

    const image = ctx.createImageData(cols, layers.length);
    const err = parseColor(theme.error) ?? { r: 241, g: 76, b: 76, a: 1 };
    for (let i = 0; i < cells.length; i++) {
      const p = i * 4;
      if (kinds[i] === EMPTY) continue;
      const [r, g, b] = kinds[i] === NONFINITE ? [err.r, err.g, err.b] : viridis(cells[i]);
      image.data[p] = r;
      image.data[p + 1] = g;
      image.data[p + 2] = b;
      image.data[p + 3] = 255;
    }
    this.offscreen.width = cols;
    this.offscreen.height = layers.length;
    this.offscreen.getContext('2d')?.putImageData(image, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(this.offscreen, left, top, cols, plotH);

    // Layer names: every row when they fit, else every n-th.
    ctx.fillStyle = theme.foreground;
    ctx.textAlign = 'right';
    const every = Math.max(1, Math.ceil(12 / rowH));
    layers.forEach((layer, row) => {
      if (row % every === 0) ctx.fillText(ellipsize(ctx, layer.name, labelW), left - 6, top + (row + 0.5) * rowH);
    });

    // Step axis.
    ctx.strokeStyle = theme.grid;
    ctx.beginPath();
    ctx.moveTo(left, top + plotH + 0.5);
    ctx.lineTo(left + cols, top + plotH + 0.5);
    ctx.stroke();
    ctx.fillStyle = theme.muted;
    ctx.textAlign = 'center';
    for (const t of niceTicks(range.min, range.max, Math.max(2, Math.floor(cols / 90)))) {
      const x = left + ((t - range.min) / (range.max - range.min)) * cols;
      ctx.fillText(formatTick(t), Math.min(Math.max(x, left + 10), left + cols - 10), top + plotH + 12);
    }

    // Legend: 1 at the top, 0 at the bottom.
    const lx = left + cols + 12;
    const lh = Math.max(plotH, 30);
    for (let y = 0; y < lh; y++) {
      const [r, g, b] = viridis(1 - y / Math.max(1, lh - 1));
      ctx.fillStyle = `rgb(${r}, ${g}, ${b})`;
      ctx.fillRect(lx, top + y, 10, 1);
    }
    ctx.fillStyle = theme.muted;
    ctx.textAlign = 'left';
    ctx.fillText('1', lx + 14, top + 5);
    ctx.fillText('0', lx + 14, top + lh - 5);

    this.layout = { left, top, cols, rowH, layers, range, cells, kinds };
    this.canvas.dataset.cols = String(cols);
  }

  private hover(x: number, y: number): void {
    const l = this.layout;
    if (!l) return;
    const col = Math.floor(x - l.left);
    const row = Math.floor((y - l.top) / l.rowH);
    if (col < 0 || col >= l.cols || row < 0 || row >= l.layers.length) {
      this.readout.textContent = '';
      return;
    }
    const step = l.range.min + ((col + 0.5) / l.cols) * (l.range.max - l.range.min);
    const i = row * l.cols + col;
    const value = l.kinds[i] === EMPTY ? 'no value yet' : l.kinds[i] === NONFINITE ? 'non-finite' : formatValue(l.cells[i]);
    this.readout.textContent = `${l.layers[row].name} · step ≈ ${formatStep(step)} · sign diversity ${value}`;
  }
}

function fillRow(s: SeriesView, range: XRange, cols: number, cells: Float64Array, kinds: Uint8Array): void {
  const width = (range.max - range.min) / cols;
  let i = Math.max(0, lowerBound(s.steps, s.length, range.min) - 1);
  let carry = NaN;
  let carryKind = EMPTY;
  for (let c = 0; c < cols; c++) {
    const end = c === cols - 1 ? Infinity : range.min + (c + 1) * width;
    let min = Infinity;
    let kind = EMPTY;
    while (i < s.length && s.steps[i] < end && s.steps[i] <= range.max) {
      const v = s.values[i];
      if (Number.isFinite(v)) {
        if (kind !== NONFINITE) {
          kind = FINITE;
          if (v < min) min = v;
        }
        carry = v;
        carryKind = FINITE;
      } else {
        kind = NONFINITE;
        carryKind = NONFINITE;
      }
      i++;
    }
    if (kind === EMPTY) {
      kind = carryKind;
      min = carry;
    }
    kinds[c] = kind;
    cells[c] = min;
  }
}

function ellipsize(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (ctx.measureText(`…${text.slice(text.length - mid)}`).width <= max) lo = mid;
    else hi = mid - 1;
  }
  return `…${text.slice(text.length - lo)}`;
}
