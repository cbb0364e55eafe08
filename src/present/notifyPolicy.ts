// Which alerts become a notification. A critical alert does when no other critical alert of its
// run is open (an explosion trips several detectors at once, and a stack of toasts says no more
// than the first). So does the first warning of a run, unless the user turned that off: warnings
// fire tens of steps before the explosion, and one seen only in the sidebar is easy to miss.
import type { Alert } from '../detect/alert';
import type { ActionInfo } from '../rescue/actions';

/**
 * The buttons of an alert's notification: what the run's SDK can do (docs/rescue.md: Roll Back
 * first, the most complete answer to a blow-up), then Stop Run while the run is live, then Open
 * Dashboard. A run that ended offers only the dashboard.
 */
export function notificationActions(running: boolean, offered: readonly ActionInfo[]): string[] {
  if (!running) return ['Open Dashboard'];
  const order = ['rollback', 'lower-lr', 'checkpoint'];
  const labels = [...offered].sort((a, b) => order.indexOf(a.action) - order.indexOf(b.action)).map((a) => a.label);
  return [...labels, 'Stop Run', 'Open Dashboard'];
}

export class NotifyPolicy {
  /** Runs that have notified once: their later warnings stay in the sidebar. */
  private readonly warned = new Set<string>();

  constructor(private readonly firstWarning: () => boolean) {}

  /** Called for each alert that opens, with the run's other open alerts; true when it should notify. */
  opened(runId: string, alert: Alert, others: readonly Alert[]): boolean {
    if (alert.severity === 'critical') {
      this.warned.add(runId);
      return !others.some((a) => a.severity === 'critical');
    }
    if (this.warned.has(runId) || !this.firstWarning()) return false;
    this.warned.add(runId);
    return true;
  }
}
