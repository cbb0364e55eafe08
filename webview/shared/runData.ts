// The run a view shows, as the view holds it: the series it keeps, the SA layer spread computed
// from them, and the run's alerts. The sidebar and the dashboard take the host's reset, append and
// alerts messages the same way, and read a panel's lines and the alert markers the same way.
import type { Alert, MetricRoles, SeriesPoints, ViewEvent } from '../contract';
import { isMetricRole, noRoles } from '../../src/metrics/roles';
import { AlertBook } from './alerts';
import type { ResolvedLine, StepEvent } from './chartPanel';
import { RunClock } from './clock';
import { formatStep } from './format';
import { LayerSpread } from './layerSpread';
import type { AlertMarker } from './markers';
import type { PanelSpec } from './panels';
import { SeriesStore } from './series';
import type { Theme } from './theme';

export class RunData {
  readonly store: SeriesStore;
  readonly spread: LayerSpread;
  readonly alerts = new AlertBook();
  /** Step → time, for the time axes and the tooltips. */
  readonly clock = new RunClock();
  /** The run's `run.event()`s, in the order logged. */
  events: ViewEvent[] = [];
  config: Record<string, unknown> | null = null;
  /** Which logged metric the host says plays each role; a panel's `loss` line draws `train_loss` when that is it. */
  private roles: MetricRoles = noRoles();
  private roleNames = new Set<string>();

  /** `accept` picks the metrics the view keeps; every series compacts itself at `maxPoints`. */
  constructor(maxPoints: number, accept: (name: string) => boolean) {
    this.store = new SeriesStore(maxPoints, accept);
    this.spread = new LayerSpread(maxPoints);
  }

  /** A `reset`: everything replaced. The roles come first: they decide which series the view keeps. */
  reset(series: Record<string, SeriesPoints<number>>, alerts: readonly Alert[], roles: MetricRoles): void {
    this.setRoles(roles);
    this.store.reset(series);
    this.spread.clear();
    this.spread.ingest(series);
    this.alerts.clear();
    this.alerts.apply(alerts);
  }

  /** An `append` delta. */
  append(series: Record<string, SeriesPoints<number>>): void {
    this.store.append(series);
    this.spread.ingest(series);
  }

  /** A `roles` message (a role taken mid-run), or a reset's. */
  setRoles(roles: MetricRoles): void {
    this.roles = { ...roles };
    this.roleNames = new Set(Object.values(roles).filter((n): n is string => n !== null));
  }

  /** A metric the view must keep because it plays a role (a `train_loss` feeds the loss panel). */
  isRoleMetric(name: string): boolean {
    return this.roleNames.has(name);
  }

  /**
   * The panel's title, naming the logged metrics it draws when they are not the canonical ones:
   * "Loss (train_loss)" says which of the run's metrics the chart chose (docs/metrics.md).
   */
  titleFor(spec: PanelSpec): string {
    const actual: string[] = [];
    for (const line of spec.lines) {
      if (line.source.kind !== 'metric') continue;
      const name = this.resolve(line.source.names);
      if (name !== undefined && !line.source.names.includes(name)) actual.push(name);
    }
    return actual.length > 0 ? `${spec.title} (${actual.join(', ')})` : spec.title;
  }

  clear(): void {
    this.store.clear();
    this.spread.clear();
    this.alerts.clear();
    this.clock.clear();
    this.events = [];
    this.config = null;
  }

  /** The events as chart markers: a line at the step, a band over a span; coloured by level. */
  eventMarkers(theme: Theme): StepEvent[] {
    const out: StepEvent[] = [];
    for (const e of this.events) {
      const color = e.level === 'error' ? theme.error : e.level === 'warning' ? theme.warning : theme.foreground;
      if (e.span) out.push({ step: e.span.from, to: e.span.to, color });
      else if (e.step !== null) out.push({ step: e.step, color });
    }
    return out;
  }

  /** What the tooltip says of the events at `step` (within a few pixels of it, or spanning it). */
  eventsNear(step: number, stepsPerPixel: number): string[] {
    const near = 4 * stepsPerPixel;
    const out: string[] = [];
    for (const e of this.events) {
      const hit = e.span ? step >= e.span.from - near && step <= e.span.to + near : e.step !== null && Math.abs(e.step - step) <= near;
      if (!hit) continue;
      const where = e.span ? `steps ${formatStep(e.span.from)}–${formatStep(e.span.to)}` : `step ${formatStep(e.step ?? NaN)}`;
      const text = e.message.length > 120 ? `${e.message.slice(0, 119)}…` : e.message;
      out.push(`${e.kind ?? e.level} (${where}): ${text}`);
      if (out.length === 4) break;
    }
    return out;
  }

  /** The newest step of any series (the spread's included: a view may not keep the layers). */
  lastStep(): number {
    let step = -Infinity;
    for (const name of this.store.names()) step = Math.max(step, this.store.get(name)?.lastStep ?? -Infinity);
    if (this.spread.min.length > 0) step = Math.max(step, this.spread.min.lastStep);
    return step;
  }

  /** A panel's lines that have data, in the theme's series colours; `shown` can leave metrics out (the picker). */
  lines(spec: PanelSpec, theme: Theme, width?: number, shown: (metric: string) => boolean = () => true): ResolvedLine[] {
    const out: ResolvedLine[] = [];
    for (const line of spec.lines) {
      const color = theme.series[line.color % theme.series.length];
      if (line.source.kind === 'spread') {
        const series = line.source.which === 'min' ? this.spread.min : this.spread.median;
        if (series.length > 0) out.push({ label: line.label ?? line.source.which, color, dashed: line.dashed, series, width });
        continue;
      }
      const name = this.resolve(line.source.names);
      const series = name !== undefined ? this.store.get(name) : undefined;
      if (name !== undefined && series && shown(name)) out.push({ label: line.label ?? name, color, dashed: line.dashed, series, width });
    }
    return out;
  }

  /** The series a metric line draws: the metric holding its role, else the first of its names the run logged. */
  resolve(names: readonly string[]): string | undefined {
    const role = names[0];
    const actual = isMetricRole(role) ? this.roles[role] : null;
    if (actual !== null && this.store.has(actual)) return actual;
    return names.find((n) => this.store.has(n));
  }

  /** Every alert as a chart marker: critical in the error colour, warnings in the warning colour. */
  alertMarkers(theme: Theme): AlertMarker[] {
    return this.alerts.all().map((a) => ({
      x: a.step,
      color: a.severity === 'critical' ? theme.error : theme.warning,
      closedX: a.state === 'closed' ? (a.closedStep ?? a.step) : undefined,
    }));
  }
}
