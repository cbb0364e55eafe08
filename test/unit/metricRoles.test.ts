// Which logged metric plays which role (docs/metrics.md): the names people log, an explicit choice,
// and the detectors judging a run that never logs a metric called `loss`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replay } from '../../src/detect/replay';
import { resolveRoles, RoleResolver } from '../../src/metrics/roles';
import type { MetricRow } from '../../src/store/run';

test('the names of Hugging Face, Lightning and plain scripts resolve to their roles', () => {
  assert.deepEqual(resolveRoles(['loss', 'learning_rate', 'grad_norm', 'eval_loss', 'epoch']), { loss: 'loss', 'loss/val': 'eval_loss', lr: 'learning_rate', grad_norm: 'grad_norm' });
  assert.deepEqual(resolveRoles(['train_loss', 'val_loss', 'lr-AdamW', 'epoch']), { loss: 'train_loss', 'loss/val': 'val_loss', lr: 'lr-AdamW', grad_norm: null });
  assert.deepEqual(resolveRoles(['train/loss', 'val/loss', 'train/lr', 'train/grad_norm']), { loss: 'train/loss', 'loss/val': 'val/loss', lr: 'train/lr', grad_norm: 'train/grad_norm' });
  assert.deepEqual(resolveRoles(['loss/train', 'loss/val', 'gradient_norm']).loss, 'loss/train');
  assert.equal(resolveRoles(['train_loss', 'loss']).loss, 'loss', 'the canonical name comes first');
  assert.equal(resolveRoles(['accuracy']).loss, null);
});

test('an explicit choice wins over every guess', () => {
  assert.equal(resolveRoles(['loss', 'train/total'], { loss: 'train/total' }).loss, 'train/total');
});

test('a role, once taken, keeps its metric for the rest of the run', () => {
  const r = new RoleResolver();
  r.observe({ train_loss: 1 });
  r.observe({ loss: 2, train_loss: 1 });
  assert.equal(r.roles.loss, 'train_loss');
  assert.equal(r.roles['loss/val'], null, 'a sparse validation row has not come yet');
  r.observe({ val_loss: 3 });
  assert.equal(r.roles['loss/val'], 'val_loss');
});

test('the canonical view moves an aliased metric to its role’s name, and leaves a plain row alone', () => {
  const plain = new RoleResolver();
  const values = { loss: 1, lr: 0.1 };
  plain.observe(values);
  assert.equal(plain.canonical(values), values, 'no copy when nothing is aliased');
  const aliased = new RoleResolver();
  aliased.observe({ train_loss: 2, learning_rate: 0.1, acc: 0.5 });
  assert.deepEqual(aliased.canonical({ train_loss: 2, learning_rate: 0.1, acc: 0.5 }), { loss: 2, lr: 0.1, acc: 0.5 });
  assert.equal(aliased.actual('loss'), 'train_loss');
  assert.equal(aliased.actual('acc'), 'acc');
});

/** A loss that falls, then explodes, with a learning rate that ramps: the shape every detector knows. */
function blowUp(lossName: string, lrName: string): MetricRow[] {
  const rows: MetricRow[] = [];
  for (let step = 0; step < 400; step++) {
    const loss = step < 250 ? 2 * Math.exp(-step / 80) + 0.3 + 0.01 * Math.sin(step) : 0.3 * Math.exp((step - 250) / 12);
    rows.push({ step, time: step, values: { [lossName]: loss, [lrName]: 1e-3 * 1.02 ** step }, source: undefined, seq: step, rank: undefined });
  }
  return rows;
}

test('a script that logs only train_loss and learning_rate gets the same warnings, named after its metrics', () => {
  const canonical = replay(blowUp('loss', 'lr')).filter((a) => a.state === 'open');
  const aliased = replay(blowUp('train_loss', 'learning_rate')).filter((a) => a.state === 'open');
  assert.ok(canonical.length > 0, 'the canonical run alerts');
  assert.deepEqual(aliased.map((a) => `${a.kind}@${a.step}`), canonical.map((a) => `${a.kind}@${a.step}`));
  const metrics = new Set(aliased.map((a) => a.metric));
  assert.ok(!metrics.has('loss') && !metrics.has('lr'), `alerts name the logged metrics: ${[...metrics]}`);
  assert.ok(metrics.has('train_loss'));
  const closed = replay(blowUp('train_loss', 'learning_rate')).filter((a) => a.state === 'closed');
  for (const c of closed) assert.notEqual(c.metric, 'loss', 'closings name it too');
});

test('detect --set loss=NAME judges the metric the user names', () => {
  const rows = blowUp('train/total', 'lr');
  assert.equal(replay(rows).filter((a) => a.metric === 'train/total' && a.kind !== 'nonfinite').length, 0, 'no guess reaches train/total');
  assert.ok(replay(rows, {}, { loss: 'train/total' }).some((a) => a.metric === 'train/total'));
});
