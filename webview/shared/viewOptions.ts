// The controls every chart of a view shares (docs/charts.md): the smoothing slider, the x axis
// (step, relative time, wall time) and "ignore outliers", plus the per-chart log scale. They are
// the workspace's preferences: a change is posted to the host (`savePrefs`, kept in
// workspaceState and told to every view) and the host's `prefs` message sets them here, so the
// sidebar and each dashboard agree. Used by both views: one handler, no twin code.
import type { ViewPrefs, XAxisKind } from '../contract';
import { createCheckbox, createSelect, createSlider } from './controls';
import type { VsCodeApi } from './vscodeApi';

export const DEFAULT_SMOOTHING = 0;

const AXES: { value: XAxisKind; label: string }[] = [
  { value: 'step', label: 'Step' },
  { value: 'relative', label: 'Relative time' },
  { value: 'wall', label: 'Wall time' },
];

export class ViewOptions {
  readonly element: HTMLElement;
  private prefs: ViewPrefs = {};
  private readonly slider;
  private readonly axis;
  private readonly outliers;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: Pick<VsCodeApi, 'postMessage'>,
    private readonly onChange: () => void,
  ) {
    this.element = document.createElement('div');
    this.element.className = 'view-options';
    this.slider = createSlider(
      'Smoothing',
      { min: 0, max: 0.99, step: 0.01, value: DEFAULT_SMOOTHING, id: 'smoothing', format: (v) => (v === 0 ? 'off' : v.toFixed(2)) },
      (v) => {
        this.prefs = { ...this.prefs, smoothing: v };
        this.onChange();
        this.saveSoon({ smoothing: v });
      },
      (v) => this.save({ smoothing: v }),
    );
    this.axis = createSelect('X axis', (v) => this.set({ xAxis: v as XAxisKind }), { id: 'x-axis' });
    this.axis.setOptions(AXES, 'step');
    this.outliers = createCheckbox('Ignore outliers', false, (checked) => this.set({ ignoreOutliers: checked }));
    this.outliers.element.id = 'ignore-outliers';
    this.outliers.element.title = 'Scale each chart to the 1st–99th percentile of its values, so one huge spike does not flatten the rest';
    this.element.append(this.slider.element, this.axis.element, this.outliers.element);
  }

  get smoothing(): number {
    return this.prefs.smoothing ?? DEFAULT_SMOOTHING;
  }

  get xAxis(): XAxisKind {
    return this.prefs.xAxis ?? 'step';
  }

  get ignoreOutliers(): boolean {
    return this.prefs.ignoreOutliers ?? false;
  }

  /** The user's choice for a chart's log axis, or undefined (the chart's default). */
  logScale(chartId: string): boolean | undefined {
    return this.prefs.logScale?.[chartId];
  }

  /** The user's choice for a metric's chart, or undefined (the default). */
  metricChart(name: string): boolean | undefined {
    return this.prefs.metricCharts?.[name];
  }

  get current(): ViewPrefs {
    return this.prefs;
  }

  /** The host's `prefs` (or the view's saved state): every control follows. */
  apply(prefs: ViewPrefs): void {
    this.prefs = { ...prefs };
    this.slider.value = this.smoothing;
    this.axis.setOptions(AXES, this.xAxis);
    this.outliers.checked = this.ignoreOutliers;
    this.onChange();
  }

  /** A change made in this view: applied at once, and told to the host. */
  set(change: ViewPrefs): void {
    this.prefs = {
      ...this.prefs,
      ...change,
      ...(change.logScale ? { logScale: { ...this.prefs.logScale, ...change.logScale } } : {}),
      ...(change.metricCharts ? { metricCharts: { ...this.prefs.metricCharts, ...change.metricCharts } } : {}),
    };
    this.onChange();
    this.save(change);
  }

  private saveSoon(change: ViewPrefs): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => this.save(change), 400);
  }

  private save(change: ViewPrefs): void {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.api.postMessage({ type: 'savePrefs', prefs: change });
  }
}
