// The detectors on the zoo (test/fixtures/zoo, made by eval/zoo/generate.py): healthy runs of kinds
// that neither the corpus nor the published logs hold — per-sample SGD, CyclicLR and OneCycleLR, a
// VAE's KL annealing, a diffusion loss, InfoNCE, policy gradients, distillation, focal loss, a
// triplet loss falling to 0, an auxiliary loss weighted in mid-run; and, in its second round, other
// networks with their own loops: GANs, BYOL and DINO, a BatchNorm CNN, a tiny ViT, transformer and
// GRU LMs, CTC, learnt uncertainty weights, fine-tuning, pseudo-labels; and, in its third, other
// training loops: a full-batch GCN, SAM, scheduled sampling, memorising a tiny dataset, an LSTM
// forecaster on RMSprop, a masked LM with a mask-ratio warm-up. Every run is healthy by
// construction, so every alert is a false alarm (docs/early-warning.md, "The zoo").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZOO_DIR, loadManifest, splitFigures, type Split } from '../../eval/corpus/score';

const manifest = loadManifest<Split>(ZOO_DIR);

const split = (which: 'dev' | 'sealed') => splitFigures(ZOO_DIR, which);

test('the zoo holds healthy runs of 45 kinds, three seeds each, split by kind', () => {
  const runs = Object.values(manifest.runs);
  assert.equal(runs.length, 135);
  assert.ok(runs.every((r) => r.label === 'healthy' && r.onset === null));
  const kinds = (s: string) => new Set(runs.filter((r) => r.split === s).map((r) => r.family));
  assert.equal(kinds('dev').size, 21);
  assert.equal(kinds('sealed').size, 24);
  for (const k of kinds('dev')) assert.ok(!kinds('sealed').has(k), k);
});

test('development zoo: a designed change of the task and a GAN’s generator loss are warned', async () => {
  const f = await split('dev');
  assert.equal(f.healthy, 63);
  // The labels are permuted at half time: the loss jumps 8× in one step, as a blow-up does; only
  // its recovery tells them apart, and no early warning can wait for that. A generator's loss is
  // not minimised: it rises 10–40 % and back as its discriminator wins and loses, over hundreds
  // of rows, longer than the reference the rise is judged against (docs/early-warning.md, "The zoo").
  assert.deepEqual(f.falseAlarmRuns, ['gan-s0', 'gan-s1', 'gan-s2', 'task-switch-s0', 'task-switch-s1', 'task-switch-s2']);
});

test('sealed zoo, replayed once with the defaults frozen: a loss pinned at its floor, and a critic’s', async () => {
  const f = await split('sealed');
  assert.equal(f.healthy, 72);
  // PPO's surrogate sits at ±0.02 after its first rows, and the pseudo-labelled loss under its
  // floor until its unlabelled term is weighted in: pinned at the floor, the reference has no
  // spread, and an excursion above it reads as z = 100 and more. One WGAN critic's loss wanders
  // up 30 % early on (docs/early-warning.md, "The zoo": left as found). The third round's six
  // kinds, made after these were found and replayed once, raised none.
  assert.deepEqual(f.falseAlarmRuns, ['ppo-s0', 'ppo-s1', 'ppo-s2', 'pseudo-label-s0', 'pseudo-label-s1', 'pseudo-label-s2', 'wgan-gp-s2']);
});
