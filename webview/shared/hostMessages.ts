// The one door through which host messages enter a webview. VS Code delivers them as JSON, so the
// host spells a non-finite metric value "NaN", "Infinity" or "-Infinity" (webview/contract.ts);
// here every field that holds metric values is decoded back to numbers and every message is checked
// for its shape, so the views handle plain numbers and never see a null where a value was (a null
// in a Float64Array is a 0: the loss line fell to 0 where the run blew up).
import { readNumber } from '../../src/protocol/numbers';
import { METRIC_ROLES, noRoles, type MetricRoles } from '../../src/metrics/roles';
import type { HostToWebview, ReliabilityBins, RunListItem, SeriesPoints, ViewAlert } from '../contract';

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
      return { ...(m as Extract<HostMessage, { type: 'reset' }>), series: seriesRecord(m.series), alerts: alerts(m.alerts), reliability: bins(m.reliability), roles: roles(m.roles) };
    case 'roles':
      return typeof runId === 'string' ? { type: 'roles', runId, roles: roles(m.roles) } : null;
    case 'append':
      return typeof runId === 'string' ? { type: 'append', runId, series: seriesRecord(m.series) } : null;
    case 'alerts':
      return typeof runId === 'string' ? { type: 'alerts', runId, alerts: alerts(m.alerts) } : null;
    case 'reliability': {
      const decoded = bins(m.bins);
      return typeof runId === 'string' && decoded ? { type: 'reliability', runId, bins: decoded } : null;
    }
    case 'overlay': {
      const runs: Extract<HostMessage, { type: 'overlay' }>['runs'] = [];
      for (const o of Array.isArray(m.runs) ? m.runs : []) {
        const loss = isObject(o) ? points(o.loss) : null;
        if (isObject(o) && typeof o.id === 'string' && typeof o.name === 'string' && loss) runs.push({ id: o.id, name: o.name, loss });
      }
      return { type: 'overlay', runs };
    }
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
