// The "Live" sidebar: the active run and its latest values. Every string from a run (names, ids)
// goes through textContent, never innerHTML.
import { isHostToWebview, type HostToWebview, type WebviewToHost } from '../contract';

interface VsCodeApi {
  postMessage(message: WebviewToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const picker = document.getElementById('run-picker') as HTMLSelectElement;
const status = document.getElementById('run-status') as HTMLElement;
const table = document.getElementById('latest') as HTMLTableSectionElement;

picker.addEventListener('change', () => vscode.postMessage({ type: 'selectRun', runId: picker.value }));

window.addEventListener('message', (event: MessageEvent) => {
  if (!isHostToWebview(event.data)) return;
  render(event.data);
  vscode.setState(event.data.type === 'latest' ? event.data : vscode.getState());
});

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+∞' : '−∞';
  return Math.abs(value) >= 1e4 || (value !== 0 && Math.abs(value) < 1e-3) ? value.toExponential(3) : value.toFixed(4);
}

function render(message: HostToWebview): void {
  if (message.type === 'runs') {
    picker.replaceChildren(
      ...message.runs.map((run) => {
        const option = document.createElement('option');
        option.value = run.id;
        option.textContent = `${run.name} (${run.status})`;
        option.selected = run.id === message.activeId;
        return option;
      }),
    );
    status.textContent = message.runs.length === 0 ? 'No runs yet. Start one from the palette or a terminal.' : '';
    return;
  }
  status.textContent = message.step === null ? 'waiting for the first row' : `step ${message.step} · ${message.rows} rows`;
  table.replaceChildren(
    ...message.values.map((v) => {
      const tr = document.createElement('tr');
      const name = document.createElement('td');
      name.textContent = v.name;
      const value = document.createElement('td');
      value.textContent = formatValue(v.value);
      if (!Number.isFinite(v.value)) value.className = 'nonfinite';
      tr.append(name, value);
      return tr;
    }),
  );
}

const saved = vscode.getState();
if (isHostToWebview(saved)) render(saved);
vscode.postMessage({ type: 'ready' });
