// The one door through which host messages enter a webview. VS Code delivers them as JSON, so the
// host spells a non-finite metric value "NaN", "Infinity" or "-Infinity" (webview/contract.ts);
// here every field that holds metric values is decoded back to numbers and every message is checked
// for its shape, so the views handle plain numbers and never see a null where a value was (a null
// in a Float64Array is a 0: the loss line fell to 0 where the run blew up).
import { decodeCompareTable } from '../../src/view/compareRows';
import { readNumber } from '../../src/protocol/numbers';
import { METRIC_ROLES, noRoles, type MetricRoles } from '../../src/metrics/roles';
import { isViewPrefs, RUN_ACTION_NAMES, type HostToWebview, type OverlayRun, type ReliabilityBins, type RunListItem, type SeriesPoints, type ViewAlert, type ViewEvent, type ViewHistogram } from '../contract';

/** A host message as the views handle it: metric values are numbers, NaN and ±Infinity included. */
export type HostMessage = HostToWebview<number>;

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Metric values as numbers (src/protocol/numbers.ts readNumber: what cannot be read is NaN, never 0). */
const values = (list: unknown[]): number[] => list.map(readNumber);

function points(p: unknown): SeriesPoints<number> | null {
  if (!isObject(p) || !Array.isArray(p.steps) || !Array.isArray(p.values)) return null;
  return { steps: p.steps as number[], values: values(p.values) };
}

const NO_POINTS = (): SeriesPoints<number> => ({ steps: [], values: [] });

const isStep = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The run's events; one that is not an event (no message, a step that is not a number) is left out. */
function events(list: unknown): ViewEvent[] {
  if (!Array.isArray(list)) return [];
  const out: ViewEvent[] = [];
  for (const e of list) {
    if (!isObject(e) || typeof e.message !== 'string') continue;
    const level = e.level === 'warning' || e.level === 'error' ? e.level : 'info';
    const span = isObject(e.span) && isStep(e.span.from) && isStep(e.span.to) ? { from: Math.min(e.span.from, e.span.to), to: Math.max(e.span.from, e.span.to) } : null;
    out.push({
      step: isStep(e.step) ? e.step : null,
      level,
      message: e.message,
      kind: typeof e.kind === 'string' && e.kind.length > 0 ? e.kind.slice(0, 64) : null,
      span,
      time: isStep(e.time) ? e.time : null,
    });
  }
  return out;
}

function histogram(h: unknown): ViewHistogram<number> | null {
  if (!isObject(h) || typeof h.name !== 'string' || !isStep(h.step) || !Array.isArray(h.edges) || !Array.isArray(h.counts)) return null;
  if (h.edges.length !== h.counts.length + 1) return null;
  return { name: h.name, step: h.step, edges: values(h.edges), counts: values(h.counts) };
}

function overlayRun(o: unknown): OverlayRun<number> | null {
  if (!isObject(o) || typeof o.id !== 'string' || typeof o.name !== 'string') return null;
  return { id: o.id, name: o.name, series: seriesRecord(o.series), roles: roles(o.roles), clock: points(o.clock) ?? NO_POINTS() };
}

/** The named series of a message; entries that are not series are left out. */
function seriesRecord(record: unknown): Record<string, SeriesPoints<number>> {
  if (!isObject(record)) return {};
  const out: [string, SeriesPoints<number>][] = [];
  for (const name of Object.keys(record)) {
    const p = points(record[name]);
    if (p) out.push([name, p]);
  }
  // fromEntries defines own properties: a metric named __proto__ stays a metric.
  return Object.fromEntries(out);
}

function alerts(list: unknown): ViewAlert<number>[] {
  if (!Array.isArray(list)) return [];
  return list.filter((a): a is Fields => isObject(a) && typeof a.id === 'string').map((a) => {
    const raw = isObject(a.values) ? a.values : {};
    return { ...(a as unknown as ViewAlert<unknown>), values: Object.fromEntries(Object.keys(raw).map((k) => [k, readNumber(raw[k])])) };
  });
}

function bins(b: unknown): ReliabilityBins<number> | null {
  if (!isObject(b) || typeof b.step !== 'number') return null;
  const { edges, confidence, accuracy, counts } = b;
  if (!Array.isArray(edges) || !Array.isArray(confidence) || !Array.isArray(accuracy) || !Array.isArray(counts)) return null;
  if (edges.length !== counts.length + 1 || confidence.length !== counts.length || accuracy.length !== counts.length) return null;
  return { step: b.step, edges: values(edges), confidence: values(confidence), accuracy: values(accuracy), counts: values(counts) };
}

