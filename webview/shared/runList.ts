// The runs a view knows of and the status of the one it shows, kept the same way by the sidebar
// and the dashboard: a `runs` list is news about the shown run's status too (a run resumed while
// its dashboard was open must enable Stop again), and a `status` message updates the list.
import type { RunListItem, RunStatus } from '../contract';

export class RunList {
  runs: RunListItem[] = [];
  /** The shown run's status; null before the host said. */
  status: RunStatus | null = null;

  /** A `runs` message. */
  setRuns(runs: RunListItem[], shownId: string | null): void {
    this.runs = runs;
    const shown = shownId === null ? undefined : runs.find((r) => r.id === shownId);
    if (shown) this.status = shown.status;
  }

  /** A `status` or `reset` message for the shown run. */
  setStatus(runId: string, status: RunStatus): void {
    this.status = status;
    this.runs = this.runs.map((r) => (r.id === runId ? { ...r, status } : r));
  }

  find(runId: string | null): RunListItem | undefined {
    return runId === null ? undefined : this.runs.find((r) => r.id === runId);
  }
}
