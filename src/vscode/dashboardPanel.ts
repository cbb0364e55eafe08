// The run dashboard: a WebviewPanel per run with full charts, the SA heatmap, the reliability
// diagram and the loss of other runs overlaid for comparison.
import * as vscode from 'vscode';
import type { SeriesPoints } from '../../webview/contract';
import { DASHBOARD_MARKUP } from '../../webview/dashboard/markup';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import type { RunStore } from '../store/runStore';
import { roleSeries, type RoleOverrides } from '../metrics/roles';
import { seriesPoints, ViewBridge } from '../view/viewBridge';
import { handleWebviewMessage } from '../view/webviewCommands';
import { webviewHtml } from './webviewHtml';

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: Hub,
    private readonly store: RunStore,
    private readonly monitor: AlertMonitor,
    private readonly metrics: () => RoleOverrides,
  ) {}

  async open(runId: string): Promise<void> {
    const existing = this.panels.get(runId);
    if (existing) return existing.reveal();
    const run = await this.store.get(runId);
    if (!run) throw new Error(`no run ${runId} in ${this.store.dir}`);
    const panel = vscode.window.createWebviewPanel('lossradar.dashboard', `Loss Radar: ${run.meta.name}`, vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'radar.svg');
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, 'dashboard.js', 'dashboard.css', DASHBOARD_MARKUP);
    const bridge = new ViewBridge((message) => void panel.webview.postMessage(message), this.store, this.hub, this.monitor, { snapshotBuckets: 2000, metrics: this.metrics });
    this.panels.set(runId, panel);
    const subscription = panel.webview.onDidReceiveMessage((message: unknown) =>
      handleWebviewMessage(message, {
        shownRunId: () => bridge.activeRunId,
        ready: () => bridge.show(runId),
        show: (id) => bridge.show(id),
        stopRun: (id) => Promise.resolve(vscode.commands.executeCommand('lossradar.stopRun', { id })),
        openDashboard: (id) => this.open(id),
        overlay: async (ids) => void panel.webview.postMessage({ type: 'overlay', runs: await this.overlay(ids) }),
        refuse: (text) => void vscode.window.showWarningMessage(`Loss Radar: ${text}`),
      }),
    );
    panel.onDidDispose(() => {
      subscription.dispose();
      bridge.dispose();
      this.panels.delete(runId);
    });
  }

  private async overlay(runIds: string[]): Promise<{ id: string; name: string; loss: SeriesPoints }[]> {
    const out: { id: string; name: string; loss: SeriesPoints }[] = [];
    for (const id of runIds) {
      const run = await this.store.get(id);
      const loss = run && roleSeries(run.series, 'loss', this.metrics());
      if (!run || !loss) continue;
      out.push({ id, name: run.meta.name, loss: seriesPoints(loss, 1000) });
    }
    return out;
  }

  dispose(): void {
    for (const panel of this.panels.values()) panel.dispose();
  }
}
