// The detectors as a specification: what fires, when, how severe, and what stays quiet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replay } from '../../src/detect/replay';
import { Watchdog } from '../../src/detect/watchdog';
import { DEFAULT_SETTINGS, resolveSettings } from '../../src/detect/settings';
import { RollingWindow } from '../../src/detect/stats';
import { prng, syntheticRun } from '../helpers/syntheticRun';

const opened = (alerts: ReturnType<typeof replay>) => alerts.filter((a) => a.state === 'open');

test('a healthy run raises nothing, whatever its seed', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    const alerts = replay(syntheticRun({ steps: 1500, seed }));
    assert.deepEqual(opened(alerts).map((a) => `${a.kind}@${a.step}`), [], `seed ${seed}`);
  }
});

test('a NaN loss is critical at once, even during the warm-up, and carries the logging line', () => {
  const rows = syntheticRun({ steps: 20 });
  rows[7].values.loss = NaN;
  const [first] = opened(replay(rows));
  assert.equal(first.kind, 'nonfinite');
  assert.equal(first.severity, 'critical');
  assert.equal(first.step, 7);
  assert.deepEqual(first.source, { file: 'train.py', line: 42 });
  assert.match(first.message, /loss is NaN at step 7/);
});

test('a loss spike is one critical episode that closes once the loss is back', () => {
  const alerts = replay(syntheticRun({ steps: 600, lossFactor: (s) => (s >= 400 && s < 405 ? 8 : 1) }));
  const spikes = alerts.filter((a) => a.kind === 'loss-spike');
  assert.deepEqual(spikes.map((a) => [a.state, a.step]), [['open', 400], ['closed', 400]]);
  assert.equal(spikes[0].severity, 'critical');
  assert.ok(spikes[1].closedStep! >= 405 + DEFAULT_SETTINGS.clearRows - 1);
});

test('a fitted loss under its floor may spike for one row and come straight back; two rows in a row are an alert', () => {
  // Fitted at 0.025, under its floor (a tenth of its first rows' 3.5): a DQN's target sync or an
  // SFT run's odd batch lifts such a loss 5–12× for one row, and it comes back (docs/early-warning.md, item 24).
  const fitted = (s: number) => (s < 300 ? 1 : 0.05);
  const once = replay(syntheticRun({ steps: 700, lossFactor: (s) => fitted(s) * (s === 500 ? 200 : 1) }));
  assert.deepEqual(opened(once).map((a) => `${a.kind}@${a.step}`), []);
  const twice = opened(replay(syntheticRun({ steps: 700, lossFactor: (s) => fitted(s) * (s === 500 || s === 501 ? 200 : 1) })));
  const spike = twice.find((a) => a.kind === 'loss-spike');
  assert.ok(spike, JSON.stringify(twice.map((a) => `${a.kind}@${a.step}`)));
  assert.equal(spike.step, 501);
  assert.match(spike.message, /2 rows in a row since step 500/);
  assert.match(spike.message, /is the floor under the loss’s ratios/);
  const lenient = opened(replay(syntheticRun({ steps: 700, lossFactor: (s) => fitted(s) * (s === 500 ? 200 : 1) }), { spikeFloorRows: 1 }));
  assert.deepEqual(lenient.filter((a) => a.kind === 'loss-spike').map((a) => a.step), [500], 'spikeFloorRows 1: one row is enough again');
});

test('a transient in the first steps is not an alert', () => {
  const alerts = replay(syntheticRun({ steps: 300, lossFactor: (s) => (s === 3 ? 10 : 1), gradFactor: (s) => (s === 5 ? 50 : 1) }));
  assert.deepEqual(opened(alerts), []);
});

test('a creeping rise warns first; a multiple of the best loss is critical', () => {
  const alerts = opened(replay(syntheticRun({ steps: 900, lossFactor: (s) => (s < 500 ? 1 : Math.exp((s - 500) / 120)) })));
  const warning = alerts.find((a) => a.kind === 'divergence' && a.severity === 'warning');
  const critical = alerts.find((a) => a.kind === 'divergence' && a.severity === 'critical');
  assert.ok(warning && critical, JSON.stringify(alerts.map((a) => `${a.kind}/${a.severity}@${a.step}`)));
  assert.ok(warning.step < critical.step, `warning at ${warning.step}, critical at ${critical.step}`);
  assert.ok(warning.step > 500 && warning.step < 560);
});

