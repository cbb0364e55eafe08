// The detectors on the zoo (test/fixtures/zoo, made by eval/zoo/generate.py): healthy runs of kinds
// that neither the corpus nor the published logs hold — per-sample SGD, CyclicLR and OneCycleLR, a
// VAE's KL annealing, a diffusion loss, InfoNCE, policy gradients, distillation, focal loss, a
// triplet loss falling to 0, an auxiliary loss weighted in mid-run; and, in its second round, other
// networks with their own loops: GANs, BYOL and DINO, a BatchNorm CNN, a tiny ViT, transformer and
// GRU LMs, CTC, learnt uncertainty weights, fine-tuning, pseudo-labels; and, in its third, other
// training loops: a full-batch GCN, SAM, scheduled sampling, memorising a tiny dataset, an LSTM
// forecaster on RMSprop, a masked LM with a mask-ratio warm-up; and, in its fourth, objectives that
// change once the loss sits under its floor: a curriculum, a sparsity penalty, an actor–critic, a
// mean teacher, DQN, a rate constraint; and, in its fifth, fitted losses lifted for a row or a few
// by how batches are drawn or targets refreshed: a task sampled per batch, batches grouped by
// difficulty, hard negatives mined again, a teacher replaced by its student. Every run is healthy
// by construction, so every alert is a false alarm (docs/early-warning.md, "The zoo").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZOO_DIR, loadManifest, splitFigures, type Split } from '../../eval/corpus/score';

const manifest = loadManifest<Split>(ZOO_DIR);

const split = (which: 'dev' | 'sealed') => splitFigures(ZOO_DIR, which);

test('the zoo holds healthy runs of 56 kinds, three seeds each, split by kind', () => {
  const runs = Object.values(manifest.runs);
  assert.equal(runs.length, 168);
  assert.ok(runs.every((r) => r.label === 'healthy' && r.onset === null));
  const kinds = (s: string) => new Set(runs.filter((r) => r.split === s).map((r) => r.family));
  assert.equal(kinds('dev').size, 25);
  assert.equal(kinds('sealed').size, 31);
  for (const k of kinds('dev')) assert.ok(!kinds('sealed').has(k), k);
});

test('development zoo: a designed change of the task or of the objective, and a GAN’s generator loss, are warned', async () => {
  const f = await split('dev');
  assert.equal(f.healthy, 75);
  // The labels are permuted at half time: the loss jumps 8× in one step, as a blow-up does; only
  // its recovery tells them apart, and no early warning can wait for that. A generator's loss is
  // not minimised: it rises 10–40 % and back as its discriminator wins and loses, over hundreds
  // of rows, longer than the reference the rise is judged against. A curriculum that widens, and a
  // penalty weighted in, lift a loss fitted under its floor 2–3× above it and keep it there: what
  // eval/label.py calls an explosion; the milder curriculum's first hard batches spike the loss
  // 2–2.6× its floor and its gradient 30×. The actor–critic's loss sits flat, then steps up 2.4×
  // (docs/early-warning.md, "The zoo").
  assert.deepEqual(f.falseAlarmRuns, [
    'actor-critic-s0',
    'curriculum-mild-s0', 'curriculum-mild-s1', 'curriculum-mild-s2',
    'curriculum-s0', 'curriculum-s1', 'curriculum-s2',
    'gan-s0', 'gan-s1', 'gan-s2',
    'sparsity-rampup-s0', 'sparsity-rampup-s2',
    'task-switch-s0', 'task-switch-s1', 'task-switch-s2',
  ]);
});

test('sealed zoo, each round replayed once with the defaults frozen: spikes of a loss under its floor, and a critic’s', async () => {
  const f = await split('sealed');
  assert.equal(f.healthy, 93);
  // DQN's TD loss under its floor jumps 5–12× it at each sync of the target network, for two rows
  // at some syncs, and its gradient spikes with it. PPO's surrogate sits at ±0.02 after its first
  // rows, pinned at its floor: its one-row spikes are no alert since item 24 (a spike at the floor
  // must hold two rows), replayed once with item 24 frozen; one seed's spikes hold two rows. One
  // WGAN critic's loss wanders up 30 % early on. The pseudo-labelled runs, warned before item 23
  // (the rise against a reference pinned at the floor), are quiet; they had been looked at, so they
  // are no evidence for it. The fourth round's mean teacher and rate constraint, made before item
  // 23 and replayed once, raised none. The fifth round, made after item 24 was frozen and replayed
  // once: a multi-task run draws its rare, noisier task for two batches in a row once (item 24 quiets
  // the other two seeds' one-row draws; without it all three were warned) (docs/early-warning.md, "The zoo").
  assert.deepEqual(f.falseAlarmRuns, ['dqn-s0', 'dqn-s1', 'dqn-s2', 'multitask-sampled-s2', 'ppo-s0', 'wgan-gp-s2']);
});
