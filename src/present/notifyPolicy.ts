// Which alerts become a notification. A critical alert always does (once per run while one is open:
// an explosion trips several detectors at once, and a stack of toasts says no more than the
// first). So does the first warning of a run, unless the user turned that off: warnings fire tens
// of steps before the explosion, and one seen only in the sidebar is easy to miss.
import type { Alert } from '../detect/alert';

export class NotifyPolicy {
  private readonly warned = new Set<string>();
  private readonly critical = new Set<string>();

  constructor(private readonly firstWarning: () => boolean) {}

  /** Called for each alert that opens; true when it should notify. */
  opened(runId: string, alert: Alert): boolean {
    if (alert.severity === 'critical') {
      if (this.critical.has(runId)) return false;
      this.critical.add(runId);
      this.warned.add(runId);
      return true;
    }
    if (this.warned.has(runId) || !this.firstWarning()) return false;
    this.warned.add(runId);
    return true;
  }

  /** The run's open alerts changed: once no critical one is open, the next critical notifies again. */
  openNow(runId: string, open: readonly Alert[]): void {
    if (!open.some((a) => a.severity === 'critical')) this.critical.delete(runId);
  }
}
