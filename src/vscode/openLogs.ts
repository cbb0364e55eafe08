// "Loss Radar: Open Logs…": TensorBoard folders, trainer_state.json, metrics.csv or DVCLive output
// become runs of the store (docs/import.md), read by the SDK's readers in the workspace's Python.
import * as vscode from 'vscode';
import { ImportLogsError, importLogs } from '../import/importLogs';
import type { RunStore } from '../store/runStore';
import { pythonInterpreter } from './pythonInterpreter';

export async function openLogs(store: Pick<RunStore, 'dir' | 'emit'>, sdk: string, output: vscode.LogOutputChannel): Promise<string[]> {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const picked = await vscode.window.showOpenDialog({
    canSelectFiles: true,
    canSelectFolders: true,
    canSelectMany: false,
    defaultUri: folder,
    openLabel: 'Open as Runs',
    title: 'Loss Radar: a TensorBoard log folder, a trainer_state.json, a metrics.csv or a DVCLive folder',
  });
  if (!picked?.[0]) return [];
  const { python } = await pythonInterpreter(folder);
  try {
    const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loss Radar: reading ${picked[0].fsPath}` }, () =>
      importLogs({ path: picked[0].fsPath, runsDir: store.dir, python, sdk }),
    );
    for (const w of [...result.warnings, ...result.errors]) output.warn(`import: ${w}`);
    store.emit('changed');
    const names = result.runs.map((r) => `"${r.name}" (${r.rows} rows)`).join(', ');
    const more = result.warnings.length + result.errors.length;
    void vscode.window
      .showInformationMessage(`Loss Radar: opened ${result.runs.length === 1 ? 'run' : `${result.runs.length} runs`} ${names}${more ? `; ${more} notes in the output` : ''}.`, ...(more ? ['Show Output'] : []))
      .then((c) => c && output.show());
    return result.runIds;
  } catch (err) {
    const message = err instanceof ImportLogsError ? err.message : `cannot read ${picked[0].fsPath}: ${(err as Error).message}`;
    void vscode.window.showErrorMessage(`Loss Radar: ${message}`);
    return [];
  }
}
