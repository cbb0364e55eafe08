// What a webview may ask of the host, handled once for the sidebar and the dashboard. A webview is
// less trusted than the host (docs/protocol.md "Webviews"): its message is validated, it may stop
// only the run it shows, and whatever an action throws becomes a clear refusal, never an unhandled
// rejection in the extension host.
import { isWebviewToHost, type RunAction, type ViewPrefs } from '../../webview/contract';

export interface WebviewActions {
  /** The run the view shows now (the only one it may stop). */
  shownRunId(): string | null;
  /** The view loaded: show what it should show first. */
  ready(): Promise<void>;
  show(runId: string): Promise<void>;
  stopRun(runId: string): Promise<unknown>;
  /** An alert's action (docs/rescue.md) on the shown run; views without alerts leave it out. */
  runAction?(runId: string, action: RunAction, alertStep: number | undefined): Promise<unknown>;
  openDashboard(runId: string): Promise<unknown>;
  /** Dashboard only: the runs to overlay and the metrics its charts draw. */
  overlay?(runIds: string[], metrics: string[]): Promise<void>;
  /** The workspace's view preferences changed in this view. */
  savePrefs?(prefs: ViewPrefs): Promise<void>;
  /** Dashboard only: the distributions at a step of the shown run. */
  pickStep?(runId: string, step: number | null): Promise<void>;
  /** Dashboard only: a chart's PNG to save where the user says. */
  exportPng?(name: string, png: Uint8Array): Promise<void>;
  /** Dashboard only: the shown run's metrics to save as CSV. */
  exportCsv?(runId: string): Promise<void>;
  /** Dashboard only: the points of steps [from, to] of the shown run, from disk (a zoom). */
  detail?(runId: string, from: number, to: number, metrics: string[] | null): Promise<void>;
  /** Comparison table only: open runIds[0]'s dashboard with the others overlaid (docs/compare.md). */
  compare?(runIds: string[]): Promise<void>;
  /** Comparison table only: ask the user for a run's tags. */
  editTags?(runId: string): Promise<void>;
  /** Says why a request was not carried out. */
  refuse(message: string): void;
}

export async function handleWebviewMessage(message: unknown, actions: WebviewActions): Promise<void> {
  if (!isWebviewToHost(message)) return;
  try {
    switch (message.type) {
      case 'ready':
        await actions.ready();
        break;
      case 'selectRun':
        await actions.show(message.runId);
        break;
      case 'stopRun': {
        const shown = actions.shownRunId();
        if (message.runId !== shown) {
          actions.refuse(`Stop Run from this view applies to the run it shows (${shown ?? 'none'}), not to ${message.runId}.`);
          return;
        }
        await actions.stopRun(message.runId);
        break;
      }
      case 'runAction': {
        const shown = actions.shownRunId();
        if (message.runId !== shown) {
          actions.refuse(`An alert's action from this view applies to the run it shows (${shown ?? 'none'}), not to ${message.runId}.`);
          return;
        }
        await actions.runAction?.(message.runId, message.action, message.alertStep);
        break;
      }
      case 'openDashboard':
        await actions.openDashboard(message.runId);
        break;
      case 'setOverlay':
        await actions.overlay?.(message.runIds, message.metrics ?? ['loss']);
        break;
      case 'compareRuns':
        await actions.compare?.(message.runIds);
        break;
      case 'editTags':
        await actions.editTags?.(message.runId);
        break;
      case 'savePrefs':
        await actions.savePrefs?.(message.prefs);
        break;
      case 'pickStep':
        if (message.runId !== actions.shownRunId()) return;
        await actions.pickStep?.(message.runId, message.step);
        break;
      case 'exportPng': {
        const png = Buffer.from(message.base64, 'base64');
        // The PNG signature: what the webview sends is saved only if it is an image.
        if (png.length < 8 || png.readUInt32BE(0) !== 0x89504e47) {
          actions.refuse('Export PNG: the chart did not give a PNG image.');
          return;
        }
        await actions.exportPng?.(message.name, png);
        break;
      }
      case 'detail':
        // A view asks only about the run it shows; a stale request (it switched since) is moot.
        if (message.runId !== actions.shownRunId()) return;
        await actions.detail?.(message.runId, message.from, message.to, message.metrics ?? null);
        break;
      case 'exportCsv': {
        const shown = actions.shownRunId();
        if (message.runId !== shown) {
          actions.refuse(`Export CSV from this view applies to the run it shows (${shown ?? 'none'}), not to ${message.runId}.`);
          return;
        }
        await actions.exportCsv?.(message.runId);
        break;
      }
    }
  } catch (err) {
    actions.refuse(`${message.type}: ${(err as Error).message}`);
  }
}