/** Each role's metric name, or null: anything else the host could have sent reads as no choice. */
function roles(r: unknown): MetricRoles {
  const out = noRoles();
  if (!isObject(r)) return out;
  for (const role of METRIC_ROLES) {
    const name = r[role];
    if (typeof name === 'string' && name.length > 0 && name.length <= 512) out[role] = name;
  }
  return out;
}

/** The message with its metric values decoded, or null when it is not a host message. */
export function decodeHostMessage(message: unknown): HostMessage | null {
  if (!isObject(message)) return null;
  const m = message;
  const runId = m.runId;
  switch (m.type) {
    case 'runs':
      return { type: 'runs', runs: Array.isArray(m.runs) ? (m.runs as RunListItem[]) : [], activeId: typeof m.activeId === 'string' ? m.activeId : null };
    case 'status':
      return typeof runId === 'string' ? (m as HostMessage) : null;
    case 'reset':
      if (typeof runId !== 'string') return null;
      return {
        ...(m as Extract<HostMessage, { type: 'reset' }>),
        series: seriesRecord(m.series),
        alerts: alerts(m.alerts),
        reliability: bins(m.reliability),
        roles: roles(m.roles),
        clock: points(m.clock) ?? NO_POINTS(),
        events: events(m.events),
        config: isObject(m.config) ? m.config : null,
        distributionSteps: Array.isArray(m.distributionSteps) ? m.distributionSteps.filter(isStep) : [],
      };
    case 'roles':
      return typeof runId === 'string' ? { type: 'roles', runId, roles: roles(m.roles) } : null;
    case 'append':
      if (typeof runId !== 'string') return null;
      return m.clock === undefined ? { type: 'append', runId, series: seriesRecord(m.series) } : { type: 'append', runId, series: seriesRecord(m.series), clock: points(m.clock) ?? NO_POINTS() };
    case 'events':
      return typeof runId === 'string' ? { type: 'events', runId, events: events(m.events) } : null;
    case 'prefs':
      return isViewPrefs(m.prefs) ? { type: 'prefs', prefs: m.prefs } : null;
    case 'distributions': {
      if (typeof runId !== 'string') return null;
      const list = Array.isArray(m.histograms) ? m.histograms.map(histogram).filter((x): x is ViewHistogram<number> => x !== null) : [];
      return { type: 'distributions', runId, requested: isStep(m.requested) ? m.requested : null, reliability: bins(m.reliability), histograms: list, note: typeof m.note === 'string' ? m.note : null };
    }
    case 'histogram': {
      const decoded = histogram(m.histogram);
      return typeof runId === 'string' && decoded ? { type: 'histogram', runId, histogram: decoded } : null;
    }
    case 'alerts':
      return typeof runId === 'string' ? { type: 'alerts', runId, alerts: alerts(m.alerts) } : null;
    case 'actions':
      return typeof runId === 'string' && Array.isArray(m.actions)
        ? { type: 'actions', runId, actions: RUN_ACTION_NAMES.filter((a) => (m.actions as unknown[]).includes(a)) }
        : null;
    case 'reliability': {
      const decoded = bins(m.bins);
      return typeof runId === 'string' && decoded ? { type: 'reliability', runId, bins: decoded } : null;
    }
    case 'overlay': {
      const runs = (Array.isArray(m.runs) ? m.runs : []).map(overlayRun).filter((o): o is OverlayRun<number> => o !== null);
      return { type: 'overlay', runs };
    }
    case 'overlaySelect':
      return Array.isArray(m.runIds) ? { type: 'overlaySelect', runIds: m.runIds.filter((id): id is string => typeof id === 'string') } : null;
    case 'compareTable': {
      const table = decodeCompareTable(m.table);
      return table ? { type: 'compareTable', table } : null;
    }
    case 'detail':
      return typeof runId === 'string' && isStep(m.from) && isStep(m.to) ? { type: 'detail', runId, from: m.from, to: m.to, series: seriesRecord(m.series) } : null;
    default:
      return null;
  }
}

/** Calls `handle` with every host message, decoded; anything else posted to the page is ignored. */
export function onHostMessage(handle: (message: HostMessage) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const message = decodeHostMessage(event.data);
    if (message) handle(message);
  });
}
