// Which alerts become a notification. A critical alert does when no other critical alert of its
// run is open (an explosion trips several detectors at once, and a stack of toasts says no more
// than the first). So does the first warning of a run, unless the user turned that off: warnings
// fire tens of steps before the explosion, and one seen only in the sidebar is easy to miss.
import type { Alert } from '../detect/alert';

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
