// The one message protocol between the extension host and its webviews (the sidebar "Live" view and
// the run dashboard), keyed by `type` as in vscode-dvc's Webview/contract.ts. Both sides import this
// file. VS Code hands a message to a webview as JSON (not as a structured clone), where NaN and
// ±Infinity would arrive as null, and a null in a series is drawn as 0. So a metric value travels as a
// `ViewNumber`, spelled as on the wire ("NaN", "Infinity", "-Infinity": docs/protocol.md "Numbers
// that JSON cannot carry"): the host encodes where it builds a message (src/view/viewBridge.ts) and
// the webview decodes in one place, webview/shared/hostMessages.ts. A type's parameter N says which
// side it is on: `ViewNumber` as posted (the default), `number` once decoded.
import type { Alert } from '../src/detect/alert';
import type { MetricRoles } from '../src/metrics/roles';
import type { RunAction, WireNumber } from '../src/protocol/wire';
import type { CompareRow, CompareTable } from '../src/view/compareRows';

export type { Alert, MetricRoles, CompareRow, CompareTable, RunAction };

/** What a run's SDK may be asked to do from its alerts (docs/rescue.md). */
export const RUN_ACTION_NAMES: readonly RunAction[] = ['checkpoint', 'lower-lr', 'rollback'];

/** A metric value as it crosses postMessage: a number, or "NaN", "Infinity", "-Infinity". */
export type ViewNumber = WireNumber;

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';

export interface RunListItem {
  id: string;
  name: string;
  status: RunStatus;
  /** Unix seconds. */
  createdAt: number;
}

/**
 * Points of one metric, steps ascending. Long series arrive M4-downsampled (extrema kept). A
 * non-finite value is data to draw as a marker, never dropped. Steps are always finite.
 */
export interface SeriesPoints<N = ViewNumber> {
  steps: number[];
  values: N[];
}

export interface ReliabilityBins<N = ViewNumber> {
  step: number;
  edges: N[];
  confidence: N[];
  accuracy: N[];
  counts: N[];
}

/** An alert as a message carries it: the values that triggered it may be non-finite (a NaN loss). */
export type ViewAlert<N = ViewNumber> = Omit<Alert, 'values'> & { values: Record<string, N> };

export type ViewKind = 'sidebar' | 'dashboard' | 'compare';

/**
 * A `run.event()` of the run (events.jsonl): a vertical marker at `step` on the charts, a band over
 * `span` (a rolled-back range), the message in a tooltip and in the dashboard's list (docs/charts.md).
 */
export interface ViewEvent {
  step: number | null;
  level: 'info' | 'warning' | 'error';
  message: string;
  /** 'checkpoint', 'lr', 'rollback', 'rescue', or the user's own word; null for a plain message. */
  kind: string | null;
  span: { from: number; to: number } | null;
  /** Unix seconds, when the hub stored it. */
  time: number | null;
}

/** One SA histogram (a `distribution` frame) at a step. */
export interface ViewHistogram<N = ViewNumber> {
  name: string;
  step: number;
  edges: N[];
  counts: N[];
}

export type XAxisKind = 'step' | 'relative' | 'wall';

/**
 * What a user set in a view and expects back in every view of the workspace (the host keeps it in
 * workspaceState: a webview's own state is per view instance). Each field is optional: a view
 * sends only what it changed, the host merges.
 */
export interface ViewPrefs {
  /** EMA weight 0 … 0.99 (0: off), TensorBoard's smoothing slider. */
  smoothing?: number;
  xAxis?: XAxisKind;
  /** The y range from quantiles, so one huge early spike does not flatten the rest. */
  ignoreOutliers?: boolean;
  /** Per chart id: a log y axis (true), linear (false); absent: the chart's default. */
  logScale?: Record<string, boolean>;
  /** Per metric: charted (true) or not (false), as the user ticked it in the picker; absent: the default. */
  metricCharts?: Record<string, boolean>;
}

