// The run dashboard: a WebviewPanel per run with full charts, the SA heatmap, the reliability
// diagram, the run's events and config, other runs overlaid for comparison, and exports (a chart as
// PNG, the run as CSV: docs/charts.md).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { executeRunAction } from './runActionCommands';
import type { OverlayRun } from '../../webview/contract';
import { DASHBOARD_MARKUP } from '../../webview/dashboard/markup';
import { exportRunCsv } from '../export/csv';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import type { RunStore } from '../store/runStore';
import type { RoleOverrides } from '../metrics/roles';
import { overlayRun, ViewBridge } from '../view/viewBridge';
import type { ViewPrefsStore } from '../view/viewPrefs';
import { handleWebviewMessage } from '../view/webviewCommands';
import { webviewHtml } from './webviewHtml';

export class DashboardPanels implements vscode.Disposable {
  private readonly panels = new Map<string, vscode.WebviewPanel>();
  /** Runs to overlay that the comparison table chose, by dashboard, until its webview is ready. */
  private readonly pendingOverlay = new Map<string, string[]>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: Hub,
    private readonly store: RunStore,
    private readonly monitor: AlertMonitor,
    private readonly metrics: () => RoleOverrides,
    private readonly prefs: ViewPrefsStore,
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
    const post = (message: unknown) => void panel.webview.postMessage(message);
    const onPrefs = (prefs: unknown) => post({ type: 'prefs', prefs });
    this.prefs.on('changed', onPrefs);
    const subscription = panel.webview.onDidReceiveMessage((message: unknown) =>
      handleWebviewMessage(message, {
        shownRunId: () => bridge.activeRunId,
        ready: () => {
          post({ type: 'prefs', prefs: this.prefs.current });
          return bridge.show(runId).then(() => this.sendOverlay(runId, panel));
        },
        show: (id) => bridge.show(id),
        stopRun: (id) => Promise.resolve(vscode.commands.executeCommand('lossradar.stopRun', { id })),
        runAction: (id, action, alertStep) => Promise.resolve(executeRunAction(id, action, alertStep)),
        openDashboard: (id) => this.open(id),
        overlay: async (ids, metrics) => post({ type: 'overlay', runs: await this.overlay(ids, metrics) }),
        savePrefs: (prefs) => this.prefs.merge(prefs),
        pickStep: (id, step) => bridge.pickStep(id, step),
        detail: (id, from, to, metrics) => bridge.detail(id, from, to, metrics),
        exportPng: (name, png) => this.exportPng(run.dir, name, png),
        exportCsv: (id) => this.exportCsv(id),
        refuse: (text) => void vscode.window.showWarningMessage(`Loss Radar: ${text}`),
      }),
    );
    panel.onDidDispose(() => {
      this.prefs.off('changed', onPrefs);
      subscription.dispose();
      bridge.dispose();
      this.panels.delete(runId);
      this.pendingOverlay.delete(runId);
    });
  }

  /**
   * Opens `runId`'s dashboard with `others` overlaid on its charts (the comparison table,
   * docs/compare.md). A new or hidden panel's webview loads first: it gets them once it is ready.
   */
  async openWithOverlay(runId: string, others: readonly string[]): Promise<void> {
    this.pendingOverlay.set(runId, others.filter((id) => id !== runId));
    const existing = this.panels.get(runId);
    const loaded = existing?.visible === true;
    await this.open(runId);
    if (loaded && existing) this.sendOverlay(runId, existing);
  }

  private sendOverlay(runId: string, panel: vscode.WebviewPanel): void {
    const ids = this.pendingOverlay.get(runId);
    if (!ids) return;
    this.pendingOverlay.delete(runId);
    void panel.webview.postMessage({ type: 'overlaySelect', runIds: ids });
  }

  private async overlay(runIds: string[], metrics: string[]): Promise<OverlayRun[]> {
    const out: OverlayRun[] = [];
    for (const id of runIds) {
      const run = await this.store.get(id);
      if (run) out.push(overlayRun(run, metrics, this.metrics(), 1000));
    }
    return out;
  }

  /** The webview cannot download: the host asks where and writes the PNG it was sent. */
  private async exportPng(runDir: string, name: string, png: Uint8Array): Promise<void> {
    const base = name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120) || 'chart';
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(path.dirname(runDir), `${base}.png`)),
      filters: { 'PNG image': ['png'] },
      title: 'Loss Radar: save the chart as PNG',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, png);
    void vscode.window.showInformationMessage(`Loss Radar: saved ${target.fsPath}`);
  }

  /** The run's metrics as CSV, written from the store (src/export/csv.ts). */
  private async exportCsv(runId: string): Promise<void> {
    const run = await this.store.get(runId);
    if (!run) throw new Error(`no run ${runId} in ${this.store.dir}`);
    await run.flush().catch(() => undefined);
    const base = `${run.meta.name}-${run.id}`.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 120);
    const target = await vscode.window.showSaveDialog({
      defaultUri: vscode.Uri.file(path.join(path.dirname(run.dir), `${base}.csv`)),
      filters: { CSV: ['csv'] },
      title: 'Loss Radar: save the run as CSV',
    });
    if (!target) return;
    const result = await exportRunCsv(run.dir, target.fsPath);
    const skipped = result.skipped > 0 ? ` (${result.skipped} unreadable lines of metrics.jsonl skipped)` : '';
    void vscode.window.showInformationMessage(`Loss Radar: saved ${result.rows.toLocaleString('en-US')} rows × ${result.metrics} metrics to ${target.fsPath}${skipped}`);
  }

  dispose(): void {
    for (const panel of this.panels.values()) panel.dispose();
  }
}
