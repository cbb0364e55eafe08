// What a webview sees of one run: a full snapshot when it asks, then deltas coalesced to at most
// 10 messages a second. Plain Node: the VS Code side only hands it a `post` function.
import type { HostToWebview, OverlayRun, ReliabilityBins, SeriesPoints, ViewAlert, ViewEvent, ViewHistogram, ViewNumber } from '../../webview/contract';
import type { Alert } from '../detect/alert';
import type { AlertMonitor } from '../detect/alertMonitor';
import type { Hub } from '../hub/hub';
import { encodeNumber, readNumber } from '../protocol/numbers';
import type { Distribution, EventFrame, Reliability, RunAction } from '../protocol/wire';
import { offeredActions } from '../rescue/actions';
import { isMetricRole, resolveRoles, RoleResolver, type RoleOverrides } from '../metrics/roles';
import { Coalescer } from '../present/coalescer';
import { downsampleM4, type Points } from '../store/downsample';
import type { MetricRow, Run } from '../store/run';
import type { RunStore, RunSummary } from '../store/runStore';
import type { Series } from '../store/series';
import { frameSteps, pickAt } from './distributions';

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
  private pendingClock: SeriesPoints = { steps: [], values: [] };
  private lastClockStep = -Infinity;
  private pendingAlerts: ViewAlert[] = [];
  private pendingEvents: ViewEvent[] = [];
  private readonly flusher: Coalescer;
  /** Which of the shown run's metrics plays each role; the view is told when one is taken mid-run. */
  private roles = new RoleResolver();
  private rolesChanged = false;
  private generation = 0;
  private readonly buckets: number;
  private readonly unsubscribe: (() => void)[] = [];
  /** The shown run stays in memory while shown; the store lets go of it after (docs/store.md "Memory"). */
  private held: { id: string; handle: { dispose(): void } } | undefined;
  private readonly actionsOf: (runId: string) => RunAction[];
  /** Snapshots being built a few series at a time: deltas wait until one is posted. */
  private snapshotting = 0;

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
      if (run.id !== this.activeId) return;
      if (frame.type === 'reliability') this.post({ type: 'reliability', runId: run.id, bins: toBins(frame) });
      else this.post({ type: 'histogram', runId: run.id, histogram: toHistogram(frame) });
    };
    const onEvent = (run: Run, event: EventFrame & { time: number }) => {
      if (run.id !== this.activeId) return;
      this.pendingEvents.push(viewEvent(event));
      this.flusher.request();
    };
    const onStatus = (run: Run) => run.id === this.activeId && this.post({ type: 'status', runId: run.id, status: run.status });
    // The actions the shown run's SDK armed (docs/rescue.md): they come and go with its connection.
    this.actionsOf = (runId) => offeredActions(hub.capabilities(runId)).map((a) => a.action);
    const onCapabilities = (run: Run) => run.id === this.activeId && this.postActions(run.id);
    // A runs folder that cannot be read now is read again at the next change.
    const onChanged = () => void this.postRuns().catch(() => undefined);
    hub.on('rows', onRows);
    hub.on('distribution', onDistribution);
    hub.on('event', onEvent);
    hub.on('runStarted', onCapabilities);
    hub.on('capabilities', onCapabilities);
    hub.on('disconnected', onCapabilities);
    store.on('status', onStatus);
    monitor.on('alert', onAlert);
    store.on('changed', onChanged);
    this.unsubscribe.push(
      () => hub.off('rows', onRows),
      () => hub.off('distribution', onDistribution),
      () => hub.off('event', onEvent),
      () => hub.off('runStarted', onCapabilities),
      () => hub.off('capabilities', onCapabilities),
      () => hub.off('disconnected', onCapabilities),
      () => store.off('status', onStatus),
      () => monitor.off('alert', onAlert),
      () => store.off('changed', onChanged),
    );
  }

  private postActions(runId: string): void {
    this.post({ type: 'actions', runId, actions: this.actionsOf(runId) });
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
    this.hold(id);
    this.options.onShow?.(id);
    this.clearPending();
    this.roles = new RoleResolver(this.options.metrics?.() ?? {});
    this.rolesChanged = false;
    this.post(runsMessage(runs, id));
    if (id === null) return;
    const run = await this.store.get(id);
    if (!run || generation !== this.generation) return;
    const [alerts, frames, events] = await Promise.all([run.readAlerts<Alert>(), run.readDistributions(), run.readEvents()]);
    if (generation !== this.generation) return;
    // Rows, events and frames that arrived while the files were read are in the snapshot already.
    this.clearPending();
    this.snapshotting += 1;
    let series: Record<string, SeriesPoints>;
    try {
      series = await this.snapshot(run);
    } finally {
      this.snapshotting -= 1;
    }
    if (generation !== this.generation) return;
    // The clock is taken whole below: what queued meanwhile is in it.
    this.pendingClock = { steps: [], values: [] };
    const picked = pickDistributions(frames, null);
    this.roles.observeNames(run.series.names());
    this.rolesChanged = false;
    this.post({
      type: 'reset',
      runId: id,
      status: run.status,
      series,
      alerts: alerts.map(viewAlert),
      reliability: picked.reliability,
      roles: { ...this.roles.roles },
      clock: clockPoints(run.clock, this.buckets),
      events: events.map(viewEvent),
      config: run.meta.config,
      distributionSteps: frameSteps(frames),
    });
    this.lastClockStep = run.clock.last()?.step ?? -Infinity;
    this.postActions(id);
    this.flusher.request();
    if (picked.note !== null || picked.histograms.length > 0) this.post({ type: 'distributions', runId: id, requested: null, ...picked });
  }

  /** The reliability bins and SA histograms at `step` (null: the latest) of the shown run. */
  async pickStep(runId: string, step: number | null): Promise<void> {
    if (runId !== this.activeId) return;
    const run = await this.store.get(runId);
    if (!run || runId !== this.activeId) return;
    const frames = await run.readDistributions();
    if (runId !== this.activeId) return;
    this.post({ type: 'distributions', runId, requested: step, ...pickDistributions(frames, step) });
  }

  private clearPending(): void {
    this.pending.clear();
    this.pendingClock = { steps: [], values: [] };
    this.lastClockStep = -Infinity;
    this.pendingAlerts = [];
    this.pendingEvents = [];
  }

  /**
   * Answers a zoom (docs/store.md "Zoom"): the points of [from, to] of the shown run, read from its
   * columns on disk and the rows in memory, downsampled to the snapshot's buckets.
   */
  async detail(runId: string, from: number, to: number, metrics: readonly string[] | null): Promise<void> {
    if (runId !== this.activeId) return;
    const run = await this.store.get(runId);
    if (!run || runId !== this.activeId) return;
    const points = await run.detail(from, to, metrics, this.buckets);
    if (runId !== this.activeId) return;
    const series: Record<string, SeriesPoints> = {};
    let done = 0;
    for (const [name, p] of Object.entries(points)) {
      if (++done % 8 === 0) await turn();
      series[name] = viewPoints(p);
    }
    if (runId !== this.activeId) return;
    this.post({ type: 'detail', runId, from, to, series });
  }

  private hold(id: string | null): void {
    if (this.held?.id === id) return;
    this.held?.handle.dispose();
    this.held = id === null ? undefined : { id, handle: this.store.hold(id) };
  }

  dispose(): void {
    this.hold(null);
    this.flusher.dispose();
    for (const off of this.unsubscribe) off();
  }

  private async postRuns(): Promise<void> {
    const runs = await this.store.list();
    this.post(runsMessage(runs, this.activeId));
  }

  /**
   * Every series of the shown run, downsampled, a few a turn of the event loop (a run of 50
   * metrics never holds the hub: docs/store.md "Nothing blocks"). Points that arrive meanwhile are
   * queued as deltas; those a series' snapshot already holds leave the queue, so each point
   * reaches the view once.
   */
  private async snapshot(run: Run): Promise<Record<string, SeriesPoints>> {
    const out: Record<string, SeriesPoints> = {};
    const taken = new Map<string, number>();
    const names = run.series.names();
    for (let i = 0; i < names.length; i++) {
      if (i > 0 && i % 2 === 0) await turn();
      const series = run.series.get(names[i])!;
      out[names[i]] = seriesPoints(series, this.buckets);
      taken.set(names[i], series.recorded);
    }
    for (const [name, points] of this.pending) {
      const at = taken.get(name);
      if (at === undefined) continue;
      const newer = run.series.get(name)!.recorded - at;
      const drop = points.steps.length - newer;
      if (drop > 0) {
        points.steps.splice(0, drop);
        points.values.splice(0, drop);
      }
    }
    return out;
  }

  private queueRows(rows: MetricRow[]): void {
    for (const row of rows) {
      if (this.roles.observe(row.values)) this.rolesChanged = true;
      if (row.time !== undefined && Number.isFinite(row.time) && row.step > this.lastClockStep) {
        this.lastClockStep = row.step;
        this.pendingClock.steps.push(row.step);
        this.pendingClock.values.push(row.time);
      }
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
    if (id === null || this.snapshotting > 0) return;
    if (this.rolesChanged) {
      this.post({ type: 'roles', runId: id, roles: { ...this.roles.roles } });
      this.rolesChanged = false;
    }
    if (this.pendingAlerts.length > 0) {
      this.post({ type: 'alerts', runId: id, alerts: this.pendingAlerts });
      this.pendingAlerts = [];
    }
    if (this.pendingEvents.length > 0) {
      this.post({ type: 'events', runId: id, events: this.pendingEvents });
      this.pendingEvents = [];
    }
    if (this.pending.size > 0 || this.pendingClock.steps.length > 0) {
      const clock = this.pendingClock.steps.length > 0 ? { clock: this.pendingClock } : {};
      this.post({ type: 'append', runId: id, series: Object.fromEntries(this.pending), ...clock });
      this.pending = new Map();
      this.pendingClock = { steps: [], values: [] };
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
  return viewPoints(downsampleM4(series.steps, series.values, buckets));
}

/** Typed arrays as plain ones, non-finite values spelled out; a loop, not Array.from with a mapper (a zoom has 10⁵ points). */
function viewPoints(points: Points): SeriesPoints {
  const n = points.steps.length;
  const steps = new Array<number>(n);
  const values = new Array<ViewNumber>(n);
  for (let i = 0; i < n; i++) {
    steps[i] = points.steps[i];
    const v = points.values[i];
    values[i] = v === v && v !== Infinity && v !== -Infinity ? v : encodeNumber(v);
  }
  return { steps, values };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Another run as the dashboard overlays it: the series of the metrics its charts draw, a role's
 * canonical name (`loss`) standing for whatever that run logs it as (`train_loss`), with its roles
 * and clock so the view resolves its lines and time axis as for the shown run.
 */
export function overlayRun(run: Run, metrics: readonly string[], overrides: RoleOverrides, buckets: number): OverlayRun {
  const roles = resolveRoles(run.series.names(), overrides);
  const wanted = new Set(metrics);
  for (const m of metrics) {
    const actual = isMetricRole(m) ? roles[m] : null;
    if (actual !== null) wanted.add(actual);
  }
  const series: Record<string, SeriesPoints> = {};
  for (const name of wanted) {
    const s = run.series.get(name);
    if (s && s.length > 0) series[name] = seriesPoints(s, buckets);
  }
  return { id: run.id, name: run.meta.name, series: Object.fromEntries(Object.entries(series)), roles, clock: clockPoints(run.clock, buckets) };
}

/**
 * The run's clock for a view: evenly thinned to about 4 × `buckets` points (time is monotone in the
 * step, so the views interpolate between the points kept), always keeping the last.
 */
export function clockPoints(clock: Series, buckets: number): SeriesPoints {
  const n = clock.length;
  const every = Math.max(1, Math.ceil(n / (4 * buckets)));
  const steps: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i += every) {
    steps.push(clock.steps[i]);
    values.push(clock.values[i]);
  }
  if (n > 0 && steps[steps.length - 1] !== clock.steps[n - 1]) {
    steps.push(clock.steps[n - 1]);
    values.push(clock.values[n - 1]);
  }
  return { steps, values };
}

/** The frames of the slider's step, decoded from disk (a distribution's edges may be spelled "NaN"). */
function pickDistributions(frames: readonly (Distribution | Reliability)[], step: number | null) {
  const rel: Reliability[] = [];
  const hist: { name: string; step: number; edges: number[]; counts: number[] }[] = [];
  for (const f of frames) {
    if (f.type === 'reliability') rel.push(f);
    else hist.push({ name: f.name, step: f.step, edges: f.edges.map(readNumber), counts: f.counts.map(readNumber) });
  }
  const picked = pickAt(rel, hist, step, (s) => s.toLocaleString('en-US'));
  return {
    reliability: picked.reliability ? toBins(picked.reliability) : null,
    histograms: picked.histograms.map((h) => ({ name: h.name, step: h.step, edges: h.edges.map(encodeNumber), counts: h.counts.map(encodeNumber) })),
    note: picked.note,
  };
}

function toHistogram(frame: Distribution): ViewHistogram {
  return { name: frame.name, step: frame.step, edges: frame.edges.map((e) => encodeNumber(readNumber(e))), counts: frame.counts.map(encodeNumber) };
}

/** An event as a view gets it: every optional field spelled out. */
export function viewEvent(e: EventFrame & { time?: number }): ViewEvent {
  return { step: e.step ?? null, level: e.level, message: e.message, kind: e.kind ?? null, span: e.span ?? null, time: e.time ?? null };
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
