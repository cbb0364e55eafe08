// The open alerts of every run, indexed the ways the editor shows them: by run (sidebar, status bar,
// dashboard banner) and by the source line that logged the metric (diagnostics, decorations).
import { EventEmitter } from 'node:events';
import type { Alert } from '../detect/alert';

export interface LocatedAlert {
  runId: string;
  runName: string;
  alert: Alert;
}

export interface AlertBookEvents {
  changed: [];
  /** An episode began: the moment for a notification. */
  opened: [entry: LocatedAlert];
}

export class AlertBook extends EventEmitter<AlertBookEvents> {
  private readonly open = new Map<string, Map<string, LocatedAlert>>();
  /** When each run was first seen by this window: a later run is a newer run of its script. */
  private readonly order = new Map<string, number>();
  /** Per source file, the newest run that logged from it: the only one whose alerts its lines show. */
  private readonly owners = new Map<string, string>();

  /** A run started or resumed: it counts as newer than every run seen before it. */
  started(runId: string): void {
    if (!this.order.has(runId)) this.order.set(runId, this.order.size);
  }

  /**
   * `runId` logged a row from `file`. The newest run of a script takes over its lines: a rerun
   * replaces the older run's diagnostics and decorations at once, before it raises anything
   * (those alerts stay in the older run's own views and files).
   */
  logsFrom(runId: string, file: string): void {
    if (this.claimFile(runId, file)) this.emit('changed');
  }

  apply(runId: string, runName: string, alert: Alert): void {
    let forRun = this.open.get(runId);
    if (alert.state === 'closed') {
      if (!forRun?.delete(alert.id)) return;
    } else {
      if (!forRun) {
        forRun = new Map();
        this.open.set(runId, forRun);
      }
      const entry = { runId, runName, alert };
      forRun.set(alert.id, entry);
      if (alert.source) this.claimFile(runId, alert.source.file);
      this.emit('opened', entry);
    }
    this.emit('changed');
  }

  /** The run is gone (deleted): its alerts leave the editor. */
  clearRun(runId: string): void {
    const had = this.open.delete(runId);
    for (const [file, owner] of this.owners) if (owner === runId) this.owners.delete(file);
    if (had) this.emit('changed');
  }

  openFor(runId: string): Alert[] {
    return [...(this.open.get(runId)?.values() ?? [])].map((e) => e.alert);
  }

  hasOpen(runId: string): boolean {
    return (this.open.get(runId)?.size ?? 0) > 0;
  }

  /** Open alerts with a source, of the newest run of each file, grouped by file; within a file, by line. Critical first. */
  byFile(): Map<string, LocatedAlert[]> {
    const out = new Map<string, LocatedAlert[]>();
    for (const forRun of this.open.values()) {
      for (const entry of forRun.values()) {
        const file = entry.alert.source?.file;
        if (!file || file.startsWith('<') || this.owners.get(file) !== entry.runId) continue;
        const list = out.get(file) ?? [];
        list.push(entry);
        out.set(file, list);
      }
    }
    for (const list of out.values()) list.sort((a, b) => a.alert.source!.line - b.alert.source!.line || severityRank(b.alert) - severityRank(a.alert));
    return out;
  }

  /** True when `runId` became the file's owner. An older run still alerting never takes it back. */
  private claimFile(runId: string, file: string): boolean {
    this.started(runId);
    const owner = this.owners.get(file);
    if (owner === runId || (owner !== undefined && this.order.get(owner)! > this.order.get(runId)!)) return false;
    this.owners.set(file, runId);
    return true;
  }
}

function severityRank(a: Alert): number {
  return a.severity === 'critical' ? 1 : 0;
}

/** Text of an alert on its line: short enough to sit at the end of the code. */
export function inlineText(entry: LocatedAlert): string {
  const a = entry.alert;
  return `${a.severity === 'critical' ? '⛔' : '⚠'} Loss Radar · ${entry.runName} · step ${a.step}: ${a.kind} — ${a.message}`;
}

/** The metric's values around the alert step, for the hover: [step, value] pairs. */
export function valuesAround(steps: ArrayLike<number>, values: ArrayLike<number>, step: number, radius = 5): [number, number][] {
  let lo = 0;
  let hi = steps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (steps[mid] < step) lo = mid + 1;
    else hi = mid;
  }
  const out: [number, number][] = [];
  for (let i = Math.max(0, lo - radius); i < Math.min(steps.length, lo + radius + 1); i++) out.push([steps[i], values[i]]);
  return out;
}
