// The detectors judge each run against its own noise, whatever its shape: a per-sample loss's heavy
// tail, a signed loss, a loss pinned at its floor, a cyclic rate (docs/early-warning.md, "The zoo").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { replay } from '../../src/detect/replay';
import { LossScale } from '../../src/detect/lossScale';
import { diffSigma, LaggedReference } from '../../src/detect/stats';
import type { MetricRow } from '../../src/store/run';
import { prng } from '../helpers/syntheticRun';

const opened = (alerts: ReturnType<typeof replay>) => alerts.filter((a) => a.state === 'open').map((a) => `${a.kind}@${a.step}`);

function rows(n: number, values: (step: number, rand: () => number) => Record<string, number>, seed = 1): MetricRow[] {
  const rand = prng(seed);
  return Array.from({ length: n }, (_, step) => ({ step, time: step, values: values(step, rand), source: undefined, seq: step, rank: undefined }));
}

/** A standard normal draw (Box–Muller). */
const gauss = (rand: () => number) => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());

test('a per-sample loss, heavy-tailed and mostly under its floor, raises nothing; a blow-up of it does', () => {
  // Batch size 1: after learning, most samples' loss is near 0 and a hard one's is 30× the median.
  const perSample = (step: number, rand: () => number) => {
    const level = step < 200 ? 2.3 * Math.exp(-step / 60) + 0.1 : 0.1;
    return { loss: level * Math.exp(1.6 * gauss(rand)), lr: 0.002, grad_norm: 0.5 * Math.exp(gauss(rand)) };
  };
  for (const seed of [1, 2, 3]) assert.deepEqual(opened(replay(rows(2000, perSample, seed))), [], `seed ${seed}`);
  const blowUp = rows(1200, (s, r) => ({ ...perSample(s, r), ...(s >= 1000 ? { loss: 50 * Math.exp((s - 1000) / 10) } : {}) }));
  // Its heavy tail hides the first rows of the blow-up from the spike rule; the divergence rule has it
  // within a few rows.
  const first = opened(replay(blowUp))[0];
  assert.ok(first && Number(first.split('@')[1]) <= 1005, first);
});

test('a loss that crosses zero from its first rows (a policy-gradient surrogate) has its spread for its scale', () => {
  const scale = new LossScale();
  const first = [-1.15, -0.37, -0.31, 0.56, -0.57, -0.16, 0.4, -0.73, -0.91, -0.06, 0.53];
  for (const x of first) scale.observe(x);
  const spread = 1.4826 * 0.42; // 1.4826 × the MAD of the first rows about their median, −0.31
  assert.ok(Math.abs(scale.floored(-2) - spread) < 0.02, String(scale.floored(-2)));
  assert.match(scale.note(scale.floored(-2)), /spread of its first rows/);
  // A loss of one sign keeps a tenth of its level: a VAE's ELBO at −100.
  const elbo = new LossScale();
  for (let i = 0; i < 11; i++) elbo.observe(-100 - i);
  assert.equal(elbo.floored(-200), 10.5);
  // The surrogate's blow-up is still one.
  const blowUp = rows(700, (s, r) => ({ loss: s >= 600 ? Math.exp((s - 600) / 5) : 0.05 * gauss(r) - 0.05, lr: 0.01 }));
  assert.ok(opened(replay(blowUp)).some((a) => a.startsWith('loss-spike') || a.startsWith('divergence')));
});

test('the rate climbing back through rates the run has trained at is no edge of stability', () => {
  // CyclicLR, triangular2: up 100× over 150 rows, down again, each cycle half as high; the loss flat.
  const cyclic = (step: number) => {
    const cycle = Math.floor(step / 300);
    const t = (step % 300) / 150;
    return 1e-3 + (0.2 - 1e-3) * (t <= 1 ? t : 2 - t) / 2 ** cycle;
  };
  const run = rows(1200, (s, r) => ({ loss: (s < 100 ? 2 - s / 100 : 1) * (1 + 0.02 * gauss(r)), lr: cyclic(s) }));
  assert.deepEqual(opened(replay(run)), []);
  // The same climb into rates the run has never trained at (a ramp) still warns.
  const ramp = rows(600, (s, r) => ({ loss: (s < 100 ? 2 - s / 100 : 1) * (1 + 0.02 * gauss(r)), lr: 1e-3 * Math.exp(s / 60) }));
  assert.ok(opened(replay(ramp)).some((a) => a.startsWith('divergence')), 'the ramp warns');
});

