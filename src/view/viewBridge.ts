// What a webview sees of one run: a full snapshot when it asks, then deltas coalesced to at most
// 10 messages a second. Plain Node: the VS Code side only hands it a `post` function.
import type { HostToWebview, ReliabilityBins, RunStatus, SeriesPoints } from '../../webview/contract';
import type { Alert } from '../detect/alert';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import type { Distribution, Reliability } from '../protocol/wire';
import { downsampleM4 } from '../store/downsample';
import type { MetricRow, Run } from '../store/run';
import type { RunStore, RunSummary } from '../store/runStore';
import type { Series } from '../store/series';

export interface ViewBridgeOptions {
  /** Buckets per metric in a snapshot; M4 keeps up to 4 points a bucket, extrema and non-finite included. */
  snapshotBuckets?: number;
  coalesceMs?: number;
}

export class ViewBridge {
  private activeId: string | null = null;
  private pending = new Map<string, SeriesPoints>();
  private pendingAlerts: Alert[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastFlushAt = Number.NEGATIVE_INFINITY;
  private generation = 0;
  private readonly buckets: number;
  private readonly coalesceMs: number;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly post: (message: HostToWebview) => void,
    private readonly store: RunStore,
    hub: Hub,
    monitor: AlertMonitor,
    options: ViewBridgeOptions = {},
  ) {
    this.buckets = options.snapshotBuckets ?? 1000;
    this.coalesceMs = options.coalesceMs ?? 100;
    const onRows = (run: Run, rows: MetricRow[]) => run.id === this.activeId && this.queueRows(rows);
    const onAlert = (run: Run, alert: Alert) => run.id === this.activeId && this.queueAlert(alert);
    const onDistribution = (run: Run, frame: Distribution | Reliability) => {
      if (run.id === this.activeId && frame.type === 'reliability') this.post({ type: 'reliability', runId: run.id, bins: toBins(frame) });
    };
    const onStatus = (run: Run) => run.id === this.activeId && this.post({ type: 'status', runId: run.id, status: run.status as RunStatus });
    // A runs folder that cannot be read now is read again at the next change.
    const onChanged = () => void this.postRuns().catch(() => undefined);
    hub.on('rows', onRows);
    hub.on('distribution', onDistribution);
    hub.on('runEnded', onStatus);
    hub.on('disconnected', onStatus);
    monitor.on('alert', onAlert);
    store.on('changed', onChanged);
    this.unsubscribe.push(
      () => hub.off('rows', onRows),
      () => hub.off('distribution', onDistribution),
      () => hub.off('runEnded', onStatus),
      () => hub.off('disconnected', onStatus),
      () => monitor.off('alert', onAlert),
      () => store.off('changed', onChanged),
    );
  }

  get activeRunId(): string | null {
    return this.activeId;
  }

  /** Shows `runId` (or the newest run when null) from scratch: runs list, then a snapshot. */
  async show(runId: string | null): Promise<void> {
    const generation = ++this.generation;
    const runs = await this.store.list();
    const id = runId ?? this.activeId ?? runs[0]?.id ?? null;
    this.activeId = id;
    this.pending.clear();
    this.pendingAlerts = [];
    this.post(runsMessage(runs, id));
    if (id === null) return;
    const run = await this.store.get(id);
    if (!run || generation !== this.generation) return;
    const [alerts, reliability] = await Promise.all([run.readAlerts<Alert>(), run.latestReliability()]);
    if (generation !== this.generation) return;
    // Rows that arrived while the files were read are in the snapshot already.
    this.pending.clear();
    this.pendingAlerts = [];
    this.post({
      type: 'reset',
      runId: id,
      status: run.status as RunStatus,
      series: this.snapshot(run),
      alerts,
      reliability: reliability ? toBins(reliability) : null,
    });
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const off of this.unsubscribe) off();
  }

  private async postRuns(): Promise<void> {
    const runs = await this.store.list();
    this.post(runsMessage(runs, this.activeId));
  }

  private snapshot(run: Run): Record<string, SeriesPoints> {
    const out: Record<string, SeriesPoints> = {};
    for (const name of run.series.names()) {
      const series = run.series.get(name)!;
      out[name] = seriesPoints(series, this.buckets);
    }
    return out;
  }

  private queueRows(rows: MetricRow[]): void {
    for (const row of rows) {
      for (const name in row.values) {
        let points = this.pending.get(name);
        if (!points) {
          points = { steps: [], values: [] };
          this.pending.set(name, points);
        }
        points.steps.push(row.step);
        points.values.push(row.values[name]);
      }
    }
    this.schedule();
  }

  private queueAlert(alert: Alert): void {
    this.pendingAlerts.push(alert);
    this.schedule();
  }

  /** No refresh floor: a change goes out at once unless a message went out less than coalesceMs ago. */
  private schedule(): void {
    if (this.timer) return;
    const delay = Math.max(0, this.lastFlushAt + this.coalesceMs - performance.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, delay);
  }

  private flush(): void {
    this.lastFlushAt = performance.now();
    const id = this.activeId;
    if (id === null) return;
    if (this.pendingAlerts.length > 0) {
      this.post({ type: 'alerts', runId: id, alerts: this.pendingAlerts });
      this.pendingAlerts = [];
    }
    if (this.pending.size > 0) {
      this.post({ type: 'append', runId: id, series: Object.fromEntries(this.pending) });
      this.pending = new Map();
    }
  }
}

function runsMessage(runs: RunSummary[], activeId: string | null): HostToWebview {
  return { type: 'runs', runs: runs.map((r) => ({ id: r.id, name: r.name, status: r.status, createdAt: r.createdAt })), activeId };
}

/** A series as a webview gets it: M4-downsampled to `buckets`, in plain arrays for postMessage. */
export function seriesPoints(series: Series, buckets: number): SeriesPoints {
  const points = downsampleM4(series.steps, series.values, buckets);
  return { steps: Array.from(points.steps), values: Array.from(points.values) };
}

function toBins(frame: Reliability): ReliabilityBins {
  return { step: frame.step, edges: frame.edges, confidence: frame.confidence, accuracy: frame.accuracy, counts: frame.counts };
}
