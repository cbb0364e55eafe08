// What the line charts draw over their data, as a Chart.js plugin: a non-finite value as a red
// triangle at its step (NaN and +∞ at the top edge, −∞ at the bottom) over a faint vertical line,
// alerts as vertical lines coloured by severity (an episode that closed is dashed and shaded to its
// closing step), the run's events (docs/charts.md: a dotted line at the event's step, a band over
// its span, e.g. a rolled-back range), the crosshair the charts of a view share, and the
// dashboard's drag-to-zoom selection. Every x is in the chart's axis units (a step, or a time:
// xAxis.ts). Hand-written rather than chartjs-plugin-annotation: these are redrawn on every hover of
// the shared crosshair, and a plugin of our own only strokes a few lines, no per-annotation
// elements to rebuild and hit-test.
import type { Chart, Plugin } from 'chart.js';
import { withAlpha } from './color';
import type { NonFiniteKind } from './m4';

export interface NonFiniteMarker {
  x: number;
  kind: NonFiniteKind;
  /** The line's colour: the triangle's outline, so loss and val loss stay apart. */
  color: string;
}

export interface AlertMarker {
  x: number;
  color: string;
  closedX?: number;
}

export interface EventMarker {
  x: number;
  /** The end of the event's span (a band from x to toX), when it has one. */
  toX?: number;
  color: string;
}

export interface Markers {
  nonFinite: NonFiniteMarker[];
  alerts: AlertMarker[];
  events?: EventMarker[];
  errorColor: string;
  selection: { from: number; to: number; color: string } | null;
  /** The shared crosshair's x (null: none), and its colour. */
  crosshair?: { x: number; color: string } | null;
}

/** What the last draw put on the canvas (inside the plot area), for the views' data attributes. */
export interface MarkerCounts {
  nonFinite: number;
  alerts: number;
  events: number;
}

const markers = new WeakMap<Chart, Markers>();
const drawn = new WeakMap<Chart, MarkerCounts>();

export function setMarkers(chart: Chart, value: Markers): void {
  markers.set(chart, value);
}

export function drawnMarkers(chart: Chart): MarkerCounts {
  return drawn.get(chart) ?? { nonFinite: 0, alerts: 0, events: 0 };
}

const SIZE = 5;

export const markersPlugin: Plugin = {
  id: 'lossRadarMarkers',
  afterDatasetsDraw(chart) {
    const m = markers.get(chart);
    const x = chart.scales.x;
    const area = chart.chartArea;
    const counts: MarkerCounts = { nonFinite: 0, alerts: 0, events: 0 };
    drawn.set(chart, counts);
    if (!m || !x || !area) return;
    const ctx = chart.ctx;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top - SIZE * 2, area.right - area.left, area.bottom - area.top + SIZE * 4);
    ctx.clip();
    const inArea = (px: number) => px >= area.left - 0.5 && px <= area.right + 0.5;

    for (const e of m.events ?? []) {
      const px = Math.round(x.getPixelForValue(e.x)) + 0.5;
      if (e.toX !== undefined) {
        const start = Math.max(area.left, x.getPixelForValue(e.x));
        const end = Math.min(area.right, x.getPixelForValue(e.toX));
        if (end > start) {
          ctx.fillStyle = withAlpha(e.color, 0.14);
          ctx.fillRect(start, area.top, end - start, area.bottom - area.top);
        }
        if (end > start || inArea(px)) counts.events++;
      } else if (inArea(px)) {
        counts.events++;
      }
      if (!inArea(px)) continue;
      ctx.strokeStyle = e.color;
      ctx.lineWidth = 1;
      ctx.setLineDash([2, 2]);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
    }
    ctx.setLineDash([]);

    for (const a of m.alerts) {
      const px = Math.round(x.getPixelForValue(a.x)) + 0.5;
      if (a.closedX !== undefined) {
        const end = Math.min(area.right, x.getPixelForValue(a.closedX));
        const start = Math.max(area.left, px);
        if (end > start) {
          ctx.fillStyle = withAlpha(a.color, 0.1);
          ctx.fillRect(start, area.top, end - start, area.bottom - area.top);
        }
      }
      if (!inArea(px)) continue;
      counts.alerts++;
      ctx.strokeStyle = a.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(a.closedX !== undefined ? [4, 3] : []);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
    }
    ctx.setLineDash([]);

    // One triangle per pixel column and kind: thousands of NaNs in a row stay readable.
    const seen = new Set<string>();
    for (const n of m.nonFinite) {
      const px = Math.round(x.getPixelForValue(n.x));
      if (!inArea(px)) continue;
      const key = `${n.kind}:${px}`;
      if (seen.has(key)) continue;
      seen.add(key);
      counts.nonFinite++;
      ctx.strokeStyle = withAlpha(m.errorColor, 0.45);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(px + 0.5, area.top);
      ctx.lineTo(px + 0.5, area.bottom);
      ctx.stroke();
      const top = n.kind !== 'neg';
      const tipY = top ? area.top + SIZE * 1.6 : area.bottom - SIZE * 1.6;
      const baseY = top ? area.top : area.bottom;
      ctx.fillStyle = m.errorColor;
      ctx.strokeStyle = n.color;
      ctx.beginPath();
      ctx.moveTo(px - SIZE, baseY);
      ctx.lineTo(px + SIZE, baseY);
      ctx.lineTo(px, tipY);
      ctx.closePath();
      ctx.fill();
      ctx.stroke();
    }

    if (m.crosshair) {
      const px = Math.round(x.getPixelForValue(m.crosshair.x)) + 0.5;
      if (inArea(px)) {
        ctx.strokeStyle = withAlpha(m.crosshair.color, 0.7);
        ctx.lineWidth = 1;
        ctx.beginPath();
        ctx.moveTo(px, area.top);
        ctx.lineTo(px, area.bottom);
        ctx.stroke();
      }
    }

    if (m.selection) {
      const a = x.getPixelForValue(Math.min(m.selection.from, m.selection.to));
      const b = x.getPixelForValue(Math.max(m.selection.from, m.selection.to));
      const left = Math.max(area.left, a);
      const right = Math.min(area.right, b);
      if (right > left) {
        ctx.fillStyle = withAlpha(m.selection.color, 0.15);
        ctx.fillRect(left, area.top, right - left, area.bottom - area.top);
        ctx.strokeStyle = withAlpha(m.selection.color, 0.6);
        ctx.strokeRect(left + 0.5, area.top + 0.5, right - left - 1, area.bottom - area.top - 1);
      }
    }
    ctx.restore();
  },
};
