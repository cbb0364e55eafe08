"""The signals that docs/early-warning.md studies, as the SDK logs them: each watched layer's top
singular value and update-to-weight ratio, and the log-partition of the logged predictions."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
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


def watched_linear(tmp_path, name: str) -> tuple[lossradar.Run, nn.Linear, torch.optim.SGD]:
    """A local run watching a small linear model, with its optimizer: grad_norm/applied armed."""
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    run = lossradar.init(name=name, mode="local", dir=tmp_path)
    run.watch(model, every=1000, optimizer=opt, snapshot_to="off")
    return run, model, opt


def total_grad_norm(model: nn.Module) -> float:
    return float(torch.nn.utils.get_total_norm([p.grad for p in model.parameters() if p.grad is not None]))


def _clipped_loop(run: lossradar.Run, model: nn.Module, opt: torch.optim.Optimizer, steps: int, clip: float) -> None:
    for step in range(steps):
        x = torch.randn(16, 8) * (1000.0 if step == 3 else 1.0)  # step 3: a corrupted batch
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        pre = torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        run.log(step, loss=loss, grad_norm=pre)


def test_with_an_optimizer_the_sdk_logs_the_norm_the_optimizer_applied_after_clipping(tmp_path):
    run, model, opt = watched_linear(tmp_path, "applied")
    _clipped_loop(run, model, opt, 6, clip=1.0)
    run.finish()
    rows = [r for r in local_rows(run) if "loss" in r]
    assert [r["step"] for r in rows] == list(range(6))
    # the corrupted batch: a huge gradient before clipping, the clip's norm applied
    assert rows[3]["grad_norm"] > 100 and rows[3]["grad_norm/applied"] == pytest.approx(1.0, rel=1e-5)
    for r in rows:
        assert r["grad_norm/applied"] == pytest.approx(min(r["grad_norm"], 1.0), rel=1e-5)


def test_the_applied_norm_is_the_largest_since_the_last_row_and_a_logged_one_wins(tmp_path):
    run, model, opt = watched_linear(tmp_path, "largest")
    norms = []
    for scale in (1.0, 5.0, 2.0):  # three optimizer steps, one row
        opt.zero_grad()
        (model(torch.randn(16, 8)).pow(2).mean() * scale).backward()
        norms.append(total_grad_norm(model))
        opt.step()
    run.log(0, loss=1.0)
    run.log(1, loss=1.0)  # no optimizer step since: no applied norm
    opt.zero_grad()
    model(torch.randn(16, 8)).sum().backward()
    opt.step()
    run.log(2, {"loss": 1.0, "grad_norm/applied": 42.0})
    run.finish()
    rows = {r["step"]: r for r in local_rows(run) if "loss" in r}
    assert rows[0]["grad_norm/applied"] == pytest.approx(max(norms), rel=1e-5)
    assert "grad_norm/applied" not in rows[1]
    assert rows[2]["grad_norm/applied"] == 42.0


def test_without_an_optimizer_nothing_is_measured_and_a_failing_measure_never_stops_the_step(tmp_path, monkeypatch):
    torch.manual_seed(0)
    model = nn.Linear(8, 4)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    plain = lossradar.init(name="plain", mode="local", dir=tmp_path)
    plain.watch(model, every=1000)
    _clipped_loop(plain, model, opt, 2, clip=1.0)
    plain.finish()
    assert all("grad_norm/applied" not in r for r in local_rows(plain))

    from lossradar import applied

    def broken(grads):
        raise RuntimeError("no norm for this tensor type")

    monkeypatch.setattr(applied, "_total_norm", broken)
    run = lossradar.init(name="broken", mode="local", dir=tmp_path)
    run.watch(model, every=1000, optimizer=opt, snapshot_to="off")
    before = model.weight.detach().clone()
    with pytest.warns(lossradar.LossRadarWarning, match="grad_norm/applied is off for this run"):
        _clipped_loop(run, model, opt, 3, clip=1.0)
    run.finish()
    assert not torch.equal(before, model.weight)  # the optimizer stepped all the same
    rows = [r for r in local_rows(run) if "loss" in r]
    assert len(rows) == 3 and all("grad_norm/applied" not in r for r in rows)


def test_under_a_closure_the_norm_is_that_of_the_gradients_the_closure_made(tmp_path):
    # Lightning's automatic optimisation and LBFGS run the forward and backward inside step()
    run, model, opt = watched_linear(tmp_path, "closure")
    seen = []
    for step in range(3):
        x = torch.randn(16, 8) * (step + 1)

        def closure(x: torch.Tensor = x) -> torch.Tensor:
            opt.zero_grad()
            loss: torch.Tensor = model(x).pow(2).mean()
            loss.backward()
            seen.append(total_grad_norm(model))
            return loss

        opt.step(closure)
        run.log(step, loss=1.0)
    run.finish()
    rows = [r for r in local_rows(run) if "loss" in r]
    assert [r["grad_norm/applied"] for r in rows] == pytest.approx(seen, rel=1e-5)
