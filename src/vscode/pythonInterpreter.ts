// Which Python a launched experiment uses: the Python extension's active interpreter when that
// extension is installed, else the lossradar.pythonPath setting, else python3.
import * as vscode from 'vscode';

interface PythonEnvironmentsApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(env: { path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

export async function pythonInterpreter(folder: vscode.Uri | undefined): Promise<{ python: string; from: string }> {
  const ext = vscode.extensions.getExtension<PythonEnvironmentsApi>('ms-python.python');
  if (ext) {
    try {
      const api = ext.isActive ? ext.exports : await ext.activate();
      const envPath = api.environments?.getActiveEnvironmentPath(folder);
      if (envPath) {
        const resolved = await api.environments!.resolveEnvironment(envPath);
        const exe = resolved?.executable.uri?.fsPath;
        if (exe) return { python: exe, from: 'the Python extension' };
      }
    } catch {
      // Fall through to the setting: a broken Python extension must not block a launch.
    }
  }
  const setting = vscode.workspace.getConfiguration('lossradar', folder).get<string>('pythonPath', '').trim();
  if (setting) return { python: setting, from: 'lossradar.pythonPath' };
  return { python: 'python3', from: 'the default' };
}

/**
 * Lets the user pick another interpreter: the Python extension's picker when it is installed (its
 * choice is what pythonInterpreter reads first), else a file dialog that sets lossradar.pythonPath.
 */
export async function selectInterpreter(folder: vscode.Uri | undefined): Promise<void> {
  if (vscode.extensions.getExtension('ms-python.python')) {
    await vscode.commands.executeCommand('python.setInterpreter');
    return;
  }
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, openLabel: 'Use this Python', title: 'Loss Radar: the Python interpreter to launch experiments with', defaultUri: folder });
  if (!picked?.[0]) return;
  const target = folder ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
  await vscode.workspace.getConfiguration('lossradar', folder).update('pythonPath', picked[0].fsPath, target);
  void vscode.window.showInformationMessage(`Loss Radar: experiments now launch with ${picked[0].fsPath}.`);
}
