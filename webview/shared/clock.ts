// A run's clock as a view holds it: per step, the Unix time its rows carried (webview/contract.ts
// `clock`), so a chart can put relative or wall time on its x axis (docs/charts.md). Time is
// monotone in the step; between the points the host kept it is interpolated linearly, beyond the
// ends extrapolated at the rate of the nearest stretch (a step logged after the last clock point
// still has a time).
import type { SeriesPoints } from '../contract';
import { GrowableSeries } from './series';
import { upperBound } from '../../src/store/sortedSearch';

export class RunClock {
  /**
   * steps → times (Unix seconds); `values` are the times. Bounded like the view's series: at the
   * cap it compacts with M4, which for a monotone clock keeps each bucket's first and last point.
   */
  readonly points: GrowableSeries;

  constructor(maxPoints = 16_384) {
    this.points = new GrowableSeries(maxPoints);
  }

  clear(): void {
    this.points.clear();
  }

  get size(): number {
    return this.points.length;
  }

  /** The first time of the run (the origin of relative time), NaN without a clock. */
  get origin(): number {
    return this.points.length > 0 ? this.points.values[0] : NaN;
  }

  reset(clock: SeriesPoints<number>): void {
    this.points.clear();
    this.append(clock);
  }

  append(clock: SeriesPoints<number>): void {
    const steps: number[] = [];
    const times: number[] = [];
    let lastTime = this.points.length > 0 ? this.points.lastValue : -Infinity;
    for (let i = 0; i < Math.min(clock.steps.length, clock.values.length); i++) {
      const t = clock.values[i];
      // A clock that went backwards (NTP) is held level: the axis must stay monotone.
      if (!Number.isFinite(t)) continue;
      const held = Math.max(t, lastTime);
      steps.push(clock.steps[i]);
      times.push(held);
      lastTime = held;
    }
    this.points.append(steps, times);
  }

  /** The Unix time of `step`, NaN when the run has no clock. */
  timeAt(step: number): number {
    const p = this.points;
    const n = p.length;
    if (n === 0 || !Number.isFinite(step)) return NaN;
    if (n === 1) return p.values[0];
    let i = upperBound(p.steps, n, step) - 1;
    i = Math.max(0, Math.min(n - 2, i));
    return lerp(p.steps[i], p.values[i], p.steps[i + 1], p.values[i + 1], step);
  }

  /** The step at Unix time `time` (the inverse of timeAt), NaN without a clock. */
  stepAt(time: number): number {
    const p = this.points;
    const n = p.length;
    if (n === 0 || !Number.isFinite(time)) return NaN;
    if (n === 1) return p.steps[0];
    let i = upperBound(p.values, n, time) - 1;
    i = Math.max(0, Math.min(n - 2, i));
    return lerp(p.values[i], p.steps[i], p.values[i + 1], p.steps[i + 1], time);
  }
}

function lerp(x0: number, y0: number, x1: number, y1: number, x: number): number {
  if (x1 === x0) return x <= x0 ? y0 : y1;
  return y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
}
