// Synthetic runs as the host would send them: deterministic series with the metrics the trainer
// logs, a NaN (spelled "NaN", as the host encodes it for JSON), alerts (one quoting a hostile
// string), reliability bins.
import { encodeNumber } from '../../src/protocol/numbers';
import type { Alert, HostToWebview, MetricRoles, ReliabilityBins, RunListItem, SeriesPoints } from '../../webview/contract';

export const HOSTILE = '<img src=x onerror=alert(1)>';

export const LAYERS = ['embed', 'blocks.0.attn', 'blocks.0.mlp', 'blocks.1.attn', 'blocks.1.mlp', 'blocks.2.attn', 'blocks.2.mlp', 'head'];

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Rows [from, to) of a run: every metric at every step (val loss, ECE and entropy every 10). */
export function rows(from: number, to: number, options: { nanAt?: number[]; seed?: number } = {}): Record<string, SeriesPoints> {
  const rand = rng((options.seed ?? 7) + from);
  const out: Record<string, SeriesPoints> = {};
  const add = (name: string, step: number, value: number) => {
    const s = (out[name] ??= { steps: [], values: [] });
    s.steps.push(step);
    s.values.push(encodeNumber(value));
  };
  for (let step = from; step < to; step++) {
    const loss = 2.3 * Math.exp(-step / 400) + 0.25 + 0.08 * (rand() - 0.5);
    add('loss', step, options.nanAt?.includes(step) ? NaN : loss);
    add('grad_norm', step, 1.2 + 0.6 * Math.exp(-step / 300) + 0.2 * rand());
    add('gpu/util', step, 88 + 10 * rand());
    add('gpu/mem_used_mb', step, 6100 + 40 * Math.sin(step / 50));
    if (step % 10 === 0) {
      add('loss/val', step, loss + 0.12 + 0.03 * rand());
      add('calibration/ece', step, 0.03 + 0.04 * (step / 1000) + 0.005 * rand());
      add('entropy/normalized', step, 0.9 * Math.exp(-step / 700) + 0.05);
    }
    if (step % 5 === 0) {
      LAYERS.forEach((layer, i) => {
        const collapse = i === 5 ? Math.max(0, (step - 500) / 900) : 0;
        add(`sa/${layer}/sign_diversity`, step, Math.max(0, 0.85 - 0.04 * i - collapse + 0.03 * (rand() - 0.5)));
      });
    }
  }
  return out;
}

export const RUNS: RunListItem[] = [
  { id: 'run-a', name: 'resnet-cifar', status: 'running', createdAt: 1_732_000_000 },
  { id: 'run-b', name: HOSTILE, status: 'completed', createdAt: 1_731_990_000 },
  { id: 'run-c', name: 'baseline lr=3e-4', status: 'failed', createdAt: 1_731_980_000 },
];

export function alert(partial: Partial<Alert> & Pick<Alert, 'id' | 'step'>): Alert {
  return {
    kind: 'loss-spike',
    severity: 'warning',
    metric: 'loss',
    message: 'loss spiked',
    values: {},
    state: 'open',
    ...partial,
  };
}

export const ALERTS: Alert[] = [
  alert({ id: 'nonfinite:loss:420', kind: 'nonfinite', severity: 'critical', step: 420, metric: 'loss', message: 'loss is NaN at step 420', values: { loss: NaN }, source: { file: 'train.py', line: 88 } }),
  alert({ id: 'sa:710', kind: 'sa-collapse', severity: 'warning', step: 710, metric: 'sa/min_sign_diversity', message: `layer ${HOSTILE} lost its sign diversity`, values: { 'sa/min_sign_diversity': 0.12 } }),
];

export function reliability(step: number, shift = 0): ReliabilityBins<number> {
  const edges = Array.from({ length: 11 }, (_, i) => i / 10);
  const confidence = edges.slice(0, 10).map((e) => e + 0.05);
  const accuracy = confidence.map((c, i) => Math.max(0, Math.min(1, c - 0.08 * (i / 9) - shift)));
  const counts = confidence.map((_, i) => (i < 2 ? 0 : 50 + i * 40));
  return { step, edges, confidence, accuracy, counts };
}

/** What the host says of a run logging the canonical names: each role is its own metric. */
export const ROLES: MetricRoles = { loss: 'loss', 'loss/val': null, lr: null, grad_norm: 'grad_norm' };

/** A reset's run-level fields when a test gives none: no clock, events, config or distribution steps. */
export function noExtras(): Pick<Extract<HostToWebview, { type: 'reset' }>, 'clock' | 'events' | 'config' | 'distributionSteps'> {
  return { clock: { steps: [], values: [] }, events: [], config: null, distributionSteps: [] };
}

/** The run's clock: step s at START + 0.5·s seconds (two steps a second). */
export const START = 1_732_000_000;
export function clock(from: number, to: number, every = 10): SeriesPoints {
  const steps: number[] = [];
  const values: number[] = [];
  for (let s = from; s < to; s += every) {
    steps.push(s);
    values.push(START + 0.5 * s);
  }
  return { steps, values };
}

export function resetMessage(runId: string, to: number, extra: Partial<Extract<HostToWebview, { type: 'reset' }>> = {}): HostToWebview {
  return { type: 'reset', runId, status: 'running', series: rows(0, to, { nanAt: [420] }), alerts: ALERTS, reliability: reliability(to), roles: ROLES, ...noExtras(), ...extra };
}
