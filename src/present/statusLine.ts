// What the status-bar item says about the run the sidebar shows. Plain data, so its wording is
// tested without VS Code.
import type { Alert } from '../detect/alert';
import { fmt } from '../detect/detector';
import type { RunStatus } from '../store/meta';

export interface StatusLineInput {
  name: string;
  status: RunStatus;
  step: number | null;
  /** The training loss's latest value (NaN and ±Infinity included), when it has one. */
  loss: number | undefined;
  alerts: readonly Alert[];
}

export interface StatusLine {
  text: string;
  tooltip: string;
  /** Background: error while a critical alert is open, warning while any other is. */
  tone: 'critical' | 'warning' | 'normal';
}

const ICON: Record<RunStatus, string> = {
  running: 'pulse',
  completed: 'pass',
  failed: 'error',
  stopped: 'debug-stop',
  interrupted: 'debug-disconnect',
};

export function statusLine(input: StatusLineInput): StatusLine {
  const { alerts } = input;
  const critical = alerts.some((a) => a.severity === 'critical');
  const icon = alerts.length ? 'warning' : ICON[input.status];
  const parts = [input.name];
  if (input.status !== 'running') parts.push(input.status);
  parts.push(`step ${input.step ?? '–'}`, `loss ${input.loss === undefined ? '–' : fmt(input.loss)}`);
  return {
    text: `$(${icon}) ${parts.join(' · ')}`,
    tooltip: alerts.length
      ? alerts.map((a) => `${a.severity}: ${a.message} (step ${a.step})`).join('\n')
      : `Loss Radar: ${input.name} is ${input.status}, no open alert. Click for the dashboard.`,
    tone: critical ? 'critical' : alerts.length ? 'warning' : 'normal',
  };
}