test('sign-diversity collapse across layers warns once turned on; a layer near zero from the start does not', () => {
  const on = { saCollapseRatio: 0.3 };
  const rows = syntheticRun({ steps: 800, sa: (l, s) => (s >= 500 && l < 3 ? 0.02 : 0.6) });
  assert.deepEqual(opened(replay(rows)).filter((a) => a.kind === 'sa-collapse'), [], 'off by default (docs/early-warning.md)');
  const collapse = replay(rows, on);
  const sa = opened(collapse).filter((a) => a.kind === 'sa-collapse');
  assert.equal(sa.length, 1);
  assert.equal(sa[0].severity, 'warning');
  assert.ok(sa[0].step >= 500 && sa[0].step <= 520, `at ${sa[0].step}`);
  assert.equal(sa[0].values.collapsedLayers, 3);
  assert.equal(sa[0].values.judgedLayers, 6, 'the head at ≈0 is not judged');
  const oneLayer = replay(syntheticRun({ steps: 800, sa: (l, s) => (s >= 500 && l === 0 ? 0.02 : 0.6) }), on);
  assert.deepEqual(opened(oneLayer).filter((a) => a.kind === 'sa-collapse'), [], 'a single layer is not the model');
});

test('entropy falling far below the loss is an entropy-collapse warning', () => {
  const alerts = opened(replay(syntheticRun({ steps: 800, entropyFactor: (s) => (s < 500 ? 1 : Math.max(0.1, 1 - (s - 500) / 100)) })));
  const e = alerts.find((a) => a.kind === 'entropy-collapse');
  assert.ok(e, JSON.stringify(alerts));
  assert.equal(e.severity, 'warning');
  assert.ok(e.step > 540 && e.step < 600, `at ${e.step}`);
});

test('a gradient norm growing while the loss stalls warns; growing while the loss falls does not', () => {
  const growth = (s: number) => (s < 600 ? 1 : Math.exp((s - 600) / 30));
  // The synthetic loss has flattened out by step 600: growth there is a warning.
  const stalled = opened(replay(syntheticRun({ steps: 900, gradFactor: growth })));
  const g = stalled.find((a) => a.kind === 'grad-spike');
  assert.ok(g, JSON.stringify(stalled));
  assert.equal(g.severity, 'warning');
  assert.ok(g.step > 600 && g.step < 680, `at ${g.step}`);
  // Early, while the loss still falls fast, the same growth is a model starting to learn.
  const learning = opened(replay(syntheticRun({ steps: 300, gradFactor: (s) => (s < 40 ? 1 : Math.min(8, Math.exp((s - 40) / 30))) })));
  assert.deepEqual(learning.filter((a) => a.kind === 'grad-spike').map((a) => a.step), []);
});

test('the loss making no progress while the learning rate keeps rising is a warning (the edge of stability)', () => {
  const rows = syntheticRun({ steps: 400 });
  for (const row of rows) {
    row.values.lr = 1e-3 * Math.exp(row.step / 60); // an exponential ramp
    if (row.step >= 250) row.values.loss = rows[249].values.loss * (1 + 0.02 * Math.sin(row.step)); // flat from step 250
  }
  const edge = opened(replay(rows)).find((a) => a.kind === 'divergence' && a.message.includes('edge of stability'));
  assert.ok(edge, 'warned');
  assert.equal(edge.severity, 'warning');
  assert.ok(edge.step > 250 && edge.step < 320, `at ${edge.step}`);
  // The same ramp while the loss keeps falling is a healthy warm-up.
  const healthy = syntheticRun({ steps: 240 });
  for (const row of healthy) row.values.lr = 1e-3 * Math.exp(row.step / 60);
  assert.deepEqual(opened(replay(healthy)).map((a) => a.kind), []);
});

