"""The signals that docs/early-warning.md studies, as the SDK logs them: each watched layer's top
singular value and update-to-weight ratio, and the log-partition of the logged predictions."""

from __future__ import annotations

import json
import math
from typing import Any

import torch
from torch import nn

import lossradar
from lossradar import metrics


def local_rows(run: lossradar.Run) -> list[dict[str, Any]]:
    assert run.local_dir is not None
    return [json.loads(line) for line in (run.local_dir / "metrics.jsonl").read_text().splitlines()]


def test_the_top_singular_value_is_the_spectral_norm_of_the_weight():
    torch.manual_seed(0)
    ws = torch.randn(3, 16, 24)
    v1 = metrics.power_iteration_batched(ws)
    sigma = metrics.top_singular_values_batched(ws, v1)
    assert torch.allclose(sigma, torch.linalg.matrix_norm(ws, ord=2), rtol=1e-3)


def test_the_weight_probe_estimates_the_relative_update_without_a_copy_of_the_weight():
    torch.manual_seed(0)
    w = torch.randn(1, 256, 256)
    step = 0.01 * torch.randn(1, 256, 256)
    before, after = metrics.weight_probe_batched(w), metrics.weight_probe_batched(w + step)
    estimate = float((after - before).norm() / after.norm())
    exact = float(step.norm() / (w + step).norm())
    assert abs(estimate - exact) < 0.2 * exact


def test_a_watched_layer_logs_sigma_and_update_ratio_and_the_ratio_follows_the_learning_rate(tmp_path):
    torch.manual_seed(0)
    first_layer = nn.Linear(8, 32)
    model = nn.Sequential(first_layer, nn.ReLU(), nn.Linear(32, 4))
    run = lossradar.init("signals", mode="local", dir=tmp_path)
    run.watch(model, every=5)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    x, y = torch.randn(64, 8), torch.randint(0, 4, (64,))
    for step in range(40):
        if step == 20:
            for group in opt.param_groups:
                group["lr"] = 1e-1
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        run.log(step, loss=loss)
    run.finish()
    rows = [r for r in local_rows(run) if "sa/0/sigma" in r]
    assert len(rows) >= 6
    first = rows[0]
    assert first["sa/0/update_ratio"] == "NaN"  # nothing to compare with yet
    # the warm-started power iteration has had a few updates since this σ₁ was measured
    spectral_norm = float(torch.linalg.matrix_norm(first_layer.weight.detach(), ord=2))
    assert math.isclose(first["sa/0/sigma"], spectral_norm, rel_tol=0.5)
    slow = [r["sa/2/update_ratio"] for r in rows[1:] if r["step"] < 20]
    fast = [r["sa/2/update_ratio"] for r in rows if r["step"] > 26]
    assert slow and fast and min(fast) > 10 * max(slow)


def test_log_predictions_logs_the_mean_log_partition_of_the_logits(tmp_path):
    run = lossradar.init("lse", mode="local", dir=tmp_path)
    logits = torch.tensor([[0.0, 0.0], [10.0, 0.0], [0.0, 0.0]])
    labels = torch.tensor([0, 0, -100])  # the ignored row does not count
    values = run.log_predictions(0, logits, labels)
    run.finish()
    expected = (math.log(2) + math.log(math.exp(10) + 1)) / 2
    assert math.isclose(values["logits/logsumexp"], expected, rel_tol=1e-5)
