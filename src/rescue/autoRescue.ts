// The rescue policy's trigger (docs/rescue.md): when the watchdog opens a critical alert (the loss is
// exploding or non-finite now) on a connected run whose SDK announced `rescue.mode: 'auto'`, the
// hub sends it `rescue` with the alert's opening step. The decision lives here, beside the one
// implementation of detection (src/detect/), not in a second detector in Python; the SDK owns the
// rest: which snapshot, how much lower the lr, at most `maxRescues` times, and the run's events.
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Alert } from '../detect/alert';
import type { Hub } from '../hub/hub';
import type { Run } from '../store/run';
import { answeredStep } from './actions';

export class AutoRescue {
  private readonly onAlert = (run: Run, alert: Alert) => this.consider(run, alert);

  constructor(
    private readonly hub: Hub,
    private readonly monitor: AlertMonitor,
    /** Told of each rescue asked for, for a log line. */
    private readonly said: (runId: string, alert: Alert) => void = () => undefined,
  ) {
    monitor.on('alert', this.onAlert);
  }

  private consider(run: Run, alert: Alert): void {
    if (alert.severity !== 'critical' || alert.state !== 'open') return;
    if (this.hub.capabilities(run.id)?.rescue?.mode !== 'auto') return;
    // Every critical that opens is sent: one blow-up trips several detectors, and the rows just
    // after a roll back still sit in their windows, so the SDK takes a rescue whose step is within
    // a grace of rows after the last one it applied for the same blow-up (docs/rescue.md).
    if (this.hub.sendCommand(run.id, { command: 'rescue', step: answeredStep(alert) })) this.said(run.id, alert);
  }

  dispose(): void {
    this.monitor.off('alert', this.onAlert);
  }
}
