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

/** A line's points as a chart reads them (webview/shared/chartPanel.ts's SeriesView). */
interface Points {
  readonly steps: Float64Array;
  readonly values: Float64Array;
  readonly length: number;
}

/**
 * Detail on zoom (docs/store.md "Zoom"): the overview a dashboard holds of a long run is a bounded
 * summary, so when the zoom settles on a range the host is asked for that range's points from
 * disk; while they cover the range, each line draws them there, and its overview outside it.
 */
export class ZoomDetail {
  private wanted: { runId: string; from: number; to: number } | null = null;
  private got: { runId: string; from: number; to: number; series: Map<string, Points> } | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly cache = new WeakMap<Points, { length: number; detail: Points; out: Points }>();
  /**
   * The metrics of the charts on screen since the zoom changed: what is asked for. A dashboard of
   * 50 metrics shows a few at a time; the rest are asked for as they scroll into view.
   */
  private readonly drawn = new Set<string>();
  /** The metrics asked for the current range (null: not asked yet). */
  private asked: Set<string> | null = null;

  constructor(
    private readonly ask: (runId: string, from: number, to: number, metrics: string[]) => void,
    private readonly settleMs = 150,
  ) {}

  /** The zoom is now `range` (null: everything) of `runId`: asks once it has settled. */
  zoomed(runId: string | null, range: XRange | null): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.asked = null;
    this.drawn.clear();
    if (runId === null || range === null) {
      this.wanted = null;
      this.got = null;
      return;
    }
    this.wanted = { runId, from: Math.floor(range.min), to: Math.ceil(range.max) };
    this.schedule();
  }

  /** Asks for the drawn metrics once the zoom has been still for `settleMs`. */
  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const want = this.wanted;
      if (!want || this.drawn.size === 0) return;
      this.asked = new Set(this.drawn);
      this.ask(want.runId, want.from, want.to, [...this.drawn]);
    }, this.settleMs);
  }

  /** The host's answer; true when it is the one waited for (the view redraws). */
  accept(message: { runId: string; from: number; to: number; series: Record<string, { steps: number[]; values: number[] }> }): boolean {
    const w = this.wanted;
    if (!w || w.runId !== message.runId || w.from !== message.from || w.to !== message.to) return false;
    const series = new Map<string, Points>();
    for (const [name, p] of Object.entries(message.series)) series.set(name, { steps: Float64Array.from(p.steps), values: Float64Array.from(p.values), length: p.steps.length });
    this.got = { ...w, series };
    return true;
  }

  /**
   * `overview` (the line of metric `name`) with the detail in place over the range it covers;
   * the overview itself when there is none for it. `shown`: its chart is on screen (the detail of
   * what is off screen is not asked for until it scrolls into view).
   */
  refine(name: string, overview: Points, shown = true): Points {
    if (shown && !this.drawn.has(name)) {
      this.drawn.add(name);
      // A chart shown after the question was asked (a panel scrolled into view): ask again, with it.
      if (this.wanted && (this.asked !== null || this.timer === undefined)) this.schedule();
    }
    const got = this.got;
    const detail = got?.series.get(name);
    if (!got || !detail) return overview;
    const hit = this.cache.get(overview);
    if (hit && hit.length === overview.length && hit.detail === detail) return hit.out;
    const before: number[] = [];
    const after: number[] = [];
    for (let i = 0; i < overview.length; i++) {
      const s = overview.steps[i];
      if (s < got.from) before.push(i);
      else if (s > got.to) after.push(i);
    }
    const n = before.length + detail.length + after.length;
    const steps = new Float64Array(n);
    const values = new Float64Array(n);
    let j = 0;
    for (const i of before) {
      steps[j] = overview.steps[i];
      values[j++] = overview.values[i];
    }
    steps.set(detail.steps, j);
    values.set(detail.values, j);
    j += detail.length;
    for (const i of after) {
      steps[j] = overview.steps[i];
      values[j++] = overview.values[i];
    }
    const out = { steps, values, length: n };
    this.cache.set(overview, { length: overview.length, detail, out });
    return out;
  }
}
