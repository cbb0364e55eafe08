// The "Live" sidebar view: the active run's charts and open alerts, fed by a ViewBridge.
import * as vscode from 'vscode';
import { executeRunAction } from './runActionCommands';
import { LIVE_MARKUP } from '../../webview/live/markup';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import type { RunStore } from '../store/runStore';
import type { RoleOverrides } from '../metrics/roles';
import { ViewBridge } from '../view/viewBridge';
import type { ViewPrefsStore } from '../view/viewPrefs';
import { handleWebviewMessage } from '../view/webviewCommands';
import { webviewHtml } from './webviewHtml';

export class LiveViewProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  static readonly viewId = 'lossradar.live';
  private bridge: ViewBridge | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private preferred: string | null = null;
  private readonly activeChanged = new vscode.EventEmitter<string | null>();
  /** The run the sidebar shows (or will show when opened) changed: the status bar follows it. */
  readonly onDidChangeActiveRun = this.activeChanged.event;
  private lastActive: string | null = null;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly hub: Hub,
    private readonly store: RunStore,
    private readonly monitor: AlertMonitor,
    private readonly metrics: () => RoleOverrides,
    private readonly prefs: ViewPrefsStore,
  ) {
    // A run that starts becomes the one shown: it is what the user just launched.
    const onStarted = (run: { id: string }) => {
      this.preferred = run.id;
      this.noteActive();
      void this.bridge?.show(run.id).catch(() => undefined);
    };
    hub.on('runStarted', onStarted);
    this.disposables.push({ dispose: () => hub.off('runStarted', onStarted) }, this.activeChanged);
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
    const bridge = new ViewBridge((message) => void view.webview.postMessage(message), this.store, this.hub, this.monitor, {
      onShow: () => this.noteActive(),
      metrics: this.metrics,
    });
    this.bridge = bridge;
    const onPrefs = (prefs: unknown) => void view.webview.postMessage({ type: 'prefs', prefs });
    this.prefs.on('changed', onPrefs);
    this.disposables.push(
      { dispose: () => this.prefs.off('changed', onPrefs) },
      view.webview.onDidReceiveMessage((message: unknown) =>
        handleWebviewMessage(message, {
          shownRunId: () => bridge.activeRunId,
          ready: () => {
            onPrefs(this.prefs.current);
            return bridge.show(this.preferred);
          },
          savePrefs: (prefs) => this.prefs.merge(prefs),
          show: (runId) => {
            this.preferred = runId;
            this.noteActive();
            return bridge.show(runId);
          },
          stopRun: (runId) => Promise.resolve(vscode.commands.executeCommand('lossradar.stopRun', { id: runId })),
          runAction: (runId, action, alertStep) => Promise.resolve(executeRunAction(runId, action, alertStep)),
          openDashboard: (runId) => Promise.resolve(vscode.commands.executeCommand('lossradar.openDashboard', { id: runId })),
          refuse: (text) => void vscode.window.showWarningMessage(`Loss Radar: ${text}`),
        }),
      ),
      view.onDidDispose(() => {
        bridge.dispose();
        if (this.bridge === bridge) this.bridge = undefined;
      }),
    );
  }

  private noteActive(): void {
    const active = this.activeRunId;
    if (active === this.lastActive) return;
    this.lastActive = active;
    this.activeChanged.fire(active);
  }

  dispose(): void {
    this.bridge?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
