// The SA histograms of one step (`distribution` frames, e.g. sa/blocks.0.mlp.fc1): one small bar
// chart per layer in a grid on one canvas, bars as wide as their bins, heights scaled to the
// layer's tallest bin. Hand-drawn (as the heatmap): dozens of layers would be dozens of Chart.js
// instances. Names are drawn with fillText, never inserted as HTML.
import type { ViewHistogram } from '../contract';
import { sizeCanvas } from '../shared/canvasSize';
import { withAlpha } from '../shared/color';
import { formatTick } from '../shared/format';
import type { Theme } from '../shared/theme';

const CELL_W = 220;
const CELL_H = 84;

export class HistogramGrid {
  constructor(private readonly canvas: HTMLCanvasElement) {}

  render(theme: Theme, histograms: readonly ViewHistogram<number>[]): void {
    const width = this.canvas.clientWidth || 600;
    const cols = Math.max(1, Math.floor(width / CELL_W));
    const rows = Math.ceil(histograms.length / cols);
    this.canvas.dataset.histograms = String(histograms.length);
    const sized = sizeCanvas(this.canvas, histograms.length === 0 ? 30 : rows * CELL_H + 4);
    if (!sized) return;
    const { ctx } = sized;
    ctx.font = `${Math.max(9, Math.round(theme.fontSize * 0.85))}px ${theme.fontFamily}`;
    ctx.textBaseline = 'top';
    if (histograms.length === 0) {
      ctx.fillStyle = theme.muted;
      ctx.fillText('No SA histograms logged (run.watch logs them with the spectral alignment).', 4, 8);
      return;
    }
    const cellW = width / cols;
    histograms.forEach((h, i) => {
      const x0 = (i % cols) * cellW + 4;
      const y0 = Math.floor(i / cols) * CELL_H + 2;
      const w = cellW - 12;
      const top = y0 + 16;
      const bottom = y0 + CELL_H - 16;
      ctx.fillStyle = theme.foreground;
      ctx.textAlign = 'left';
      ctx.fillText(ellipsize(ctx, h.name, w), x0, y0);
      const lo = h.edges[0];
      const hi = h.edges[h.edges.length - 1];
      const peak = Math.max(...h.counts.filter((c) => Number.isFinite(c)), 0);
      ctx.strokeStyle = theme.grid;
      ctx.beginPath();
      ctx.moveTo(x0, bottom + 0.5);
      ctx.lineTo(x0 + w, bottom + 0.5);
      ctx.stroke();
      if (!(hi > lo) || !(peak > 0)) return;
      const px = (v: number) => x0 + ((v - lo) / (hi - lo)) * w;
      ctx.fillStyle = withAlpha(theme.series[0], 0.8);
      for (let b = 0; b < h.counts.length; b++) {
        const c = h.counts[b];
        if (!(c > 0)) continue;
        const a = px(h.edges[b]);
        const z = Math.max(a + 1, px(h.edges[b + 1]) - 0.5);
        const height = (c / peak) * (bottom - top);
        ctx.fillRect(a, bottom - height, z - a, height);
      }
      ctx.fillStyle = theme.muted;
      ctx.fillText(formatTick(lo), x0, bottom + 2);
      ctx.textAlign = 'right';
      ctx.fillText(formatTick(hi), x0 + w, bottom + 2);
    });
  }
}

function ellipsize(ctx: CanvasRenderingContext2D, text: string, max: number): string {
  if (ctx.measureText(text).width <= max) return text;
  let n = text.length;
  while (n > 1 && ctx.measureText(`…${text.slice(text.length - n)}`).width > max) n--;
  return `…${text.slice(text.length - n)}`;
}
