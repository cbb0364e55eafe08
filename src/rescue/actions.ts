// The editor's actions on a live run (docs/rescue.md), in one place for every surface that offers
// them (the notification, the hover, the palette): their labels, their VS Code command ids, and the
// hub command each sends. A surface offers only what the run's SDK announced it can do.
import type { Capabilities, Command, RunAction } from '../protocol/wire';

export interface ActionInfo {
  action: RunAction;
  label: string;
  /** The VS Code command (package.json) that carries it out. */
  commandId: string;
}

export const RUN_ACTIONS: readonly ActionInfo[] = [
  { action: 'checkpoint', label: 'Checkpoint Now', commandId: 'lossradar.checkpointNow' },
  { action: 'lower-lr', label: 'Lower Learning Rate', commandId: 'lossradar.lowerLearningRate' },
  { action: 'rollback', label: 'Roll Back', commandId: 'lossradar.rollBack' },
];

/** The factor "Lower Learning Rate" and "Roll Back" multiply the lr by (the SDK's default too). */
export const LR_FACTOR = 0.5;

/** The actions a run offers, in the order shown; none when it is not connected or never said. */
export function offeredActions(capabilities: Capabilities | null): ActionInfo[] {
  const armed = new Set<string>(capabilities?.actions ?? []);
  return RUN_ACTIONS.filter((a) => armed.has(a.action));
}

/** The hub command of an action; `alertStep`, where the action answers an alert, is its `answeredStep`. */
export function commandFor(action: RunAction, alertStep?: number): Command {
  switch (action) {
    case 'checkpoint':
      return { command: 'checkpoint' };
    case 'lower-lr':
      return { command: 'lower-lr', factor: LR_FACTOR };
    case 'rollback':
      return alertStep === undefined ? { command: 'rollback', factor: LR_FACTOR } : { command: 'rollback', step: alertStep, factor: LR_FACTOR };
  }
}

/**
 * The step an action on an alert answers: the first row of the alert's evidence where its detector
 * names one (`values.from`: a spike held two rows opens on the second, and the weights to undo are
 * those that made the first), else the row that opened it. A roll back restores the newest snapshot
 * from before the weights that made that row's loss (docs/rescue.md).
 */
export function answeredStep(alert: { step: number; values: Record<string, number> }): number {
  const from = alert.values.from;
  return Number.isSafeInteger(from) && from >= 0 && from <= alert.step ? from : alert.step;
}

export function actionByLabel(label: string | undefined): ActionInfo | undefined {
  return RUN_ACTIONS.find((a) => a.label === label);
}
