// The reliability diagram of the latest calibration bins: per confidence bin a bar of its accuracy,
// the gap to the bin's mean confidence shaded in the error colour, against the diagonal of perfect
// calibration. Empty bins are left out. The caption gives the step, the ECE the bins imply and the
// number of predictions they hold.
import type { ReliabilityBins } from '../contract';
import { sizeCanvas } from '../shared/canvasSize';
import { withAlpha } from '../shared/color';
import { formatStep } from '../shared/format';
import type { Theme } from '../shared/theme';

/** Σ counts·|accuracy − confidence| / Σ counts over the non-empty bins. */
export function expectedCalibrationError(bins: ReliabilityBins<number>): number {
  let total = 0;
  let sum = 0;
  for (let i = 0; i < bins.counts.length; i++) {
    const n = bins.counts[i];
    if (!(n > 0) || !Number.isFinite(bins.accuracy[i]) || !Number.isFinite(bins.confidence[i])) continue;
    total += n;
    sum += n * Math.abs(bins.accuracy[i] - bins.confidence[i]);
  }
  return total > 0 ? sum / total : NaN;
}

export class ReliabilityDiagram {
  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly caption: HTMLElement,
  ) {}

  render(theme: Theme, bins: ReliabilityBins<number> | null): void {
    const sized = sizeCanvas(this.canvas, 300);
    this.canvas.dataset.bins = bins ? String(bins.counts.filter((n) => n > 0).length) : '0';
    if (!bins) {
      this.caption.textContent = 'No calibration bins yet (the trainer logs them with its predictions).';
      return;
    }
    const total = bins.counts.reduce((a, n) => a + (n > 0 ? n : 0), 0);
    const ece = expectedCalibrationError(bins);
    this.caption.textContent = `step ${formatStep(bins.step)} · ECE ${Number.isFinite(ece) ? ece.toFixed(3) : 'n/a'} · ${total.toLocaleString('en-US')} predictions`;
    if (!sized) return;
    const { ctx, width, height } = sized;
    const font = `${Math.max(9, Math.round(theme.fontSize * 0.85))}px ${theme.fontFamily}`;
    const side = Math.min(height - 44, width - 60);
    const left = 44;
    const top = 8;
    const x = (v: number) => left + Math.max(0, Math.min(1, v)) * side;
    const y = (v: number) => top + (1 - Math.max(0, Math.min(1, v))) * side;

    ctx.font = font;
    ctx.strokeStyle = theme.grid;
    ctx.fillStyle = theme.muted;
    ctx.lineWidth = 1;
    ctx.textBaseline = 'middle';
    for (const t of [0, 0.25, 0.5, 0.75, 1]) {
      ctx.beginPath();
      ctx.moveTo(left, Math.round(y(t)) + 0.5);
      ctx.lineTo(left + side, Math.round(y(t)) + 0.5);
      ctx.moveTo(Math.round(x(t)) + 0.5, top);
      ctx.lineTo(Math.round(x(t)) + 0.5, top + side);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText(String(t), left - 6, y(t));
      ctx.textAlign = 'center';
      ctx.fillText(String(t), x(t), top + side + 12);
    }
    ctx.fillText('confidence', left + side / 2, top + side + 28);
    ctx.save();
    ctx.translate(12, top + side / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText('accuracy', 0, 0);
    ctx.restore();

    const bar = theme.series[0];
    for (let i = 0; i < bins.counts.length; i++) {
      if (!(bins.counts[i] > 0)) continue;
      const acc = bins.accuracy[i];
      const conf = bins.confidence[i];
      const x0 = x(bins.edges[i]) + 1;
      const x1 = x(bins.edges[i + 1]) - 1;
      if (!(x1 > x0)) continue;
      if (!Number.isFinite(acc)) {
        ctx.fillStyle = theme.error;
        ctx.fillRect(x0, top, x1 - x0, 4);
        continue;
      }
      ctx.fillStyle = withAlpha(bar, 0.75);
      ctx.fillRect(x0, y(acc), x1 - x0, y(0) - y(acc));
      ctx.strokeStyle = bar;
      ctx.strokeRect(x0 + 0.5, y(acc) + 0.5, x1 - x0 - 1, y(0) - y(acc) - 1);
      if (Number.isFinite(conf)) {
        const a = Math.min(y(acc), y(conf));
        const b = Math.max(y(acc), y(conf));
        ctx.fillStyle = withAlpha(theme.error, 0.3);
        ctx.fillRect(x0, a, x1 - x0, b - a);
        ctx.strokeStyle = withAlpha(theme.error, 0.8);
        ctx.strokeRect(x0 + 0.5, a + 0.5, x1 - x0 - 1, Math.max(0, b - a - 1));
      }
    }

    ctx.strokeStyle = theme.foreground;
    ctx.setLineDash([5, 4]);
    ctx.beginPath();
    ctx.moveTo(x(0), y(0));
    ctx.lineTo(x(1), y(1));
    ctx.stroke();
    ctx.setLineDash([]);

    // Key.
    const kx = left + side + 16;
    if (kx + 120 < width) {
      ctx.textAlign = 'left';
      ctx.fillStyle = withAlpha(bar, 0.75);
      ctx.fillRect(kx, top + 4, 12, 10);
      ctx.fillStyle = withAlpha(theme.error, 0.3);
      ctx.fillRect(kx, top + 22, 12, 10);
      ctx.fillStyle = theme.foreground;
      ctx.fillText('accuracy', kx + 18, top + 9);
      ctx.fillText('gap to confidence', kx + 18, top + 27);
      ctx.strokeStyle = theme.foreground;
      ctx.setLineDash([5, 4]);
      ctx.beginPath();
      ctx.moveTo(kx, top + 45);
      ctx.lineTo(kx + 12, top + 45);
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillText('perfect calibration', kx + 18, top + 45);
    }
  }
}
