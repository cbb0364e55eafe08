// Wires the plain-Node parts (hub, store, detectors, launcher, discovery) to VS Code's surfaces.
// No logic lives here: every piece it connects is tested on its own.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { AlertMonitor } from './detect/alertMonitor';
import { resolveSettings, type DetectorSettings } from './detect/settings';
import { defaultDiscoveryDir, publishHub } from './discovery/discovery';
import { Hub } from './hub/hub';
import type { MetricRole, RoleOverrides } from './metrics/roles';
import { Launcher } from './launch/launcher';
import { sdkPath } from './launch/trainerEnv';
import { AlertBook } from './present/alertBook';
import { RunStore, type RunSummary } from './store/runStore';
import { AlertPresenter } from './vscode/alertPresenter';
import { registerRunActions } from './vscode/runActionCommands';
import { AutoRescue } from './rescue/autoRescue';
import { answeredStep, offeredActions } from './rescue/actions';
import { DashboardPanels } from './vscode/dashboardPanel';
import { launchExperiment } from './vscode/launchCommand';
import { LiveViewProvider } from './vscode/liveView';
import { openLogs } from './vscode/openLogs';
import { RunsTreeProvider } from './vscode/runsTree';
import { ComparePanel } from './vscode/comparePanel';
import { filterRuns, setTags } from './vscode/runCommands';
import { RunStatusBar } from './vscode/statusBar';
import { ViewPrefsStore } from './view/viewPrefs';

