"""The loss-only labelling rule of eval/label.py (eval/README.md, "Labels"), on hand-made runs."""

from __future__ import annotations

import math

from label import label_losses, label_rows


def decay(n, start=4.2, floor=2.0, tau=40.0):
    """A healthy loss curve: floor + (start - floor) * exp(-i / tau), still improving at the end."""
    return [floor + (start - floor) * math.exp(-i / tau) for i in range(n)]


def lab(losses):
    return label_losses(list(range(len(losses))), losses)


def test_healthy_run():
    out = lab(decay(400, tau=150))
    assert out.label == "healthy"
    assert out.onset is None


def test_jump_that_stays_explodes_with_onset_at_the_jump():
    # best 2.0 (the floor); from step 200 every loss is 5.0 > 1.25 * 2.0 and never returns;
    # the smoothed peak 5.0 is 2.5 x the best >= 2
    seq = decay(60) + [2.0] * 140 + [5.0] * 100
    out = lab(seq)
    assert out.label == "explode"
    assert out.onset == 200
    assert out.healthy_phase


def test_gradual_rise_onset_when_it_leaves_the_band_for_good():
    # flat 2.0 to step 199, then 2.0 + 0.01 * (s - 199): > 2.5 from s = 250 on; reaches 4.2
    seq = decay(60) + [2.0] * 140 + [2.0 + 0.01 * k for k in range(1, 221)]
    out = lab(seq)
    assert out.label == "explode"
    assert out.onset == 250


def test_nan_while_in_band_onsets_at_the_nan():
    seq = decay(60) + [2.0] * 90 + [math.nan] * 10
    out = lab(seq)
    assert out.label == "explode"
    assert out.onset == 150
    assert out.nonfinite_step == 150


def test_rise_then_nan_onsets_at_the_rise():
    seq = decay(60) + [2.0] * 140 + [3.0] * 10 + [math.inf] * 5
    out = lab(seq)
    assert out.label == "explode"
    assert out.onset == 200
    assert out.nonfinite_step == 210


def test_degraded_but_not_doubled_is_a_stall_not_an_explosion():
    # creeps up to 1.45 x the best and stays: out of band, but under K = 2, and no step >= 1.5 x
    seq = decay(60) + [2.0] * 140 + [2.0 + 0.009 * k for k in range(1, 101)] + [2.9] * 100
    out = lab(seq)
    assert out.label == "stall"
    assert out.onset is None
    assert "ends at" in out.reason


def test_huge_spike_that_comes_back_is_not_an_explosion():
    # 100 x the best for 30 steps, then back to 1.1 x, in band
    seq = decay(60) + [2.0] * 140 + [200.0] * 30 + [2.2] * 70
    out = lab(seq)
    assert out.label == "spike-recover"
    assert out.onset is None


def test_huge_spike_that_never_returns_to_the_band_is_an_explosion():
    # 100 x the best, then settles at 1.4 x: never back in the band after a peak >= K
    seq = decay(60) + [2.0] * 140 + [200.0] * 30 + [2.8] * 70
    out = lab(seq)
    assert out.label == "explode"
    assert out.onset == 200


def test_single_spike_that_recovers():
    seq = decay(400, tau=150)
    seq[250] = seq[249] * 2
    out = lab(seq)
    assert out.label == "spike-recover"
    assert out.onset is None


def test_spike_phase_that_doubles_but_comes_back_is_not_an_explosion():
    seq = decay(400, tau=150)
    for i in range(200, 230):
        seq[i] *= 2.5
    out = lab(seq)
    assert out.label == "spike-recover"


def test_plateau_is_a_stall():
    seq = decay(60, tau=10) + [2.0] * 340
    out = lab(seq)
    assert out.label == "stall"
    assert "stopped improving" in out.reason


def test_never_learned_is_a_stall():
    out = lab([4.2 + 0.01 * math.sin(i) for i in range(300)])
    assert out.label == "stall"


def test_explosion_without_healthy_phase_is_flagged():
    seq = [2.0] * 100 + [6.0] * 100
    out = lab(seq)
    assert out.label == "explode"
    assert not out.healthy_phase


def test_small_bump_is_neither_spike_nor_explosion():
    # 1.3 x for 20 steps, then back: below S = 1.5, back in band at the end
    seq = decay(400, tau=150)
    for i in range(200, 220):
        seq[i] *= 1.3
    assert lab(seq).label == "healthy"


def test_no_onset_inside_warmup():
    # NaN at once: onset is the NaN step, and no healthy phase
    out = lab([math.nan] * 50)
    assert out.label == "explode"
    assert not out.healthy_phase


def test_rows_without_loss_are_ignored_and_steps_are_kept():
    rows = []
    losses = decay(60) + [2.0] * 140 + [5.0] * 100
    for i, loss in enumerate(losses):
        rows.append({"step": 10 * i, "loss": loss})
        rows.append({"step": 10 * i, "loss/val": 99.0})
    out = label_rows(rows)
    assert out.label == "explode"
    assert out.onset == 2000


def test_a_fitted_loss_that_triples_near_zero_is_no_explosion_one_back_at_its_start_scale_is():
    # 0.7 down to 0.002, then 0.006 for good: 3x its best, but a hundredth of where it started.
    fitted = decay(200, start=0.7, floor=0.002, tau=20)
    out = lab(fitted + [0.006] * 200)
    assert out.label != "explode"
    out = lab(fitted + [0.5] * 200)
    assert out.label == "explode"
    assert out.onset == 200


def test_a_negative_loss_that_keeps_falling_is_healthy():
    out = lab([-65000.0 - 1200.0 * i for i in range(300)])
    assert out.label == "healthy"
