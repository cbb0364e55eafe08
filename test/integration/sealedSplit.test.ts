// The detectors' figures on the sealed split of the corpus (test/fixtures/corpus, families resnet,
// mixer and, since the fifth and sixth rounds, vit and gnn; eval/README.md, "Corpus protocol"): runs that no default was chosen on, replayed
// in-process. These are the figures docs/early-warning.md and the README report; a change of the
// detectors or of the corpus that moves them must move the reports with them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { figures, loadManifest, loadPeers, scoreSplit, type GroupFigures } from '../../eval/corpus/score';

const manifest = loadManifest();
const peers = loadPeers();
let cached: { total: GroupFigures; perFamily: Record<string, GroupFigures> } | null = null;

async function sealed() {
  if (cached) return cached;
  const { scores } = await scoreSplit((r) => r.split === 'sealed');
  const perFamily: Record<string, GroupFigures> = {};
  for (const family of manifest.split.sealed) perFamily[family] = figures(scores.filter((s) => s.family === family), peers, manifest.runs);
  cached = { total: figures(scores, peers, manifest.runs), perFamily };
  return cached;
}

test('the sealed split is whole families that the development split does not have', () => {
  assert.deepEqual(manifest.split.sealed, ['resnet', 'mixer', 'vit', 'gnn']);
  for (const f of manifest.split.sealed) assert.ok(!manifest.split.dev.includes(f), f);
  const runs = Object.values(manifest.runs);
  assert.ok(runs.every((r) => (r.split === 'sealed') === manifest.split.sealed.includes(r.family)));
  assert.ok(Object.keys(peers).length >= runs.length, 'every run has the peers’ first alerts (eval/corpus/run_peers.py)');
});

test('sealed split: healthy runs with no alert at all', async () => {
  const { total } = await sealed();
  assert.equal(total.healthy, SEALED.healthy);
  assert.deepEqual(total.falseAlarmRuns, SEALED.falseAlarmRuns);
});

test('sealed split: exploding runs warned before their onset, the warning still open at it', async () => {
  const { total } = await sealed();
  assert.equal(total.exploding, SEALED.exploding);
  assert.deepEqual(total.missed, SEALED.missed);
});

test('sealed split: leads, and the median lead over the best peer that raised no false alarm', async () => {
  const { total, perFamily } = await sealed();
  assert.deepEqual(total.leads, SEALED.leads);
  assert.equal(total.medianLead, SEALED.medianLead);
  assert.equal(total.medianLeadOverBestCleanPeer, SEALED.medianLeadOverBestCleanPeer);
  for (const [family, pinned] of Object.entries(SEALED.perFamily)) {
    const f = perFamily[family];
    assert.deepEqual([f.healthy, f.falseAlarmRuns.length, f.exploding, f.recalled, f.medianLead, f.medianLeadOverBestCleanPeer], pinned, family);
  }
});

// Pinned from `node --import tsx eval/corpus/evaluate.ts --split sealed` (docs/early-warning.md).
const SEALED = {
  healthy: 102,
  // None since the grad-spike judges the gradient the optimizer applied (the clipped twins of a
  // corrupted batch) and the rise beyond noise needs a CUSUM of 40 (the fp16 runs on a 100× ramp);
  // both changes were chosen on the development split (docs/early-warning.md, "Results"). The ViT's
  // 26 healthy runs, added sealed in the fifth round, and the GCN's 19, added sealed in the sixth,
  // raised none either.
  falseAlarmRuns: [] as string[],
  exploding: 35,
  // The ViT's slow creeps, warned 12–60 steps after the loss began to rise (the rise beyond noise
  // needs its CUSUM of 40; trainscope's CUSUM warned three of them before their onset): found on
  // the sealed split, left as found (docs/early-warning.md, "Results").
  missed: ['vit-attn-logit-high-s1', 'vit-no-norm-s0', 'vit-no-norm-s1', 'vit-warmup-high-s0', 'vit-warmup-high-s1'],
  // twenty sudden explosions (an LR jump, a corrupted batch) warned the step before; a warm-up to
  // too high a peak, 13 steps ahead; eight LR ramps (the GCN's two: 183 and 208); one
  // attention-logit growth
  leads: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 13, 28, 60, 92, 105, 120, 136, 170, 183, 208],
  medianLead: 1,
  // over llm-foundry and Megatron, the two peers clean on all four sealed families
  medianLeadOverBestCleanPeer: 2,
  /** family: [healthy, healthy with an alert, exploding, recalled, median lead, median lead over best clean peer] */
  perFamily: {
    resnet: [39, 0, 6, 6, 1, 1],
    mixer: [18, 0, 7, 7, 1, 1],
    vit: [26, 0, 14, 9, 1, 1],
    gnn: [19, 0, 8, 8, 1, 1],
  } as Record<string, (number | null)[]>,
};
