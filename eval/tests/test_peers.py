"""The peer adapters on tiny synthetic runs; every expected step is worked out from the rule.

Rows use step = 100 + index so that a confusion between the row index and the step shows.
"""

from __future__ import annotations

import math

import pytest
from peers import (
    PEER_NAMES,
    all_peers,
    lightning_spike,
    llmfoundry_kill_loss_spike,
    megatron_spiky_loss,
    olmo_core_stability,
    trainpulse_monitor,
    trainscope_cusum,
)

BASE = 100


def rows_of(losses, grads=None):
    out = []
    for i, loss in enumerate(losses):
        row = {"step": BASE + i, "loss": float(loss)}
        if grads is not None:
            row["grad_norm"] = float(grads[i])
        out.append(row)
    return out


def first_step(mod, losses, grads=None):
    res = mod.detect(rows_of(losses, grads))
    return None if res.first is None else res.first.step


def test_registry_has_every_peer_of_the_design():
    assert set(all_peers()) == set(PEER_NAMES)
    assert len(PEER_NAMES) == 6


# --- Lightning SpikeDetection (window 10, rtol 2, warmup 1, finite_only) ---------------------


def test_lightning_fires_when_loss_is_three_times_the_running_mean():
    # index 5: mean of the five previous 1.0 = 1; 3.5 - 1 = 2.5 >= 2 * 1 -> spike
    assert first_step(lightning_spike, [1, 1, 1, 1, 1, 3.5]) == BASE + 5


def test_lightning_quiet_below_rtol():
    # 2.9 - 1 = 1.9 < 2
    assert first_step(lightning_spike, [1, 1, 1, 1, 1, 2.9, 1]) is None


def test_lightning_mean_is_over_the_last_ten_only():
    # 10 then ten 1.0: the running mean of the last 10 is 1 (the 10 fell out), so 3.1 fires at 11;
    # over all eleven values the mean would be 20/11 and 3.1 would not fire.
    assert first_step(lightning_spike, [10] + [1] * 10 + [3.1]) == BASE + 11


def test_lightning_improvement_is_never_a_spike():
    # a drop is an improvement over the last value: never a spike, however far from the mean
    assert first_step(lightning_spike, [100, 100, 100, 1, 1]) is None


def test_lightning_nan_counts():
    res = lightning_spike.detect(rows_of([2, 2, 2, math.nan]))
    assert res.first is not None
    assert res.first.step == BASE + 3
    assert "non-finite" in res.first.rule


# --- llm-foundry KillLossSpike (window 100, x2, patience 4, cap 10) ---------------------------


def test_llmfoundry_five_outliers_in_a_row():
    # index 100..104: the running mean of the window grows 1.00, 1.02, 1.04, 1.06, 1.08 and 3.0
    # stays >= 2x it; the fifth outlier (counter 5 > patience 4) is index 104.
    assert first_step(llmfoundry_kill_loss_spike, [1.0] * 100 + [3.0] * 6) == BASE + 104


def test_llmfoundry_counter_resets():
    # four outliers, a normal loss, four outliers: never five in a row
    seq = [1.0] * 100 + [3.0] * 4 + [1.0] + [3.0] * 4 + [1.0]
    assert first_step(llmfoundry_kill_loss_spike, seq) is None


def test_llmfoundry_high_loss_after_two_windows():
    # constant 11: never 2x its mean; from batch 200 (index 199) the whole window is > 10
    res = llmfoundry_kill_loss_spike.detect(rows_of([11.0] * 230))
    assert res.first is not None
    assert res.first.step == BASE + 199
    assert res.first.rule.startswith("high loss")


def test_llmfoundry_needs_a_full_window():
    assert first_step(llmfoundry_kill_loss_spike, [1.0] * 99 + [50.0] * 1) is None


# --- OLMo-core stability monitor (window 128, 6 std) ------------------------------------------


def alternating(n):
    return [1.0 if i % 2 == 0 else 1.2 for i in range(n)]  # mean 1.1, population std 0.1


def test_olmo_loss_above_mean_plus_six_std():
    assert first_step(olmo_core_stability, [*alternating(128), 1.75]) == BASE + 128


def test_olmo_quiet_below_six_std():
    # 1.65 < 1.1 + 6 * 0.1
    assert first_step(olmo_core_stability, [*alternating(128), 1.65]) is None


