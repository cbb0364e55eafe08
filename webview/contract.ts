// The one message protocol between the extension host and its webviews (the sidebar "Live" view and
// the run dashboard), keyed by `type` as in vscode-dvc's Webview/contract.ts. Both sides import this
// file; postMessage's structured clone carries NaN and ±Infinity as they are, so series values are
// plain numbers here (a non-finite value is data to draw as a marker, never dropped).
import type { Alert } from '../src/detect/alert';

export type { Alert };

export type RunStatus = 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';

export interface RunListItem {
  id: string;
  name: string;
  status: RunStatus;
  /** Unix seconds. */
  createdAt: number;
}

/** Points of one metric, steps ascending. Long series arrive M4-downsampled (extrema kept). */
export interface SeriesPoints {
  steps: number[];
  values: number[];
}

export interface ReliabilityBins {
  step: number;
  edges: number[];
  confidence: number[];
  accuracy: number[];
  counts: number[];
}

export type ViewKind = 'sidebar' | 'dashboard';

export type HostToWebview =
  /** The runs the picker offers and which one the view shows. */
  | { type: 'runs'; runs: RunListItem[]; activeId: string | null }
  /** Replace everything the view holds for this run (on selection, on ready, after hide/show). */
  | {
      type: 'reset';
      runId: string;
      status: RunStatus;
      series: Record<string, SeriesPoints>;
      alerts: Alert[];
      reliability: ReliabilityBins | null;
    }
  /** New points since the last message, at most 10 messages a second: only the delta, never the whole series. */
  | { type: 'append'; runId: string; series: Record<string, SeriesPoints> }
  /** Alerts that opened or closed since the last message (an alert with state 'closed' ends its episode). */
  | { type: 'alerts'; runId: string; alerts: Alert[] }
  | { type: 'reliability'; runId: string; bins: ReliabilityBins }
  | { type: 'status'; runId: string; status: RunStatus }
  /** Dashboard only: the loss of other runs to overlay for comparison. */
  | { type: 'overlay'; runs: { id: string; name: string; loss: SeriesPoints }[] };

export type WebviewToHost =
  | { type: 'ready'; view: ViewKind }
  | { type: 'selectRun'; runId: string }
  /** Dashboard: the runs whose loss to overlay (empty: none). */
  | { type: 'setOverlay'; runIds: string[] }
  | { type: 'stopRun'; runId: string }
  | { type: 'openDashboard'; runId: string };

const HOST_TYPES: ReadonlySet<string> = new Set<HostToWebview['type']>(['runs', 'reset', 'append', 'alerts', 'reliability', 'status', 'overlay']);

export function isHostToWebview(value: unknown): value is HostToWebview {
  return typeof value === 'object' && value !== null && HOST_TYPES.has((value as { type?: string }).type ?? '');
}

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