test('a learning rate that jumps is a warning', () => {
  const rows = syntheticRun({ steps: 300 });
  for (const row of rows) row.values.lr = row.step < 200 ? 1e-3 : 1e-2;
  const jump = opened(replay(rows)).find((a) => a.metric === 'lr');
  assert.equal(jump?.step, 200);
  assert.match(jump!.message, /jumped 10× \(0\.001 → 0\.01\)/);
});

test('a jump of the learning rate back to a peak the run trained at (a warm restart) is no warning; above every rate it is', () => {
  // SGDR: cosine from 1e-3 to ~0 every 200 steps, the loss 40 % up after each restart, back within 40 steps.
  const period = 200;
  const rows = syntheticRun({ steps: 1000, seed: 3 });
  for (const row of rows) {
    const t = row.step % period;
    row.values.lr = 1e-3 * 0.5 * (1 + Math.cos((Math.PI * t) / period)) + 1e-7;
    if (row.step >= period) row.values.loss *= 1 + 0.4 * Math.exp(-t / 15);
  }
  assert.deepEqual(opened(replay(rows)).map((a) => `${a.kind}@${a.step}`), []);
  // The same loss under a constant rate is a rise beyond noise: the restart is what explains it.
  const constant = rows.map((r) => ({ ...r, values: { ...r.values, lr: 1e-3 } }));
  const rise = opened(replay(constant)).find((a) => a.kind === 'divergence');
  assert.ok(rise && rise.step % period < 20, `the rise after a restart warns under a constant rate: ${rise?.step}`);
  // A step to twice the peak, from the bottom of a cycle, is a jump into rates never trained at.
  const higher = rows.map((r) => (r.step >= 600 ? { ...r, values: { ...r.values, lr: r.values.lr * 2 } } : r));
  const jump = opened(replay(higher)).find((a) => a.metric === 'lr');
  assert.equal(jump?.step, 600);
  assert.match(jump!.message, /above any rate the run had trained at/);
});

test('a gradient spike the clip absorbs is no warning once the SDK logs the applied norm; unclipped it is', () => {
  const spiked = syntheticRun({ steps: 500, gradFactor: (s) => (s === 300 ? 1000 : 1) });
  const withApplied = (clip: number) =>
    spiked.map((r) => ({ ...r, values: { ...r.values, 'grad_norm/applied': Math.min(r.values.grad_norm, clip) } }));
  const pre = opened(replay(spiked)).filter((a) => a.kind === 'grad-spike');
  assert.deepEqual(pre.map((a) => [a.metric, a.step]), [['grad_norm', 300]], 'only the pre-clip norm: it is judged');
  assert.deepEqual(opened(replay(withApplied(2))).filter((a) => a.kind === 'grad-spike'), [], 'clipped at 2: nothing reached the weights');
  const unclipped = opened(replay(withApplied(Number.POSITIVE_INFINITY))).filter((a) => a.kind === 'grad-spike');
  assert.deepEqual(unclipped.map((a) => [a.metric, a.step]), [['grad_norm/applied', 300]]);
  assert.match(unclipped[0].message, /the gradient applied \(after clipping\) spiked/);
});

test('a loss that has fitted its data moves by ratios that are no alarm; one that climbs back to its starting scale is critical', () => {
  // A fine-tune: 0.7 falling to 0.002, then drifting to 3× that, a hundredth of where it started
  // (docs/early-warning.md, "The detectors", item 12); the ratio alone called it diverging.
  const rand = prng(7);
  const loss = (i: number) => (i < 400 ? Math.max(0.002, 0.7 * Math.exp(-i / 40)) : 0.002 * Math.min(3, 1 + (i - 400) / 100));
  const fitted = syntheticRun({ steps: 800 }).map((r, i) => ({ ...r, values: { ...r.values, loss: loss(i) * (0.9 + 0.2 * rand()) } }));
  assert.deepEqual(opened(replay(fitted)).map((a) => a.id), []);
  const blown = fitted.map((r, i) => (i >= 600 ? { ...r, values: { ...r.values, loss: 0.006 * Math.exp((i - 600) / 10) } } : r));
  const critical = opened(replay(blown)).find((a) => a.severity === 'critical');
  assert.ok(critical && critical.step > 600 && critical.step < 700, JSON.stringify(critical));
  assert.match(critical.message, /is the floor under the loss’s ratios, a tenth of its first rows’ loss$/, 'it says the level it quotes is the floor');
});

