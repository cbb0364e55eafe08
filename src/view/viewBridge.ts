// What a webview sees of one run: a full snapshot when it asks, then deltas coalesced to at most
// 10 messages a second. Plain Node: the VS Code side only hands it a `post` function.
import type { HostToWebview, ReliabilityBins, SeriesPoints, ViewAlert, ViewNumber } from '../../webview/contract';
import type { Alert } from '../detect/alert';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import { encodeNumber } from '../protocol/numbers';
import type { Distribution, Reliability } from '../protocol/wire';
import { RoleResolver, type RoleOverrides } from '../metrics/roles';
import { Coalescer } from '../present/coalescer';
import { downsampleM4 } from '../store/downsample';
import type { MetricRow, Run } from '../store/run';
import type { RunStore, RunSummary } from '../store/runStore';
import type { Series } from '../store/series';

export interface ViewBridgeOptions {
  /** Buckets per metric in a snapshot; M4 keeps up to 4 points a bucket, extrema and non-finite included. */
  snapshotBuckets?: number;
  coalesceMs?: number;
  /** Told which run the view shows each time that is decided (the status bar follows the sidebar). */
  onShow?: (runId: string | null) => void;
  /** The metric a user says plays a role (lossradar.metrics.*); read at each show. */
  metrics?: () => RoleOverrides;
}

export class ViewBridge {
  private activeId: string | null = null;
  private pending = new Map<string, SeriesPoints>();
  private pendingAlerts: ViewAlert[] = [];
  private readonly flusher: Coalescer;
  /** Which of the shown run's metrics plays each role; the view is told when one is taken mid-run. */
  private roles = new RoleResolver();
  private rolesChanged = false;
  private generation = 0;
  private readonly buckets: number;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    private readonly post: (message: HostToWebview) => void,
    private readonly store: RunStore,
    hub: Hub,
    monitor: AlertMonitor,
    private readonly options: ViewBridgeOptions = {},
  ) {
    this.buckets = options.snapshotBuckets ?? 1000;
    this.flusher = new Coalescer(() => this.flush(), options.coalesceMs ?? 100);
    const onRows = (run: Run, rows: MetricRow[]) => run.id === this.activeId && this.queueRows(rows);
    const onAlert = (run: Run, alert: Alert) => run.id === this.activeId && this.queueAlert(alert);
    const onDistribution = (run: Run, frame: Distribution | Reliability) => {
      if (run.id === this.activeId && frame.type === 'reliability') this.post({ type: 'reliability', runId: run.id, bins: toBins(frame) });
    };
    const onStatus = (run: Run) => run.id === this.activeId && this.post({ type: 'status', runId: run.id, status: run.status });
    // A runs folder that cannot be read now is read again at the next change.
    const onChanged = () => void this.postRuns().catch(() => undefined);
    hub.on('rows', onRows);
    hub.on('distribution', onDistribution);
    store.on('status', onStatus);
    monitor.on('alert', onAlert);
    store.on('changed', onChanged);
    this.unsubscribe.push(
      () => hub.off('rows', onRows),
      () => hub.off('distribution', onDistribution),
      () => store.off('status', onStatus),
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
    this.options.onShow?.(id);
    this.pending.clear();
    this.pendingAlerts = [];
    this.roles = new RoleResolver(this.options.metrics?.() ?? {});
    this.rolesChanged = false;
    this.post(runsMessage(runs, id));
    if (id === null) return;
    const run = await this.store.get(id);
    if (!run || generation !== this.generation) return;
    const [alerts, reliability] = await Promise.all([run.readAlerts<Alert>(), run.latestReliability()]);
    if (generation !== this.generation) return;
    // Rows that arrived while the files were read are in the snapshot already.
    this.pending.clear();
    this.pendingAlerts = [];
    this.roles.observeNames(run.series.names());
    this.rolesChanged = false;
    this.post({
      type: 'reset',
      runId: id,
      status: run.status,
      series: this.snapshot(run),
      alerts: alerts.map(viewAlert),
      reliability: reliability ? toBins(reliability) : null,
      roles: { ...this.roles.roles },
    });
  }

  dispose(): void {
    this.flusher.dispose();
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
      if (this.roles.observe(row.values)) this.rolesChanged = true;
      for (const name in row.values) {
        let points = this.pending.get(name);
        if (!points) {
          points = { steps: [], values: [] };
          this.pending.set(name, points);
        }
        points.steps.push(row.step);
        points.values.push(encodeNumber(row.values[name]));
      }
    }
    this.flusher.request();
  }

  private queueAlert(alert: Alert): void {
    this.pendingAlerts.push(viewAlert(alert));
    this.flusher.request();
  }

  private flush(): void {
    const id = this.activeId;
    if (id === null) return;
    if (this.rolesChanged) {
      this.post({ type: 'roles', runId: id, roles: { ...this.roles.roles } });
      this.rolesChanged = false;
    }
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

/**
 * A series as a webview gets it: M4-downsampled to `buckets`, in plain arrays for postMessage, its
 * non-finite values spelled out (webview/contract.ts: a message travels as JSON).
 */
export function seriesPoints(series: Series, buckets: number): SeriesPoints {
  const points = downsampleM4(series.steps, series.values, buckets);
  return { steps: Array.from(points.steps), values: Array.from(points.values, encodeNumber) };
}

function toBins(frame: Reliability): ReliabilityBins {
  const encode = (list: number[]) => list.map(encodeNumber);
  return { step: frame.step, edges: encode(frame.edges), confidence: encode(frame.confidence), accuracy: encode(frame.accuracy), counts: encode(frame.counts) };
}

/** An alert with the values that triggered it encoded (a nonfinite alert's own value is NaN). */
function viewAlert(alert: Alert): ViewAlert {
  const values: Record<string, ViewNumber> = {};
  for (const [k, v] of Object.entries(alert.values ?? {})) values[k] = encodeNumber(v);
  return { ...alert, values };
}
