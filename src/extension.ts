// Wires the plain-Node parts (hub, store, discovery) to VS Code's surfaces. No logic lives here.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultDiscoveryDir, publishHub } from './discovery/discovery';
import { Hub } from './hub/hub';
import { RunStore, type RunSummary } from './store/runStore';
import { LiveViewProvider } from './vscode/liveView';
import { RunsTreeProvider } from './vscode/runsTree';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration('lossradar');
  const output = vscode.window.createOutputChannel('Loss Radar', { log: true });
  context.subscriptions.push(output);

  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const runsSetting = config.get<string>('runsFolder', '.lossradar/runs');
  const runsDir = path.isAbsolute(runsSetting) ? runsSetting : path.join(folder ?? context.globalStorageUri.fsPath, runsSetting);
  const store = new RunStore(runsDir);
  const hub = new Hub({ store, port: config.get<number>('hub.port', 0) });
  hub.on('problem', (message) => output.warn(message));
  store.on('problem', (message) => output.warn(message));
  hub.on('runStarted', (run, resumed) => output.info(`${resumed ? 'resumed' : 'started'} run ${run.id}`));
  context.subscriptions.push({ dispose: () => void hub.close().then(() => store.dispose()) });

  const { url } = await hub.listen();
  output.info(`hub listening on ${url}, runs in ${runsDir}`);

  // Zero configuration: `python train.py` in any integrated terminal of this window finds the hub.
  const env = context.environmentVariableCollection;
  env.description = 'Loss Radar: lets training scripts started here stream metrics to this window.';
  env.replace('LOSSRADAR_URL', url);
  env.replace('LOSSRADAR_TOKEN', hub.token);

  // Notebook kernels and external terminals find it through the discovery directory.
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (folders.length > 0) {
    const unpublish = await publishHub(defaultDiscoveryDir(), { url, token: hub.token, pid: process.pid, folders, startedAt: Date.now() / 1000 });
    context.subscriptions.push({ dispose: () => void unpublish() });
  }

  const live = new LiveViewProvider(context.extensionUri, hub, store);
  const tree = new RunsTreeProvider(store);
  context.subscriptions.push(
    live,
    tree,
    vscode.window.registerWebviewViewProvider(LiveViewProvider.viewId, live, { webviewOptions: { retainContextWhenHidden: false } }),
    vscode.window.registerTreeDataProvider('lossradar.runs', tree),
    vscode.commands.registerCommand('lossradar.refreshRuns', () => tree.refresh()),
    vscode.commands.registerCommand('lossradar.startHub', () => {
      void vscode.window.showInformationMessage(`Loss Radar hub is listening on ${hub.url}; runs are stored in ${runsDir}.`);
    }),
    vscode.commands.registerCommand('lossradar.stopRun', async (item?: RunSummary) => {
      const live = hub.liveRunIds();
      const runId = item?.id ?? (live.length === 1 ? live[0] : await vscode.window.showQuickPick(live, { placeHolder: 'Run to stop' }));
      if (!runId) return;
      if (!hub.sendCommand(runId, 'stop')) void vscode.window.showWarningMessage(`Run ${runId} is not connected.`);
    }),
    vscode.commands.registerCommand('lossradar.openDashboard', async (item?: RunSummary) => {
      const runId = item?.id ?? live.activeRunId;
      if (!runId) return void vscode.window.showInformationMessage('No run yet.');
      await vscode.commands.executeCommand('lossradar.live.focus');
    }),
    vscode.commands.registerCommand('lossradar.launchExperiment', () => {
      void vscode.window.showInformationMessage(
        'Launching experiments from the palette is not built yet. Run your script in an integrated terminal: it already knows this window\'s hub.',
      );
    }),
  );
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
