// The run a view shows, as the view holds it: the series it keeps, the SA layer spread computed
// from them, and the run's alerts. The sidebar and the dashboard take the host's reset, append and
// alerts messages the same way, and read a panel's lines and the alert markers the same way.
import type { Alert, SeriesPoints } from '../contract';
import { AlertBook } from './alerts';
import type { ResolvedLine } from './chartPanel';
import { LayerSpread } from './layerSpread';
import type { AlertMarker } from './markers';
import type { PanelSpec } from './panels';
import { SeriesStore } from './series';
import type { Theme } from './theme';

export class RunData {
  readonly store: SeriesStore;
  readonly spread: LayerSpread;
  readonly alerts = new AlertBook();

  /** `accept` picks the metrics the view keeps; every series compacts itself at `maxPoints`. */
  constructor(maxPoints: number, accept: (name: string) => boolean) {
    this.store = new SeriesStore(maxPoints, accept);
    this.spread = new LayerSpread(maxPoints);
  }

  /** A `reset`: everything replaced. */
  reset(series: Record<string, SeriesPoints>, alerts: readonly Alert[]): void {
    this.store.reset(series);
    this.spread.clear();
    this.spread.ingest(series);
    this.alerts.clear();
    this.alerts.apply(alerts);
  }

  /** An `append` delta. */
  append(series: Record<string, SeriesPoints>): void {
    this.store.append(series);
    this.spread.ingest(series);
  }

  clear(): void {
    this.store.clear();
    this.spread.clear();
    this.alerts.clear();
  }

  /** The newest step of any series (the spread's included: a view may not keep the layers). */
  lastStep(): number {
    let step = -Infinity;
    for (const name of this.store.names()) step = Math.max(step, this.store.get(name)?.lastStep ?? -Infinity);
    if (this.spread.min.length > 0) step = Math.max(step, this.spread.min.lastStep);
    return step;
  }

  /** A panel's lines that have data, in the theme's series colours. */
  lines(spec: PanelSpec, theme: Theme, width?: number): ResolvedLine[] {
    const out: ResolvedLine[] = [];
    for (const line of spec.lines) {
      const color = theme.series[line.color % theme.series.length];
      if (line.source.kind === 'spread') {
        const series = line.source.which === 'min' ? this.spread.min : this.spread.median;
        if (series.length > 0) out.push({ label: line.label ?? line.source.which, color, dashed: line.dashed, series, width });
        continue;
      }
      const name = line.source.names.find((n) => this.store.has(n));
      const series = name !== undefined ? this.store.get(name) : undefined;
      if (name !== undefined && series) out.push({ label: line.label ?? name, color, dashed: line.dashed, series, width });
    }
    return out;
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
