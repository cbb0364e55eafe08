// The "Live" sidebar view: the active run's charts and open alerts, fed by a ViewBridge.
import * as vscode from 'vscode';
import { isWebviewToHost } from '../../webview/contract';
import { LIVE_MARKUP } from '../../webview/live/markup';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import type { RunStore } from '../store/runStore';
import { ViewBridge } from '../view/viewBridge';
import { webviewHtml } from './webviewHtml';

export class LiveViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'lossradar.live';
  private bridge: ViewBridge | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private preferred: string | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: Hub,
    private readonly store: RunStore,
    private readonly monitor: AlertMonitor,
  ) {
    // A run that starts becomes the one shown: it is what the user just launched.
    const onStarted = (run: { id: string }) => {
      this.preferred = run.id;
      void this.bridge?.show(run.id);
    };
    hub.on('runStarted', onStarted);
    this.disposables.push({ dispose: () => hub.off('runStarted', onStarted) });
  }

  get activeRunId(): string | null {
    return this.bridge?.activeRunId ?? this.preferred;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist'), vscode.Uri.joinPath(this.extensionUri, 'media')],
    };
    view.webview.html = webviewHtml(view.webview, this.extensionUri, 'live.js', 'live.css', LIVE_MARKUP);
    this.bridge?.dispose();
    const bridge = new ViewBridge((message) => void view.webview.postMessage(message), this.store, this.hub, this.monitor);
    this.bridge = bridge;
    this.disposables.push(
      view.webview.onDidReceiveMessage((message: unknown) => {
        if (!isWebviewToHost(message)) return;
        switch (message.type) {
          case 'ready':
            void bridge.show(this.preferred);
            break;
          case 'selectRun':
            this.preferred = message.runId;
            void bridge.show(message.runId);
            break;
          case 'stopRun':
            void vscode.commands.executeCommand('lossradar.stopRun', { id: message.runId });
            break;
          case 'openDashboard':
            void vscode.commands.executeCommand('lossradar.openDashboard', { id: message.runId });
            break;
          case 'setOverlay':
            break;
        }
      }),
      view.onDidDispose(() => {
        bridge.dispose();
        if (this.bridge === bridge) this.bridge = undefined;
      }),
    );
  }

  dispose(): void {
    this.bridge?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
