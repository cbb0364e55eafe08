// The detectors on the zoo (test/fixtures/zoo, made by eval/zoo/generate.py): healthy runs of kinds
// that neither the corpus nor the published logs hold — per-sample SGD, CyclicLR and OneCycleLR, a
// VAE's KL annealing, a diffusion loss, InfoNCE, policy gradients, distillation, focal loss, a
// triplet loss falling to 0, an auxiliary loss weighted in mid-run. Every run is healthy by
// construction, so every alert is a false alarm (docs/early-warning.md, "The zoo").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZOO_DIR, loadManifest, splitFigures, type Split } from '../../eval/corpus/score';

const manifest = loadManifest<Split>(ZOO_DIR);

const split = (which: 'dev' | 'sealed') => splitFigures(ZOO_DIR, which);

test('the zoo holds healthy runs of 27 kinds, three seeds each, split by kind', () => {
  const runs = Object.values(manifest.runs);
  assert.equal(runs.length, 81);
  assert.ok(runs.every((r) => r.label === 'healthy' && r.onset === null));
  const kinds = (s: string) => new Set(runs.filter((r) => r.split === s).map((r) => r.family));
  assert.equal(kinds('dev').size, 15);
  assert.equal(kinds('sealed').size, 12);
  for (const k of kinds('dev')) assert.ok(!kinds('sealed').has(k), k);
});

test('development zoo: only a designed change of the task is warned', async () => {
  const f = await split('dev');
  assert.equal(f.healthy, 45);
  // The labels are permuted at half time: the loss jumps 8× in one step, as a blow-up does; only
  // its recovery tells them apart, and no early warning can wait for that.
  assert.deepEqual(f.falseAlarmRuns, ['task-switch-s0', 'task-switch-s1', 'task-switch-s2']);
});

test('sealed zoo, replayed once with the defaults frozen: PPO’s surrogate loss is the false alarm left', async () => {
  const f = await split('sealed');
  assert.equal(f.healthy, 36);
  // A surrogate that sits at ±0.02 after its first rows: pinned at its floor, its log has no spread,
  // and its excursions to 0.2–0.5 read as spikes (docs/early-warning.md, "The zoo": left as found).
  assert.deepEqual(f.falseAlarmRuns, ['ppo-s0', 'ppo-s1', 'ppo-s2']);
});
