// One alert per episode: an alert opens when its condition first holds and closes after the metric
// has been quiet for `clearRows` rows, however many rows in between would have fired.
import type { Alert, AlertKind, Severity } from './alert';

export interface Draft {
  kind: AlertKind;
  severity: Severity;
  metric: string;
  message: string;
  values: Record<string, number>;
}

export interface AlertChange {
  change: 'opened' | 'closed';
  alert: Alert;
}

export class EpisodeBook {
  private readonly open = new Map<string, { alert: Alert; quiet: number }>();

  constructor(private readonly clearRows: number) {}

  /** Called once per row for each episode key a detector judges. */
  judge(key: string, firing: boolean, step: number, source: Alert['source'], draft: () => Draft, out: AlertChange[]): void {
    const current = this.open.get(key);
    if (firing) {
      if (current) {
        current.quiet = 0;
        return;
      }
      const d = draft();
      // The episode key, not the kind: two detectors of one kind (grad-spike and grad-growth) can open
      // on one metric at one step, and an id they shared would close both.
      const alert: Alert = { id: `${key}@${step}`, ...d, step, state: 'open' };
      if (source) alert.source = source;
      this.open.set(key, { alert, quiet: 0 });
      out.push({ change: 'opened', alert });
      return;
    }
    if (!current) return;
    current.quiet += 1;
    if (current.quiet >= this.clearRows) {
      this.open.delete(key);
      out.push({ change: 'closed', alert: { ...current.alert, state: 'closed', closedStep: step } });
    }
  }

  openAlerts(): Alert[] {
    return [...this.open.values()].map((e) => e.alert);
  }
}
