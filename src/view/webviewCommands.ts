// What a webview may ask of the host, handled once for the sidebar and the dashboard. A webview is
// less trusted than the host (docs/protocol.md "Webviews"): its message is validated, it may stop
// only the run it shows, and whatever an action throws becomes a clear refusal, never an unhandled
// rejection in the extension host.
import { isWebviewToHost } from '../../webview/contract';

export interface WebviewActions {
  /** The run the view shows now (the only one it may stop). */
  shownRunId(): string | null;
  /** The view loaded: show what it should show first. */
  ready(): Promise<void>;
  show(runId: string): Promise<void>;
  stopRun(runId: string): Promise<unknown>;
  openDashboard(runId: string): Promise<unknown>;
  /** Dashboard only. */
  overlay?(runIds: string[]): Promise<void>;
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
      case 'openDashboard':
        await actions.openDashboard(message.runId);
        break;
      case 'setOverlay':
        await actions.overlay?.(message.runIds);
        break;
    }
  } catch (err) {
    actions.refuse(`${message.type}: ${(err as Error).message}`);
  }
}
