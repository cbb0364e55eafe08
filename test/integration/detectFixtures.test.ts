// The detectors on the evaluation's first fixture runs (test/fixtures/runs, labels.json): a
// regression pin on runs the defaults were once tuned on, part of the development data, not
// proof. The proof is the sealed split of the corpus (sealedSplit.test.ts; docs/early-warning.md).
// Peers' first alerts come from peers.json (made by npm run eval:detect).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadRows, replay } from '../../src/detect/replay';

const dir = path.resolve(__dirname, '..', 'fixtures', 'runs');
const labels = JSON.parse(readFileSync(path.join(dir, 'labels.json'), 'utf8')) as Record<string, { label: string; onset: number | null }>;
const peers = JSON.parse(readFileSync(path.join(dir, 'peers.json'), 'utf8')).peers as Record<string, Record<string, number | null>>;

async function firstAlerts(name: string) {
  const { rows, problems } = await loadRows(path.join(dir, `${name}.jsonl.gz`));
  assert.deepEqual(problems, [], `${name} reads cleanly`);
  const opened = replay(rows).filter((a) => a.state === 'open');
  return { first: opened[0], firstCritical: opened.find((a) => a.severity === 'critical'), opened };
}

const exploding = Object.entries(labels).filter(([, l]) => l.label === 'explode');
const healthy = Object.entries(labels).filter(([, l]) => l.label === 'healthy');

test('the evaluation has at least 8 healthy and 8 exploding runs', () => {
  assert.ok(exploding.length >= 8, `${exploding.length} exploding`);
  assert.ok(healthy.length >= 8, `${healthy.length} healthy`);
});

// The first alert on each exploding fixture run, pinned. Before the onset on all but the three
// lm-diverge runs: an AdamW warm-up to too high a peak whose loss plateaus while the rate rises.
// The edge-of-stability warning no longer reads a plateau during a linear warm-up as instability
// (healthy transformers plateau there too: docs/early-warning.md, "The detectors"), so on those
// the first alert comes at the blow-up, as the peers' do.
const FIRST_ALERT: Record<string, [step: number, kind: string]> = {
  'lm-attn-noqk': [67, 'loss-spike'],
  'lm-diverge-s0': [180, 'loss-spike'],
  'lm-diverge-s1': [205, 'loss-spike'],
  'lm-diverge-s2': [139, 'loss-spike'],
  'lm-jump-noln': [150, 'divergence'],
  'lm-jump-noln-s1': [150, 'divergence'],
  'lm-ramp-preln': [89, 'divergence'],
  'lm-ramp-preln-qk': [87, 'divergence'],
  'lm-ramp-preln-s1': [88, 'divergence'],
};

test('every exploding fixture run has its first alert pinned', () => {
  assert.deepEqual(exploding.map(([name]) => name).sort(), Object.keys(FIRST_ALERT).sort());
});

for (const [name, label] of exploding) {
  test(`${name}: first alert as pinned (onset at step ${label.onset})`, async () => {
    const { first } = await firstAlerts(name);
    assert.ok(first, 'an alert');
    assert.deepEqual([first.step, first.kind], FIRST_ALERT[name]);
  });
}

for (const [name] of healthy) {
  test(`${name}: a healthy run raises no alert at all`, async () => {
    const { opened } = await firstAlerts(name);
    assert.deepEqual(opened.map((a) => `${a.kind}@${a.step}: ${a.message}`), []);
  });
}

// lm-ramp-preln is the demo's experiment (scripts/demo.sh runs lm-ramp, the same recipe).
test('an LR ramp is warned at least 50 steps before its onset and before any peer', async () => {
  for (const [name, label] of exploding.filter(([n]) => n.startsWith('lm-ramp'))) {
    const { first } = await firstAlerts(name);
    const peerSteps = Object.values(peers[name]).filter((s): s is number => s !== null);
    assert.ok(label.onset! - first!.step >= 50, `${name}: warned at ${first!.step}, onset ${label.onset}`);
    assert.ok(peerSteps.every((s) => s - first!.step >= 50), `${name}: warned at ${first!.step}, peers at ${peerSteps.join(', ')}`);
  }
});

test('alert ids are unique within a run, so every closing ends the episode it belongs to', async () => {
  const corpusDir = path.resolve(__dirname, '..', 'fixtures', 'corpus');
  const corpus = Object.values(JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')).runs as Record<string, { file: string }>);
  const files = [...['lm-ramp-preln', ...Object.keys(labels)].map((n) => path.join(dir, `${n}.jsonl.gz`)), ...corpus.map((r) => path.join(corpusDir, r.file))];
  for (const file of files) {
    const name = path.basename(file);
    const { rows } = await loadRows(file);
    const open = new Map<string, string>();
    for (const alert of replay(rows)) {
      if (alert.state === 'open') {
        assert.ok(!open.has(alert.id), `${name}: ${alert.id} opened while an alert of that id is open (${open.get(alert.id)})`);
        open.set(alert.id, alert.kind);
      } else {
        assert.ok(open.delete(alert.id), `${name}: ${alert.id} closed without being open`);
      }
    }
  }
});
