// Runs the detectors on every live run of a hub and records what they find in the run's
// alerts.jsonl. Plain Node: the extension presents the alerts, `lossradar serve` prints them.
import { EventEmitter } from 'node:events';
import type { Hub } from '../hub/hub';
import type { MetricRow, Run } from '../store/run';
import type { Alert } from './alert';
import type { RoleOverrides } from '../metrics/roles';
import type { DetectorSettings } from './settings';
import { Watchdog } from './watchdog';

export interface AlertMonitorEvents {
  alert: [run: Run, alert: Alert];
}

export class AlertMonitor extends EventEmitter<AlertMonitorEvents> {
  private readonly watchdogs = new Map<string, Promise<Watchdog>>();
  // A detector that throws must not take the hub down with an unhandled rejection: it is said.
  private readonly onRows = (run: Run, rows: MetricRow[]) =>
    void this.ingest(run, rows).catch((err: unknown) => this.hub.emit('problem', `detectors failed on run ${run.id}: ${(err as Error)?.stack ?? String(err)}`));

  constructor(
    private readonly hub: Hub,
    private settings: Partial<DetectorSettings> = {},
    private metrics: RoleOverrides = {},
  ) {
    super();
    hub.on('rows', this.onRows);
  }

  /** New thresholds, and metric names chosen for a role, apply to runs that start from now on. */
  updateSettings(settings: Partial<DetectorSettings>, metrics: RoleOverrides = this.metrics): void {
    this.settings = settings;
    this.metrics = metrics;
  }

  openAlerts(runId: string): Promise<Alert[]> {
    return this.watchdogs.get(runId)?.then((w) => w.openAlerts()) ?? Promise.resolve([]);
  }

  dispose(): void {
    this.hub.off('rows', this.onRows);
  }

  private async ingest(run: Run, rows: MetricRow[]): Promise<void> {
    let pending = this.watchdogs.get(run.id);
    if (!pending) {
      pending = this.warmUp(run, rows[0]?.seq);
      this.watchdogs.set(run.id, pending);
    }
    const watchdog = await pending;
    for (const row of rows) {
      for (const change of watchdog.ingest(row)) {
        run.appendAlert(change.alert);
        this.emit('alert', run, change.alert);
      }
    }
  }

  /** A resumed run's earlier rows set the detectors' baselines again, silently. */
  private async warmUp(run: Run, firstNewSeq: number | undefined): Promise<Watchdog> {
    const watchdog = new Watchdog(this.settings, this.metrics);
    if (run.rowCount > 0) {
      try {
        await run.flush();
        // In chunks, the event loop free between them: a long run's history must not hold the hub.
        await run.storedRows((rows) => {
          for (const row of rows) {
            if (firstNewSeq !== undefined && row.seq !== undefined && row.seq >= firstNewSeq) return false;
            watchdog.ingest(row);
          }
        });
      } catch {
        // Nothing on disk yet: start fresh.
      }
    }
    return watchdog;
  }
}
