// The one message protocol between the extension host and its webviews, keyed by `type`
// (the vscode-dvc pattern). Both sides import it; postMessage's structured clone carries NaN and
// ±Infinity as they are.
export interface RunListItem {
  id: string;
  name: string;
  status: 'running' | 'completed' | 'failed' | 'stopped' | 'interrupted';
}

export interface LatestValue {
  name: string;
  step: number;
  value: number;
}

export type HostToWebview =
  | { type: 'runs'; runs: RunListItem[]; activeId: string | null }
  | { type: 'latest'; runId: string; step: number | null; rows: number; values: LatestValue[] };

export type WebviewToHost = { type: 'ready' } | { type: 'selectRun'; runId: string };

const hostTypes = new Set<HostToWebview['type']>(['runs', 'latest']);
const webviewTypes = new Set<WebviewToHost['type']>(['ready', 'selectRun']);

export function isHostToWebview(value: unknown): value is HostToWebview {
  return typeof value === 'object' && value !== null && hostTypes.has((value as { type: HostToWebview['type'] }).type);
}

export function isWebviewToHost(value: unknown): value is WebviewToHost {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type as WebviewToHost['type'];
  if (!webviewTypes.has(type)) return false;
  return type !== 'selectRun' || typeof (value as { runId?: unknown }).runId === 'string';
}