export type HostToWebview<N = ViewNumber> =
  /** The runs the picker offers and which one the view shows. */
  | { type: 'runs'; runs: RunListItem[]; activeId: string | null }
  /** Replace everything the view holds for this run (on selection, on ready, after hide/show). */
  | {
      type: 'reset';
      runId: string;
      status: RunStatus;
      series: Record<string, SeriesPoints<N>>;
      alerts: ViewAlert<N>[];
      reliability: ReliabilityBins<N> | null;
      /** Which logged metric is the loss, the validation loss, the lr, the gradient norm (docs/metrics.md). */
      roles: MetricRoles;
      /**
       * The run's clock: per step, the Unix time (seconds) its first row carried, `values` being the
       * times. One series for the run rather than a time beside every value of every metric: the
       * rows of a step share it. Empty when the rows carried no time.
       */
      clock: SeriesPoints<N>;
      events: ViewEvent[];
      /** The run's config (hello's run.config), shown beside the charts; null when it gave none. */
      config: Record<string, unknown> | null;
      /** Steps with a reliability or SA histogram frame, ascending (the dashboard's step slider). */
      distributionSteps: number[];
    }
  /** A role was taken by a metric that appeared mid-run (a first validation loss): sent before the rows that carry it. */
  | { type: 'roles'; runId: string; roles: MetricRoles }
  /** New points since the last message, at most 10 messages a second: only the delta, never the whole series. */
  | { type: 'append'; runId: string; series: Record<string, SeriesPoints<N>>; clock?: SeriesPoints<N> }
  /** Events the run logged since the last message. */
  | { type: 'events'; runId: string; events: ViewEvent[] }
  /** The workspace's view preferences (on ready, and after any view changed them). */
  | { type: 'prefs'; prefs: ViewPrefs }
  /**
   * Dashboard: the reliability bins and SA histograms at `step` (the newest logged at or before it
   * whose values are finite: `requested` says which step was asked, `note` why another is shown).
   */
  | {
      type: 'distributions';
      runId: string;
      requested: number | null;
      reliability: ReliabilityBins<N> | null;
      histograms: ViewHistogram<N>[];
      note: string | null;
    }
  /** A logged histogram (live): its step joins the slider's. */
  | { type: 'histogram'; runId: string; histogram: ViewHistogram<N> }
  /** Alerts that opened or closed since the last message (an alert with state 'closed' ends its episode). */
  | { type: 'alerts'; runId: string; alerts: ViewAlert<N>[] }
  | { type: 'reliability'; runId: string; bins: ReliabilityBins<N> }
  | { type: 'status'; runId: string; status: RunStatus }
  /** What the shown run can be asked to do from its alerts (docs/rescue.md): said on show and when it changes; none once it is gone. */
  | { type: 'actions'; runId: string; actions: RunAction[] }
  /**
   * Dashboard only: other runs to overlay on its charts, each with the series of the metrics the
   * dashboard asked for and its own roles (its loss may be logged as `train_loss`).
   */
  | { type: 'overlay'; runs: OverlayRun<N>[] }
  /**
   * Dashboard: overlay these runs, chosen in the comparison table (docs/compare.md); the dashboard
   * checks them in its picker and asks for them with `setOverlay`, as if the user had.
   */
  | { type: 'overlaySelect'; runIds: string[] }
  /** The comparison table: every run of the store, one row each (src/view/compareRows.ts). */
  | { type: 'compareTable'; table: CompareTable<N> }
  /**
   * Dashboard: the answer to `detail`, the points of [from, to] read from the run's columns on disk
   * (docs/store.md "Zoom"), M4-downsampled to about the chart's width; the overview it refines
   * holds only a bounded summary of a long run.
   */
  | { type: 'detail'; runId: string; from: number; to: number; series: Record<string, SeriesPoints<N>> };

export interface OverlayRun<N = ViewNumber> {
  id: string;
  name: string;
  series: Record<string, SeriesPoints<N>>;
  roles: MetricRoles;
  /** Empty when the rows carried no time. */
  clock: SeriesPoints<N>;
}

/** Caps on what a webview may send (it is less trusted than the host). */
export const VIEW_LIMITS = {
  runIds: 20,
  metrics: 256,
  name: 512,
  /** A PNG of a chart, base64: a 4k-wide canvas is a few MB. */
  pngBase64: 32 * 1024 * 1024,
} as const;

