// The "Live" sidebar view: which run is active, and its latest values, pushed at most 10 times a second.
import * as vscode from 'vscode';
import { isWebviewToHost, type HostToWebview } from '../../webview/contract';
import type { Hub } from '../hub/hub';
import type { RunStore } from '../store/runStore';
import { webviewHtml } from './webviewHtml';

const BODY = `<select id="run-picker" aria-label="Run"></select>
<div id="run-status" role="status"></div>
<table><tbody id="latest"></tbody></table>`;

export class LiveViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'lossradar.live';
  private view: vscode.WebviewView | undefined;
  private activeId: string | null = null;
  private dirty = false;
  private readonly timer: NodeJS.Timeout;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: Hub,
    private readonly store: RunStore,
  ) {
    const onRows = (run: { id: string }) => {
      if (this.activeId === null) this.activeId = run.id;
      if (run.id === this.activeId) this.dirty = true;
    };
    const onRunsChanged = () => void this.postRuns();
    hub.on('rows', onRows);
    hub.on('runStarted', (run) => {
      this.activeId = run.id;
      void this.postRuns();
    });
    store.on('changed', onRunsChanged);
    this.disposables.push({ dispose: () => hub.off('rows', onRows) }, { dispose: () => store.off('changed', onRunsChanged) });
    // Coalesce: however fast rows arrive, the view gets at most one update per 100 ms.
    this.timer = setInterval(() => {
      if (this.dirty) void this.postLatest();
    }, 100);
  }

  get activeRunId(): string | null {
    return this.activeId;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = { enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')] };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'live.js', 'live.css', BODY);
    this.disposables.push(
      view.webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewToHost(message)) return;
        if (message.type === 'selectRun') this.activeId = message.runId;
        void this.postRuns().then(() => this.postLatest());
      }),
      view.onDidChangeVisibility(() => {
        if (view.visible) void this.postRuns().then(() => this.postLatest());
      }),
    );
  }

  private post(message: HostToWebview): void {
    void this.view?.webview.postMessage(message);
  }

  private async postRuns(): Promise<void> {
    const runs = await this.store.list();
    if (this.activeId === null && runs.length > 0) this.activeId = runs[0].id;
    this.post({ type: 'runs', runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status })), activeId: this.activeId });
  }

  private async postLatest(): Promise<void> {
    this.dirty = false;
    if (!this.view?.visible || this.activeId === null) return;
    const run = await this.store.get(this.activeId);
    if (!run) return;
    const values = run.series
      .names()
      .sort()
      .flatMap((name) => {
        const last = run.series.get(name)?.last();
        return last ? [{ name, step: last.step, value: last.value }] : [];
      });
    this.post({ type: 'latest', runId: run.id, step: run.lastStep, rows: run.rowCount, values });
  }

  dispose(): void {
    clearInterval(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
