// Zoom on the step axis, shared by every chart of the dashboard (and the heatmap): the wheel zooms
// around the pointer, a drag selects a range, a double click shows every step again. Written here
// rather than taken from chartjs-plugin-zoom, which needs hammerjs and a second copy of the
// chart's state.
import type { XRange } from '../shared/lineChart';

export interface ZoomTarget {
  /** The canvas the events come from. */
  element: HTMLElement;
  /** Step under a canvas x (CSS pixels), or null outside the plot area. */
  stepAt(offsetX: number): number | null;
  plotBounds(): { left: number; right: number } | null;
}

export interface ZoomHost {
  /** The steps every series covers together (what "reset" shows). */
  full(): XRange | null;
  /** The range shown now (null: full). */
  current(): XRange | null;
  set(range: XRange | null): void;
  /** The drag selection to draw (null: none). */
  select(selection: { from: number; to: number } | null): void;
}

/** Narrowest range the wheel zooms to, in steps. */
const MIN_SPAN = 4;

export function clampRange(range: XRange, full: XRange): XRange | null {
  const span = Math.max(MIN_SPAN, range.max - range.min);
  if (span >= full.max - full.min) return null;
  let min = Math.max(full.min, range.min);
  let max = min + span;
  if (max > full.max) {
    max = full.max;
    min = max - span;
  }
  return { min, max };
}

/** The range after zooming by `factor` (< 1 in, > 1 out) around `anchor`. */
export function zoomAround(range: XRange, anchor: number, factor: number): XRange {
  return { min: anchor - (anchor - range.min) * factor, max: anchor + (range.max - anchor) * factor };
}

export function attachZoom(target: ZoomTarget, host: ZoomHost): void {
  const el = target.element;
  el.addEventListener(
    'wheel',
    (e: WheelEvent) => {
      const full = host.full();
      if (!full) return;
      const range = host.current() ?? full;
      const anchor = target.stepAt(e.offsetX) ?? (range.min + range.max) / 2;
      e.preventDefault();
      const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(delta)) {
        // Pan: a horizontal wheel or shift+wheel.
        const bounds = target.plotBounds();
        const px = bounds ? bounds.right - bounds.left : 300;
        const shift = ((e.shiftKey ? delta : e.deltaX) / px) * (range.max - range.min);
        host.set(clampRange({ min: range.min + shift, max: range.max + shift }, full) ?? null);
        return;
      }
      host.set(clampRange(zoomAround(range, anchor, Math.exp(delta * 0.002)), full));
    },
    { passive: false },
  );

  let dragFrom: number | null = null;
  let dragPx = 0;
  const stepAtClamped = (offsetX: number): number | null => {
    const b = target.plotBounds();
    if (!b) return null;
    return target.stepAt(Math.min(b.right, Math.max(b.left, offsetX)));
  };
  el.addEventListener('pointerdown', (e: PointerEvent) => {
    if (e.button !== 0) return;
    const step = target.stepAt(e.offsetX);
    if (step === null) return;
    dragFrom = step;
    dragPx = e.offsetX;
    el.setPointerCapture(e.pointerId);
  });
  el.addEventListener('pointermove', (e: PointerEvent) => {
    if (dragFrom === null) return;
    const to = stepAtClamped(e.offsetX);
    if (to !== null && Math.abs(e.offsetX - dragPx) >= 3) host.select({ from: dragFrom, to });
  });
  const end = (e: PointerEvent, apply: boolean) => {
    if (dragFrom === null) return;
    const from = dragFrom;
    dragFrom = null;
    host.select(null);
    const to = stepAtClamped(e.offsetX);
    const full = host.full();
    if (!apply || to === null || !full || Math.abs(e.offsetX - dragPx) < 5) return;
    host.set(clampRange({ min: Math.min(from, to), max: Math.max(from, to) }, full));
  };
  el.addEventListener('pointerup', (e) => end(e, true));
  el.addEventListener('pointercancel', (e) => end(e, false));
  el.addEventListener('dblclick', () => host.set(null));
}
