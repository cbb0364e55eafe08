// "Checkpoint Now", "Lower Learning Rate", "Roll Back" (docs/rescue.md) as VS Code commands: from
// the palette (the run picked as Stop Run picks it), from the notification and the hover (with the
// run and the alert's step as arguments). The hub sends the command; the SDK applies it at its
// next log() and says what it did in the run's events.
import * as vscode from 'vscode';
import type { Hub } from '../hub/hub';
import type { RunAction } from '../protocol/wire';
import { commandFor, RUN_ACTIONS, type ActionInfo } from '../rescue/actions';
import type { RunSummary } from '../store/runStore';

/** What the commands take: a run (Runs tree item, notification) and, from an alert, its step. */
export interface RunActionRef {
  id?: string;
  alertStep?: number;
}

export function registerRunActions(
  hub: Hub,
  pickRun: (ref: RunActionRef, onlyLive: boolean, placeHolder: string) => Promise<RunSummary | undefined>,
  /** From the palette, no alert is named: a roll back goes to before the run's oldest open alert. */
  oldestOpenAlertStep: (runId: string) => number | undefined,
): vscode.Disposable[] {
  return RUN_ACTIONS.map((info) =>
    vscode.commands.registerCommand(info.commandId, async (ref: RunActionRef = {}) => {
      const run = await pickRun(ref ?? {}, true, `Which run to ${info.label.toLowerCase()}?`);
      if (!run) return;
      const step = typeof ref?.alertStep === 'number' ? ref.alertStep : oldestOpenAlertStep(run.id);
      await runAction(hub, run, info, step);
    }),
  );
}

/** An alert's action asked for from a webview (src/view/webviewCommands.ts), as its command. */
export function executeRunAction(runId: string, action: RunAction, alertStep: number | undefined): Thenable<unknown> {
  const info = RUN_ACTIONS.find((a) => a.action === action);
  return info ? vscode.commands.executeCommand(info.commandId, { id: runId, alertStep }) : Promise.resolve();
}

async function runAction(hub: Hub, run: RunSummary, info: ActionInfo, alertStep: number | undefined): Promise<void> {
  const armed: readonly string[] = hub.capabilities(run.id)?.actions ?? [];
  if (!armed.includes(info.action)) {
    const why =
      run.status !== 'running'
        ? `it has already ended (${run.status})`
        : hub.capabilities(run.id) === null
          ? 'it is not connected to this window'
          : `its script did not arm it (run.watch(model, optimizer=...)${info.action === 'rollback' ? ' with snapshots' : ''}; docs/rescue.md)`;
    void vscode.window.showWarningMessage(`Loss Radar: cannot ${info.label.toLowerCase()} on run "${run.name}": ${why}.`);
    return;
  }
  if (!hub.sendCommand(run.id, commandFor(info.action, alertStep))) {
    void vscode.window.showWarningMessage(`Loss Radar: run "${run.name}" is not connected to this window.`);
    return;
  }
  vscode.window.setStatusBarMessage(`Loss Radar: ${info.label} sent to "${run.name}"; its events will say when it is done.`, 5000);
}
