// The comparison table (docs/compare.md): one WebviewPanel for the window, opened by "Compare Runs"
// (palette and the Runs view's title bar). What it shows comes from src/view/compareBridge.ts; what
// it asks is handled by the one webview handler (src/view/webviewCommands.ts).
import * as vscode from 'vscode';
import { COMPARE_MARKUP, COMPARE_SCRIPT, COMPARE_STYLE } from '../../webview/compare/markup';
import type { Hub } from '../hub/hub';
import type { RoleOverrides } from '../metrics/roles';
import type { RunStore } from '../store/runStore';
import { CompareBridge } from '../view/compareBridge';
import { handleWebviewMessage } from '../view/webviewCommands';
import type { DashboardPanels } from './dashboardPanel';
import { webviewHtml } from './webviewHtml';

export class ComparePanel implements vscode.Disposable {
  static readonly viewType = 'lossradar.compare';
  private panel: { panel: vscode.WebviewPanel; bridge: CompareBridge } | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly store: RunStore,
    private readonly hub: Hub,
    private readonly dashboards: DashboardPanels,
    private readonly metrics: () => RoleOverrides,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  open(): void {
    if (this.panel) return this.panel.panel.reveal();
    const panel = vscode.window.createWebviewPanel(ComparePanel.viewType, 'Loss Radar: Compare Runs', vscode.ViewColumn.Active, {
      enableScripts: true,
      // The webview keeps its sort, filter and checked runs in its state; the host resends the rows.
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    });
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'radar.svg');
    panel.webview.html = webviewHtml(panel.webview, this.extensionUri, COMPARE_SCRIPT, COMPARE_STYLE, COMPARE_MARKUP);
    const bridge = new CompareBridge((message) => void panel.webview.postMessage(message), this.store, this.hub, {
      metrics: this.metrics,
      onError: (err) => this.output.warn(`comparison table: ${err.message}`),
    });
    this.panel = { panel, bridge };
    const subscription = panel.webview.onDidReceiveMessage((message: unknown) =>
      handleWebviewMessage(message, {
        // The table shows no one run: it may stop none.
        shownRunId: () => null,
        ready: () => bridge.show(),
        show: async () => undefined,
        stopRun: async () => undefined,
        openDashboard: (id) => this.dashboards.open(id),
        compare: ([first, ...others]) => this.dashboards.openWithOverlay(first, others),
        editTags: async (id) => {
          await vscode.commands.executeCommand('lossradar.setTags', { id });
        },
        refuse: (text) => void vscode.window.showWarningMessage(`Loss Radar: ${text}`),
      }),
    );
    panel.onDidDispose(() => {
      subscription.dispose();
      bridge.dispose();
      this.panel = undefined;
    });
  }

  dispose(): void {
    this.panel?.panel.dispose();
  }
}
