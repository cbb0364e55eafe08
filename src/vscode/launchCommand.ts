// "Loss Radar: Launch Experiment": pick an experiment (the workspace's and the built-in ones),
// check the interpreter, launch it against this window's hub.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { builtInExperiments, commandLine, describeCommand, loadExperiments, type LoadedExperiment } from '../launch/experiments';
import type { Launcher } from '../launch/launcher';
import { preflight } from '../launch/preflight';
import { pythonInterpreter, selectInterpreter } from './pythonInterpreter';

export async function launchExperiment(launcher: Launcher, sdkDir: string, output: vscode.LogOutputChannel): Promise<string | undefined> {
  const folder = vscode.workspace.workspaceFolders?.[0];
  const workspace = folder?.uri.fsPath ?? process.cwd();
  const { python, from } = await pythonInterpreter(folder?.uri);
  const own = await loadExperiments(path.join(workspace, '.lossradar', 'experiments'));
  for (const problem of own.problems) {
    output.warn(`${problem.file}: ${problem.message}`);
    void vscode.window.showWarningMessage(`Loss Radar: ${path.basename(problem.file)}: ${problem.message}`, 'Open File').then((choice) => {
      if (choice) void vscode.window.showTextDocument(vscode.Uri.file(problem.file));
    });
  }
  const all: LoadedExperiment[] = [...own.experiments, ...(await builtInExperiments(sdkDir))];
  const picked = await vscode.window.showQuickPick(
    all.map((e) => ({
      label: e.experiment.name,
      description: e.file ? path.relative(workspace, e.file) : `built-in${e.experiment.description ? ` · ${e.experiment.description}` : ''}`,
      detail: describeCommand(commandLine(e.experiment, python, workspace)),
      e,
    })),
    { placeHolder: `Experiment to launch (Python from ${from}: ${python})`, matchOnDetail: true },
  );
  if (!picked) return undefined;
  const cmd = commandLine(picked.e.experiment, python, workspace);
  const check = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Loss Radar: checking ${cmd.command}` }, () => preflight(cmd.command));
  if (!check.ok) {
    // Torch is missing from this interpreter: installing it there is one fix, picking the
    // interpreter that has it (a venv, conda) is the other, and often the right one.
    const fixes = check.problem === 'missing-torch' ? ['Install PyTorch', 'Select Interpreter'] : ['Select Interpreter', 'Open Settings'];
    const choice = await vscode.window.showErrorMessage(`Loss Radar: ${check.message}`, ...fixes);
    if (choice === 'Install PyTorch') {
      const terminal = vscode.window.createTerminal('Install PyTorch');
      terminal.show();
      terminal.sendText(`"${cmd.command}" -m pip install torch`);
    } else if (choice === 'Select Interpreter') {
      await selectInterpreter(folder?.uri);
    } else if (choice === 'Open Settings') {
      void vscode.commands.executeCommand('workbench.action.openSettings', 'lossradar.pythonPath');
    }
    return undefined;
  }
  const runId = await launcher.launch(picked.e.experiment.name, cmd, { experiment: picked.e.experiment.name });
  output.info(`launched ${runId}: ${describeCommand(cmd)} (torch ${check.torch})`);
  return runId;
}