export type WebviewToHost =
  | { type: 'ready'; view: ViewKind }
  /**
   * The comparison table (docs/compare.md): open the dashboard of `runIds[0]` with the other runs
   * overlaid on its charts (at most VIEW_LIMITS.runIds of them).
   */
  | { type: 'compareRuns'; runIds: string[] }
  /** The comparison table: edit a run's tags (the host asks in an input box). */
  | { type: 'editTags'; runId: string }
  | { type: 'selectRun'; runId: string }
  /** Dashboard: the runs to overlay (empty: none), and the metrics its charts draw (default: the loss). */
  | { type: 'setOverlay'; runIds: string[]; metrics?: string[] }
  /** Merge into the workspace's view preferences. */
  | { type: 'savePrefs'; prefs: ViewPrefs }
  /** Dashboard: the reliability bins and SA histograms at `step` (null: the latest). */
  | { type: 'pickStep'; runId: string; step: number | null }
  /** Dashboard: save a chart's PNG (the webview cannot download: the host asks where). */
  | { type: 'exportPng'; name: string; base64: string }
  /** Dashboard: save the run's metrics as CSV (the host writes it from the store). */
  | { type: 'exportCsv'; runId: string }
  /** Dashboard: the full-resolution points of steps [from, to] of the shown run (a zoom), for `metrics` (default: all). */
  | { type: 'detail'; runId: string; from: number; to: number; metrics?: string[] }
  | { type: 'stopRun'; runId: string }
  /** An alert's action on the shown run (docs/rescue.md); `alertStep`, the alert's `answeredStep` (src/rescue/actions.ts). */
  | { type: 'runAction'; runId: string; action: RunAction; alertStep?: number }
  | { type: 'openDashboard'; runId: string };

/** The host validates what a webview says before acting on it: a webview is less trusted. */
export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case 'ready':
      return v.view === 'sidebar' || v.view === 'dashboard' || v.view === 'compare';
    case 'compareRuns':
      return stringList(v.runIds, VIEW_LIMITS.runIds + 1) && v.runIds.length > 0;
    case 'editTags':
    case 'selectRun':
    case 'stopRun':
    case 'openDashboard':
      return typeof v.runId === 'string' && v.runId.length <= 200;
    case 'setOverlay':
      return (
        stringList(v.runIds, VIEW_LIMITS.runIds) &&
        (v.metrics === undefined || stringList(v.metrics, VIEW_LIMITS.metrics))
      );
    case 'savePrefs':
      return isViewPrefs(v.prefs);
    case 'pickStep':
      return typeof v.runId === 'string' && v.runId.length <= 200 && (v.step === null || (typeof v.step === 'number' && Number.isFinite(v.step)));
    case 'exportPng':
      return (
        typeof v.name === 'string' && v.name.length > 0 && v.name.length <= VIEW_LIMITS.name &&
        typeof v.base64 === 'string' && v.base64.length <= VIEW_LIMITS.pngBase64 && /^[A-Za-z0-9+/]*={0,2}$/.test(v.base64)
      );
    case 'exportCsv':
      return typeof v.runId === 'string' && v.runId.length <= 200;
    case 'runAction':
      return (
        typeof v.runId === 'string' && v.runId.length <= 200 && RUN_ACTION_NAMES.includes(v.action as RunAction) &&
        (v.alertStep === undefined || (typeof v.alertStep === 'number' && Number.isSafeInteger(v.alertStep) && v.alertStep >= 0))
      );
    case 'detail':
      return (
        typeof v.runId === 'string' && v.runId.length <= 200 &&
        typeof v.from === 'number' && typeof v.to === 'number' && Number.isFinite(v.from) && Number.isFinite(v.to) && v.from <= v.to &&
        (v.metrics === undefined || stringList(v.metrics, VIEW_LIMITS.metrics))
      );
    default:
      return false;
  }
}

function stringList(value: unknown, max: number): value is string[] {
  return Array.isArray(value) && value.length <= max && value.every((x) => typeof x === 'string' && x.length <= VIEW_LIMITS.name);
}

const X_AXES: readonly string[] = ['step', 'relative', 'wall'] satisfies XAxisKind[];

/** Every field, when present, of the right type and within bounds; nothing else. */
export function isViewPrefs(value: unknown): value is ViewPrefs {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const p = value as Record<string, unknown>;
  const known = new Set(['smoothing', 'xAxis', 'ignoreOutliers', 'logScale', 'metricCharts']);
  if (Object.keys(p).some((k) => !known.has(k))) return false;
  if (p.smoothing !== undefined && !(typeof p.smoothing === 'number' && p.smoothing >= 0 && p.smoothing <= 0.999)) return false;
  if (p.xAxis !== undefined && !X_AXES.includes(p.xAxis as string)) return false;
  if (p.ignoreOutliers !== undefined && typeof p.ignoreOutliers !== 'boolean') return false;
  return flags(p.logScale, VIEW_LIMITS.metrics) && flags(p.metricCharts, 4096);
}

/** Absent, or a record of at most `max` booleans under names of bounded length. */
function flags(value: unknown, max: number): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return entries.length <= max && entries.every(([k, b]) => k.length <= VIEW_LIMITS.name && typeof b === 'boolean');
}