test('one row far above a reference that has no spread does not open the rise beyond noise', () => {
  // A loss sitting exactly at its floor, then one row at 1.5× it: a spike's business at most.
  const flat = rows(600, (s) => ({ loss: s < 20 ? 1 : s === 400 ? 0.15 : 0.1 }));
  assert.ok(!opened(replay(flat)).some((a) => a.startsWith('divergence')), JSON.stringify(opened(replay(flat))));
});

test('the noise of a trending series is read from its differences, and a skewed reference is centred on its mean', () => {
  const rand = prng(7);
  const trend = Array.from({ length: 200 }, (_, i) => i * 0.05 + 0.1 * gauss(rand));
  const sigma = diffSigma(trend);
  assert.ok(sigma > 0.07 && sigma < 0.13, `σ ${sigma}`);
  // Half the values pinned at 0, the rest spread above: the MAD alone reads no spread at all.
  const ref = new LaggedReference(0, 100, 20, 1, 10);
  for (let i = 0; i < 100; i++) ref.push(i % 2 === 0 ? 0 : Math.abs(gauss(rand)));
  assert.ok(ref.sd(0) > 0.3, `σ ${ref.sd(0)}`);
  assert.ok(ref.median() > 0.2, `centre ${ref.median()}`);
});

test('a rise in the first rows is judged only once the reference holds four blocks of the loss', () => {
  // A GAN's generator loss: flat and smooth while the discriminator is naive, then a few percent up
  // as it learns, and back. Against the 20 smooth rows the reference held at row 40, a 5 % step read
  // as z ≈ 5 from its first row; against 40 rows it has ended before the sum can reach h.
  const early = rows(400, (s, r) => ({ loss: 0.6 * (s >= 42 && s < 66 ? 1.05 : 1) * (1 + 0.01 * gauss(r)), lr: 2e-4 }));
  assert.deepEqual(opened(replay(early)), []);
  // The same rise later in the run, or one that lasts, is still a rise.
  const lasting = rows(400, (s, r) => ({ loss: 0.6 * (s >= 42 ? 1.05 : 1) * (1 + 0.01 * gauss(r)), lr: 2e-4 }));
  assert.ok(opened(replay(lasting)).some((a) => a.startsWith('divergence')), opened(replay(lasting)).join(' '));
});

test('a loss fitted under its floor keeps its own noise: a step just above the floor is no rise, a climb far above it is', () => {
  // A loss fitted to 0.005 (its floor is 0.23, a tenth of its start), its batches spread by 40 % as a
  // small loss's do; from row 400 the objective changes and it sits just above the floor. Judged
  // against a reference of the floored loss (no spread at all), 3 % above the floor read as z = 30.
  const level = (s: number) => (s < 200 ? 2.3 * Math.exp(-s / 22) : 0.005);
  const noisy = (l: number, r: () => number) => l * Math.exp(0.4 * gauss(r));
  for (const seed of [1, 2, 3]) {
    const step = rows(900, (s, r) => ({ loss: noisy(s < 400 ? level(s) : 0.25, r), lr: 1e-3 }), seed);
    const divergence = opened(replay(step)).filter((a) => a.startsWith('divergence'));
    assert.deepEqual(divergence, [], `seed ${seed}`);
  }
  // The critical rule's margin is that noise too: a smoothed loss that wanders about 2× the floor is
  // no divergence for a loss whose batches spread this much (the rise beyond noise may still say it
  // is rising). Against the floored loss's noise (none) it crossed 2× again and again.
  const higher = rows(900, (s, r) => ({ loss: noisy(s < 400 ? level(s) : 0.45, r), lr: 1e-3 }));
  const critical = replay(higher).filter((a) => a.state === 'open' && a.kind === 'divergence' && a.severity === 'critical');
  assert.deepEqual(critical.map((a) => a.step), []);
  // A climb from under the floor to four times it, and on, is still a rise, and a blow-up.
  const climb = rows(900, (s, r) => ({ loss: noisy(s < 400 ? level(s) : 0.23 * Math.exp((s - 400) / 60), r), lr: 1e-3 }));
  const alerts = opened(replay(climb));
  const first = alerts.find((a) => a.startsWith('divergence'));
  assert.ok(first && Number(first.split('@')[1]) < 500, alerts.join(' '));
});