def test_olmo_needs_a_full_window():
    assert first_step(olmo_core_stability, [*alternating(127), 100.0]) is None


def test_olmo_grad_norm_spike():
    grads = [*alternating(128), 1.75]
    res = olmo_core_stability.detect(rows_of([2.0] * 129, grads))
    assert res.first is not None
    assert res.first.step == BASE + 128
    assert res.first.rule.startswith("grad norm")


def test_olmo_nonfinite_loss_is_the_trainer_check():
    res = olmo_core_stability.detect(rows_of([2.0, 2.0, math.inf]))
    assert res.first is not None
    assert res.first.step == BASE + 2


# --- Megatron-LM (10 x max of the first 100, NaN/Inf check) -----------------------------------


def test_megatron_ten_times_the_max_of_the_first_hundred():
    seq = [1.0] * 99 + [2.0] + [19.9, 20.0]
    assert first_step(megatron_spiky_loss, seq) == BASE + 101


def test_megatron_first_hundred_only_record():
    # a huge value among the first 100 raises the max instead of firing
    assert first_step(megatron_spiky_loss, [1.0] * 50 + [1000.0] + [1.0] * 60) is None


def test_megatron_nan_is_fatal_at_once():
    res = megatron_spiky_loss.detect(rows_of([1.0, math.nan]))
    assert res.first is not None
    assert res.first.step == BASE + 1
    assert "NaN" in res.first.rule


# --- trainpulse Monitor (5 x mean of 50, grad norm > 100, NaN/Inf) ----------------------------


def test_trainpulse_loss_spike():
    assert first_step(trainpulse_monitor, [1.0] * 50 + [5.01]) == BASE + 50


def test_trainpulse_loss_exactly_five_times_is_quiet():
    assert first_step(trainpulse_monitor, [1.0] * 50 + [5.0]) is None


def test_trainpulse_grad_norm_over_100():
    grads = [1.0, 100.0, 100.5]
    assert first_step(trainpulse_monitor, [1.0, 1.0, 1.0], grads) == BASE + 2


def test_trainpulse_nan():
    assert first_step(trainpulse_monitor, [1.0, math.nan]) == BASE + 1


def test_trainpulse_plateau_is_reported_but_not_counted():
    res = trainpulse_monitor.detect(rows_of([1.0] * 120))
    assert res.first is None
    assert res.other is not None
    # first value sets the best; the 100th non-improving value (index 100) raises the warning
    assert res.other.step == BASE + 100
    assert res.other.rule.startswith("plateau")


# --- trainscope (CUSUM h=6 k=1 on median/MAD z, 30 warm-up) ------------------------------------


def thirty():
    # median 1.05, MAD 0.05, robust std 1.4826 * 0.05 = 0.07413
    return [1.0 if i % 2 == 0 else 1.1 for i in range(30)]


def test_trainscope_cusum_fires_up():
    # z = (1.6 - 1.05) / 0.07413 = 7.42; S+ = 7.42 - 1 = 6.42 >= 6
    assert first_step(trainscope_cusum, [*thirty(), 1.6]) == BASE + 30


def test_trainscope_cusum_quiet_below_h():
    # z = (1.5 - 1.05) / 0.07413 = 6.07; S+ = 5.07 < 6; then back to the median resets nothing up
    assert first_step(trainscope_cusum, [*thirty(), 1.5, 1.05]) is None


def test_trainscope_warmup():
    assert first_step(trainscope_cusum, [1.0, 1.1] * 14 + [1.0, 100.0]) is None


def test_trainscope_falling_loss_is_other():
    # z = (0.5 - 1.05) / 0.07413 = -7.42; S- = -6.42 <= -6: fires with a negative score
    res = trainscope_cusum.detect(rows_of([*thirty(), 0.5]))
    assert res.first is None
    assert res.other is not None
    assert res.other.step == BASE + 30


def test_trainscope_ignores_nonfinite():
    assert first_step(trainscope_cusum, [*thirty(), math.nan, math.inf]) is None


@pytest.mark.parametrize("name", PEER_NAMES)
def test_every_peer_quiet_on_a_flat_run(name):
    res = all_peers()[name](rows_of([2.0 + 0.01 * math.sin(i) for i in range(300)], [1.0] * 300))
    assert res.first is None
