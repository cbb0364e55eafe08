// A chart as both views hold it (the sidebar's small multiples, the dashboard's charts) and what
// every chart of a view shares in one frame: the run's alerts and events, the x axis, smoothing,
// outliers and tooltips (docs/charts.md). One place, so the two views cannot drift apart.
import type { ChartPanel, PanelFrame, ResolvedLine } from './chartPanel';
import { createChip, type ToggleControl } from './controls';
import type { PanelSpec } from './panels';
import type { RunData } from './runData';
import type { Smoother } from './smoothing';
import type { Theme } from './theme';
import type { ViewOptions } from './viewOptions';
import { describeStep, xAxisFor } from './xAxis';
import { spansDecade } from './yRange';

export interface ViewChart {
  spec: PanelSpec;
  view: ChartPanel;
  log: ToggleControl;
}

/** The "log" chip of a chart: it flips the view's stored choice for this chart. */
export function logChip(spec: PanelSpec, options: ViewOptions): ToggleControl {
  const log = createChip('log', 'Log scale', () => options.set({ logScale: { [spec.id]: !log.pressed } }), { toggle: true, action: 'log' });
  return log;
}

/** What every chart of a view draws with in this frame, whatever its own lines and range. */
export type SharedFrame = Omit<PanelFrame, 'lines' | 'range' | 'log' | 'selection'>;

export function sharedFrame(data: RunData, theme: Theme, options: ViewOptions, smoother: Smoother): SharedFrame {
  return {
    theme,
    alerts: data.alertMarkers(theme),
    events: data.eventMarkers(theme),
    xAxis: xAxisFor(options.xAxis, data.clock),
    smoothing: { weight: options.smoothing, smoother },
    ignoreOutliers: options.ignoreOutliers,
    describeStep: (step) => describeStep(step, data.clock),
    eventsNear: (step, perPx) => data.eventsNear(step, perPx),
  };
}

/** A chart's log axis: the user's choice, else (the loss) once its values span more than a decade. */
function logFor(chart: ViewChart, options: ViewOptions, lines: readonly ResolvedLine[]): boolean {
  return options.logScale(chart.spec.id) ?? (chart.spec.id === 'loss' && spansDecade(lines));
}

export function drawChart(
  chart: ViewChart,
  options: ViewOptions,
  shared: SharedFrame,
  lines: readonly ResolvedLine[],
  range: PanelFrame['range'],
  selection?: PanelFrame['selection'],
): void {
  const log = logFor(chart, options, lines);
  chart.log.pressed = log;
  chart.view.render({ ...shared, lines, range, selection, log });
}
