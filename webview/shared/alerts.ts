// The alerts of the shown run, by id: an alert record with state 'closed' ends the episode the
// 'open' record with the same id started.
import type { Alert } from '../contract';

export class AlertBook {
  private readonly byId = new Map<string, Alert>();

  clear(): void {
    this.byId.clear();
  }

  /** Takes opened and closed alerts (a reset's list or an `alerts` delta). */
  apply(alerts: readonly Alert[]): void {
    for (const alert of alerts) {
      if (!alert || typeof alert.id !== 'string') continue;
      this.byId.set(alert.id, alert);
    }
  }

  all(): Alert[] {
    return [...this.byId.values()].sort((a, b) => a.step - b.step);
  }

  /** Open alerts, critical first, newest first within a severity. */
  open(): Alert[] {
    return this.all()
      .filter((a) => a.state === 'open')
      .sort((a, b) => (a.severity === b.severity ? b.step - a.step : a.severity === 'critical' ? -1 : 1));
  }
}
