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
import type { WireNumber } from '../src/protocol/wire';

export type { Alert, MetricRoles };

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

export type ViewKind = 'sidebar' | 'dashboard';

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
    }
  /** A role was taken by a metric that appeared mid-run (a first validation loss): sent before the rows that carry it. */
  | { type: 'roles'; runId: string; roles: MetricRoles }
  /** New points since the last message, at most 10 messages a second: only the delta, never the whole series. */
  | { type: 'append'; runId: string; series: Record<string, SeriesPoints<N>> }
  /** Alerts that opened or closed since the last message (an alert with state 'closed' ends its episode). */
  | { type: 'alerts'; runId: string; alerts: ViewAlert<N>[] }
  | { type: 'reliability'; runId: string; bins: ReliabilityBins<N> }
  | { type: 'status'; runId: string; status: RunStatus }
  /** Dashboard only: the loss of other runs to overlay for comparison. */
  | { type: 'overlay'; runs: { id: string; name: string; loss: SeriesPoints<N> }[] };

export type WebviewToHost =
  | { type: 'ready'; view: ViewKind }
  | { type: 'selectRun'; runId: string }
  /** Dashboard: the runs whose loss to overlay (empty: none). */
  | { type: 'setOverlay'; runIds: string[] }
  | { type: 'stopRun'; runId: string }
  | { type: 'openDashboard'; runId: string };

/** The host validates what a webview says before acting on it: a webview is less trusted. */
export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  switch (v.type) {
    case 'ready':
      return v.view === 'sidebar' || v.view === 'dashboard';
    case 'selectRun':
    case 'stopRun':
    case 'openDashboard':
      return typeof v.runId === 'string' && v.runId.length <= 200;
    case 'setOverlay':
      return Array.isArray(v.runIds) && v.runIds.length <= 20 && v.runIds.every((id) => typeof id === 'string');
    default:
      return false;
  }
}
