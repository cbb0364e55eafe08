// What the charts put on their x axis (docs/charts.md): the step, the time since the run's first
// row ("relative", in seconds, ticks as 1h 20m), or the wall clock ("wall", Chart.js's time scale
// through the date-fns adapter, in milliseconds as that scale wants). Everything a view holds is
// indexed by step (series, zoom, alerts, events); a chart maps to its axis only what it draws, and
// maps a pointer's position back to a step.
import type { XAxisKind } from '../contract';
import type { RunClock } from './clock';
import { formatStep } from './format';

export interface XAxis {
  readonly kind: XAxisKind;
  /** The axis value of a step (NaN when the run has no clock for a time axis). */
  toX(step: number): number;
  /** The step at an axis value. */
  toStep(x: number): number;
}

export const STEP_AXIS: XAxis = { kind: 'step', toX: (s) => s, toStep: (x) => x };

/** The axis for `kind`; a time axis of a run whose rows carried no time falls back to steps. */
export function xAxisFor(kind: XAxisKind, clock: RunClock): XAxis {
  if (kind === 'step' || clock.size === 0) return STEP_AXIS;
  if (kind === 'relative') {
    const origin = clock.origin;
    return { kind, toX: (s) => clock.timeAt(s) - origin, toStep: (x) => clock.stepAt(x + origin) };
  }
  return { kind, toX: (s) => clock.timeAt(s) * 1000, toStep: (x) => clock.stepAt(x / 1000) };
}

/** 45s, 12m 5s, 3h 20m, 2d 4h: a relative-time tick or tooltip. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '';
  const sign = seconds < 0 ? '−' : '';
  let s = Math.abs(seconds);
  if (s < 60) return `${sign}${Number(s.toFixed(s < 10 ? 1 : 0))}s`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s = Math.round(s - m * 60);
  if (d > 0) return `${sign}${d}d${h > 0 ? ` ${h}h` : ''}`;
  if (h > 0) return `${sign}${h}h${m > 0 ? ` ${m}m` : ''}`;
  return `${sign}${m}m${s > 0 ? ` ${s}s` : ''}`;
}

const WALL = new Intl.DateTimeFormat('en-GB', { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** A tooltip's heading: the step, and the time when the run has a clock. */
export function describeStep(step: number, clock: RunClock): string {
  const t = clock.size > 0 ? clock.timeAt(step) : NaN;
  if (!Number.isFinite(t)) return `step ${formatStep(step)}`;
  return `step ${formatStep(step)} · ${formatDuration(t - clock.origin)} · ${WALL.format(new Date(t * 1000))}`;
}

/** Round tick spacings of relative time, in seconds. */
const DURATION_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];

/** Round relative-time ticks (1, 5, 15 minutes, hours…) over [min, max]. */
export function durationTicks(min: number, max: number, count: number): number[] {
  if (!(max > min) || count < 1) return [];
  const raw = (max - min) / count;
  const step = DURATION_STEPS.find((s) => s >= raw) ?? Math.ceil(raw / 604800) * 604800;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) out.push(t);
  return out;
}
