// Synthetic metric streams with a seeded PRNG, so detector tests are exact and repeatable.
import type { MetricRow } from '../../src/store/run';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SyntheticOptions {
  steps: number;
  seed?: number;
  /** Multiplies the healthy loss at step s (1 = healthy). */
  lossFactor?: (step: number) => number;
  gradFactor?: (step: number) => number;
  /** Sign diversity of layer i at step s; default: around 0.6, with layer "head" near 0. */
  sa?: (layer: number, step: number) => number;
  entropyFactor?: (step: number) => number;
  layers?: number;
}

export function syntheticRun(o: SyntheticOptions): MetricRow[] {
  const rand = prng(o.seed ?? 1);
  const noise = (scale: number) => 1 + scale * (rand() - 0.5) * 2;
  const layers = o.layers ?? 6;
  const rows: MetricRow[] = [];
  for (let step = 0; step < o.steps; step++) {
    const healthy = 0.5 + 3 * Math.exp(-step / 150);
    const loss = healthy * noise(0.05) * (o.lossFactor?.(step) ?? 1);
    const values: Record<string, number> = {
      loss,
      grad_norm: 1.2 * noise(0.2) * (o.gradFactor?.(step) ?? 1),
      lr: 1e-3,
      'entropy/mean': loss * 0.95 * noise(0.03) * (o.entropyFactor?.(step) ?? 1),
      'calibration/ece': 0.03 * noise(0.3),
    };
    if (step % 5 === 0) {
      for (let l = 0; l < layers; l++) values[`sa/blocks.${l}.fc/sign_diversity`] = o.sa ? o.sa(l, step) : 0.6 * noise(0.2);
      values['sa/head/sign_diversity'] = 0.02 * noise(0.5);
    }
    rows.push({ step, time: step, values, source: { file: 'train.py', line: 42 }, seq: step, rank: undefined });
  }
  return rows;
}