test('a loss that wanders with its data for hundreds of rows is no rise; one that keeps rising is', () => {
  // An LM's loss: 1 % noise per row, and a level that drifts 2 % up and back over 800 rows as the
  // data shards change (the GPT-2 logs of docs/early-warning.md, item 15).
  const rand = prng(11);
  const level = (i: number) => 3.6 * (1 + 0.02 * Math.max(0, Math.sin((2 * Math.PI * i) / 800)));
  const lm = (rise: (i: number) => number) =>
    syntheticRun({ steps: 3000 }).map((r, i) => ({ ...r, values: { ...r.values, loss: level(i) * rise(i) * (1 + 0.01 * (rand() + rand() + rand() - 1.5) * 2) } }));
  const rises = (rows: ReturnType<typeof lm>) => opened(replay(rows)).filter((a) => a.id.startsWith('divergence:rise'));
  assert.deepEqual(rises(lm(() => 1)).map((a) => a.id), []);
  const [warned] = rises(lm((i) => (i < 2000 ? 1 : Math.exp((i - 2000) / 400))));
  assert.ok(warned && warned.step > 2000 && warned.step < 2200, JSON.stringify(warned));
});

test('an overflowed gradient beside a finite loss is a step the loss scaler skipped; two in a row after the warm-up are critical', () => {
  const rows = syntheticRun({ steps: 400 });
  for (const i of [0, 1, 2, 200]) rows[i].values.grad_norm = NaN;
  assert.deepEqual(opened(replay(rows)).filter((a) => a.kind === 'nonfinite'), [], 'the scaler finding its scale, then one skip');
  rows[300].values.grad_norm = Infinity;
  rows[301].values.grad_norm = Infinity;
  const broken = opened(replay(rows)).filter((a) => a.kind === 'nonfinite');
  assert.deepEqual(broken.map((a) => [a.metric, a.step]), [['grad_norm', rows[301].step]]);
  assert.match(broken[0].message, /2 rows in a row/);
  rows[100].values.loss = NaN;
  rows[100].values.grad_norm = NaN;
  assert.ok(opened(replay(rows)).some((a) => a.kind === 'nonfinite' && a.metric === 'grad_norm' && a.step === rows[100].step), 'with the loss');
});

test('without the applied norm, a spike of the norm before clipping counts only far past what clipped runs show', () => {
  const spiked = (x: number) => opened(replay(syntheticRun({ steps: 500, gradFactor: (s) => (s === 300 ? x : 1) }))).filter((a) => a.kind === 'grad-spike');
  assert.deepEqual(spiked(18), [], '18×: as healthy GPT-2 runs that clip at 1 show');
  assert.deepEqual(spiked(60).map((a) => a.step), [300]);
});

test('every threshold is a setting, and a wrong one is refused clearly', () => {
  assert.equal(resolveSettings({ spikeRatio: 3 }).spikeRatio, 3);
  assert.throws(() => resolveSettings({ spikeRatoi: 3 }), /unknown detector setting "spikeRatoi"/);
  assert.throws(() => resolveSettings({ spikeRatio: -1 }), /expected a non-negative number, got -1/);
  const lenient = new Watchdog({ spikeRatio: 100 });
  assert.equal(lenient.settings.spikeRatio, 100);
});

test('the rolling window’s median and MAD match a direct computation', () => {
  const w = new RollingWindow(5);
  for (const v of [5, 1, 4, 2, 3, 100, 7]) w.push(v); // keeps 4, 2, 3, 100, 7
  assert.equal(w.median(), 4);
  assert.equal(w.mad(), 1.4826 * 2); // |dev| = 0, 2, 1, 96, 3 → median 2
});