type RunRef = Pick<RunSummary, 'id'> | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration('lossradar');
  const output = vscode.window.createOutputChannel('Loss Radar', { log: true });
  context.subscriptions.push(output);

  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  const runsSetting = config.get<string>('runsFolder', '.lossradar/runs');
  const runsDir = path.isAbsolute(runsSetting) ? runsSetting : path.join(folder ?? context.globalStorageUri.fsPath, runsSetting);
  const store = new RunStore(runsDir);
  // A reload keeps the window's port and token, so trainers it launched, and scripts started in its
  // terminals, reconnect to the new hub and resume their runs. Kept in workspace state: never in the
  // workspace's files.
  const saved = context.workspaceState.get<{ port: number; token: string }>('lossradar.hub');
  const hub = new Hub({ store, port: config.get<number>('hub.port', 0) || saved?.port || 0, token: saved?.token, fallbackToFreePort: true, portRetryMs: saved ? 5000 : 0 });
  const monitor = new AlertMonitor(hub, detectorSettings(output), metricOverrides());
  const sdk = sdkPath(context.extensionUri.fsPath);
  const launcher = new Launcher(hub, store, sdk);
  const book = new AlertBook();
  hub.on('problem', (message) => output.warn(message));
  store.on('problem', (message) => output.warn(message));
  hub.on('runStarted', (run, resumed) => {
    output.info(`${resumed ? 'resumed' : 'started'} run ${run.id}`);
    book.started(run.id);
  });
  // The first row a frame brings says which script the run is: its rerun takes over the lines.
  hub.on('rows', (run, rows) => {
    const file = rows[0]?.source?.file;
    if (file) book.logsFrom(run.id, file);
  });
  monitor.on('alert', (run, alert) => book.apply(run.id, run.meta.name, alert));
  launcher.on('output', (runId, _stream, text) => output.append(text.replace(/^(?=.)/gm, `[${runId}] `)));
  launcher.on('exited', (runId, exit, crashed, lastStderr) => {
    if (!crashed) return;
    void vscode.window.showErrorMessage(`Loss Radar: run ${runId} crashed (exit ${exit.code ?? exit.signal}): ${lastStderr.slice(-3).join(' ⏎ ')}`, 'Show Output').then((c) => c && output.show());
  });
  context.subscriptions.push(
    // Launched trainers are not stopped when the window goes: a reload (or a dropped Remote-SSH
    // connection) must not kill a training run. They re-attach to the next hub of this workspace,
    // which keeps its port and token, or write to the local store when no hub comes back.
    { dispose: () => void hub.close().then(() => store.dispose()) },
    { dispose: () => monitor.dispose() },
    vscode.workspace.onDidChangeConfiguration(
      (e) => (e.affectsConfiguration('lossradar.detect') || e.affectsConfiguration('lossradar.metrics')) && monitor.updateSettings(detectorSettings(output), metricOverrides()),
    ),
  );

  const { url } = await hub.listen();
  await context.workspaceState.update('lossradar.hub', { port: hub.port, token: hub.token });
  output.info(`hub listening on ${url}, runs in ${runsDir}`);

  // Zero configuration: `python train.py` in any integrated terminal of this window finds the hub.
  const env = context.environmentVariableCollection;
  env.description = 'Loss Radar: lets training scripts started here stream their metrics to this window.';
  env.replace('LOSSRADAR_URL', url);
  env.replace('LOSSRADAR_TOKEN', hub.token);

  // Notebook kernels and external terminals find it through the discovery directory.
  const folders = (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath);
  if (folders.length > 0) {
    const unpublish = await publishHub(defaultDiscoveryDir(), { url, token: hub.token, pid: process.pid, folders, startedAt: Date.now() / 1000 });
    context.subscriptions.push({ dispose: () => void unpublish() });
  }

  // Smoothing, x axis, log scales, the metrics charted: one setting for every view of the workspace.
  const viewPrefs = new ViewPrefsStore(context.workspaceState);
  const live = new LiveViewProvider(context.extensionUri, hub, store, monitor, metricOverrides, viewPrefs);
  const tree = new RunsTreeProvider(store, metricOverrides);
  const dashboards = new DashboardPanels(context.extensionUri, hub, store, monitor, metricOverrides, viewPrefs);
  const compare = new ComparePanel(context.extensionUri, store, hub, dashboards, metricOverrides, output);
  const runsView = vscode.window.createTreeView('lossradar.runs', { treeDataProvider: tree });
  tree.attach(runsView);
  const pickRun = async (ref: RunRef, onlyLive: boolean, placeHolder?: string): Promise<RunSummary | undefined> => {
    const all = await store.list();
    if (ref?.id) return all.find((r) => r.id === ref.id);
    const runs = all.filter((r) => !onlyLive || r.status === 'running');
    if (runs.length === 0) {
      void vscode.window.showInformationMessage(onlyLive ? 'Loss Radar: no run is running.' : 'Loss Radar: no run yet.');
      return undefined;
    }
    // One candidate is the one meant. Stopping with several live asks, even when the sidebar shows
    // one of them: stopping the wrong run loses hours. Other actions take the sidebar's run.
    if (runs.length === 1) return runs[0];
    const shown = runs.find((r) => r.id === live.activeRunId);
    if (shown && !onlyLive) return shown;
    const ordered = shown ? [shown, ...runs.filter((r) => r !== shown)] : runs;
    const picked = await vscode.window.showQuickPick(
      ordered.map((r) => ({ label: r.name, description: `${r.status}${r === shown ? ' · shown in the sidebar' : ''}`, detail: r.id, run: r })),
      { placeHolder: placeHolder ?? (onlyLive ? 'Which run to stop?' : 'Run') },
    );
    return picked?.run;
  };
  context.subscriptions.push(
    live,
    tree,
    dashboards,
    new AlertPresenter(book, store, (runId) => offeredActions(hub.capabilities(runId))),
    // docs/rescue.md: Checkpoint Now, Lower Learning Rate, Roll Back; a run whose policy is auto is rescued on a critical alert.
    ...registerRunActions(
      hub,
      (ref, onlyLive, placeHolder) => pickRun(ref.id ? { id: ref.id } : undefined, onlyLive, placeHolder),
      (runId) => book.openFor(runId).reduce<number | undefined>((min, a) => (min === undefined || answeredStep(a) < min ? answeredStep(a) : min), undefined),
    ),
    new AutoRescue(hub, monitor, (runId, alert) => output.appendLine(`[${runId}] asked the run to rescue itself (${alert.kind} at step ${alert.step})`)),
    new RunStatusBar(hub, store, book, live, metricOverrides),
    vscode.window.registerWebviewViewProvider(LiveViewProvider.viewId, live),
    runsView,
    compare,
    vscode.commands.registerCommand('lossradar.refreshRuns', () => tree.refresh()),
    // docs/compare.md: the comparison table, the Runs tree's filter, tags from the editor.
    vscode.commands.registerCommand('lossradar.compareRuns', () => compare.open()),
    vscode.commands.registerCommand('lossradar.filterRuns', () => filterRuns(tree)),
    vscode.commands.registerCommand('lossradar.clearRunsFilter', () => tree.setFilter(null)),
    vscode.commands.registerCommand('lossradar.setTags', async (ref: RunRef) => {
      const run = await pickRun(ref, false);
      if (!run) return;
      try {
        await setTags(store, run);
      } catch (err) {
        void vscode.window.showErrorMessage(`Loss Radar: cannot set the tags of run "${run.name}": ${(err as Error).message}`);
      }
    }),
    vscode.commands.registerCommand('lossradar.startHub', () => {
      void vscode.window.showInformationMessage(`Loss Radar hub is listening on ${hub.url}; runs are stored in ${runsDir}.`);
    }),
    vscode.commands.registerCommand('lossradar.openLogs', async () => {
      const [first] = await openLogs(store, sdk, output);
      if (first) await dashboards.open(first).catch(() => undefined);
    }),
    vscode.commands.registerCommand('lossradar.launchExperiment', async () => {
      const runId = await launchExperiment(launcher, sdk, output);
      if (runId) await vscode.commands.executeCommand('lossradar.live.focus');
    }),
    vscode.commands.registerCommand('lossradar.stopRun', async (ref: RunRef) => {
      const run = await pickRun(ref, true);
      if (!run) return;
      if (run.status !== 'running') {
        void vscode.window.showInformationMessage(`Loss Radar: run "${run.name}" has already ended (${run.status}).`);
        return;
      }
      const how = await launcher.stop(run.id);
      if (how === 'not-running') void vscode.window.showWarningMessage(`Loss Radar: run "${run.name}" is not connected to this window: stop its script where it runs.`);
    }),
    vscode.commands.registerCommand('lossradar.openDashboard', async (ref: RunRef) => {
      const run = await pickRun(ref, false);
      if (!run) return;
      try {
        await dashboards.open(run.id);
      } catch (err) {
        void vscode.window.showErrorMessage(`Loss Radar: cannot open the dashboard of run "${run.name}": ${(err as Error).message}`);
      }
    }),
    vscode.commands.registerCommand('lossradar.revealRun', async (ref: RunRef) => {
      const run = await pickRun(ref, false);
      if (run) await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(path.join(run.dir, 'meta.json')));
    }),
    vscode.commands.registerCommand('lossradar.deleteRun', async (ref: RunRef) => {
      const run = await pickRun(ref, false);
      if (!run) return;
      const ok = await vscode.window.showWarningMessage(`Delete run "${run.name}" and its files?`, { modal: true, detail: run.dir }, 'Delete');
      if (ok !== 'Delete') return;
      try {
        await store.delete(run.id);
        book.clearRun(run.id);
      } catch (err) {
        void vscode.window.showErrorMessage(`Loss Radar: ${(err as Error).message}`);
      }
    }),
  );
}

function detectorSettings(output: vscode.LogOutputChannel): Partial<DetectorSettings> {
  const section = vscode.workspace.getConfiguration('lossradar.detect');
  const partial: Record<string, unknown> = {};
  for (const key of Object.keys(resolveSettings())) {
    const inspected = section.inspect(key);
    const value = inspected?.workspaceFolderValue ?? inspected?.workspaceValue ?? inspected?.globalValue;
    if (value !== undefined) partial[key] = value;
  }
  try {
    resolveSettings(partial);
    return partial as Partial<DetectorSettings>;
  } catch (err) {
    output.error(`ignoring lossradar.detect settings: ${(err as Error).message}`);
    return {};
  }
}

/** The `lossradar.metrics.*` settings: the metric a user says plays each role (docs/metrics.md). */
function metricOverrides(): RoleOverrides {
  const section = vscode.workspace.getConfiguration('lossradar.metrics');
  const keys: Record<string, MetricRole> = { loss: 'loss', valLoss: 'loss/val', lr: 'lr', gradNorm: 'grad_norm' };
  const out: RoleOverrides = {};
  for (const [key, role] of Object.entries(keys)) {
    const name = section.get<string>(key, '').trim();
    if (name) out[role] = name;
  }
  return out;
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}
