"""run.watch / log_predictions with what people run: torch.compile, bf16 autocast, gradient
accumulation, DDP under torchrun."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from torchmetrics.functional.classification import multiclass_calibration_error

import lossradar
from lossradar import metrics
from lossradar.watch import Watcher, unwrap_model

from .conftest import Hub, torchrun


def local_rows(run: lossradar.Run) -> list[dict[str, Any]]:
    assert run.local_dir is not None
    return [json.loads(line) for line in (run.local_dir / "metrics.jsonl").read_text().splitlines()]


def distributions(run: lossradar.Run) -> list[dict[str, Any]]:
    assert run.local_dir is not None
    return [json.loads(line) for line in (run.local_dir / "distributions.jsonl").read_text().splitlines()]


def mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(12, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 5))


def train(model: nn.Module, forward: nn.Module, run: lossradar.Run, steps: int, accumulate: int = 1) -> None:
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    g = torch.Generator().manual_seed(1)
    for step in range(steps):
        for _ in range(accumulate):
            x, y = torch.randn(16, 12, generator=g), torch.randint(5, (16,), generator=g)
            loss = nn.functional.cross_entropy(forward(x), y) / accumulate
            loss.backward()
        opt.step()
        opt.zero_grad()
        run.log(step, loss=loss)


def sa_steps(rows: list[dict[str, Any]]) -> list[int]:
    return [r["step"] for r in rows if "sa/min_sign_diversity" in r]


def test_watch_every_k_steps_names_layers_and_sends_histograms(tmp_path: Path) -> None:
    model = mlp()
    run = lossradar.init(name="w", mode="local", dir=tmp_path)
    watcher = run.watch(model, every=3)
    assert watcher is not None and list(watcher.layers) == ["0", "2", "4"]
    train(model, model, run, steps=10)
    model.eval()
    model(torch.randn(4, 12))  # an evaluation pass is not sampled
    assert not watcher.captured
    run.finish()
    rows = local_rows(run)
    assert sa_steps(rows) == [0, 3, 6, 9]
    first = rows[0]
    for layer in ("0", "2", "4"):
        assert 0.0 <= first[f"sa/{layer}/sign_diversity"] <= 1.0
        assert 0.0 <= first[f"sa/{layer}/mean_abs"] <= 1.0
    assert first["sa/min_sign_diversity"] == min(first[f"sa/{k}/sign_diversity"] for k in ("0", "2", "4"))
    assert 0.0 <= first["sa/collapsed_fraction"] <= 1.0
    hists = [d for d in distributions(run) if d["type"] == "distribution"]
    assert {d["name"] for d in hists} == {"sa/0", "sa/2", "sa/4"} and len(hists) == 12
    assert len(hists[0]["edges"]) == 21 and sum(hists[0]["counts"]) == 16
    assert hists[0]["edges"][0] == -1.0 and hists[0]["edges"][-1] == 1.0


def test_watch_values_match_a_direct_computation(tmp_path: Path) -> None:
    model = mlp()
    run = lossradar.init(name="direct", mode="local", dir=tmp_path)
    inputs: dict[str, torch.Tensor] = {}
    layer = model[2]
    assert isinstance(layer, nn.Linear)
    layer.register_forward_hook(lambda m, a, o: inputs.__setitem__("x", a[0].detach().clone()))
    weight = layer.weight.detach().clone()
    run.watch(model, every=5)
    x = torch.randn(16, 12)
    model(x)
    values = run.log(0, loss=1.0)
    stats, _ = metrics.spectral_alignment(weight, inputs["x"])
    assert values["sa/2/sign_diversity"] == pytest.approx(stats["sign_diversity"].item())
    assert values["sa/2/mean_abs"] == pytest.approx(stats["mean_abs"].item())
    run.finish()


def test_torch_compile(tmp_path: Path) -> None:
    import torch._dynamo

    torch._dynamo.reset()
    from torch._dynamo.utils import counters

    counters.clear()
    eager_model = mlp()
    eager_run = lossradar.init(name="eager", mode="local", dir=tmp_path)
    eager_run.watch(eager_model, every=3)
    train(eager_model, eager_model, eager_run, steps=7)
    eager_run.finish()

    model = mlp()
    compiled = torch.compile(model)
    assert isinstance(compiled, nn.Module)
    run = lossradar.init(name="compiled", mode="local", dir=tmp_path)
    watcher = run.watch(compiled, every=3)  # the compiled wrapper: hooks go on the original modules
    assert watcher is not None and watcher.root is model and unwrap_model(compiled) is model
    train(model, compiled, run, steps=7)
    run.finish()
    rows, eager_rows = local_rows(run), local_rows(eager_run)
    assert sa_steps(rows) == sa_steps(eager_rows) == [0, 3, 6]
    for key in ("sa/0/sign_diversity", "sa/2/mean_abs", "sa/4/sign_diversity", "loss"):
        assert rows[0][key] == pytest.approx(eager_rows[0][key], abs=1e-5), key
        assert rows[3][key] == pytest.approx(eager_rows[3][key], abs=1e-3), key
    # the armed flag costs one more graph, not a recompilation per step
    assert counters["stats"]["unique_graphs"] <= 4, dict(counters["stats"])


def test_bf16_autocast_metrics_are_float32(tmp_path: Path) -> None:
    model = mlp()
    run = lossradar.init(name="bf16", mode="local", dir=tmp_path)
    watcher = run.watch(model, every=1)
    assert watcher is not None
    x, y = torch.randn(64, 12), torch.randint(5, (64,))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = model(x)
    assert logits.dtype == torch.bfloat16
    captured = dict(watcher.captured)
    assert captured["2"].dtype == torch.bfloat16  # what the layer saw under autocast
    values = run.log_predictions(0, logits, y)
    layer = model[2]
    assert isinstance(layer, nn.Linear)
    stats, _ = metrics.spectral_alignment(layer.weight, captured["2"].float())
    assert values["sa/2/sign_diversity"] == pytest.approx(stats["sign_diversity"].item())
    ref = multiclass_calibration_error(logits.float().softmax(1), y, num_classes=5)
    assert values["calibration/ece"] == pytest.approx(ref.item(), abs=1e-6)
    assert values["accuracy"] == pytest.approx((logits.float().argmax(1) == y).float().mean().item())
    assert all(isinstance(v, float) for v in values.values())
    with torch.autocast("cpu", dtype=torch.bfloat16):  # metrics computed inside an autocast region
        values2 = run.log_predictions(1, model(x), y)
    assert values2["entropy/normalized"] == pytest.approx(metrics.normalized_entropy(model(x).float()).item(), abs=0.02)
    run.finish()


def test_gradient_accumulation(tmp_path: Path) -> None:
    model = mlp()
    run = lossradar.init(name="accum", mode="local", dir=tmp_path)
    watcher = run.watch(model, every=2)
    assert watcher is not None
    train(model, model, run, steps=6, accumulate=4)
    run.finish()
    rows = local_rows(run)
    assert [r["step"] for r in rows] == list(range(6))
    assert sa_steps(rows) == [0, 2, 4]
    assert sum(d["counts"] and sum(d["counts"]) for d in distributions(run)) == 3 * 3 * 16  # one micro-batch each


def test_log_predictions_on_sequences_with_ignore_index(tmp_path: Path) -> None:
    run = lossradar.init(name="seq", mode="local", dir=tmp_path)
    logits = torch.randn(4, 10, 7)
    labels = torch.randint(7, (4, 10))
    labels[:, :3] = -100
    values = run.log_predictions(0, logits, labels)
    keep = labels.reshape(-1) != -100
    flat = logits.reshape(-1, 7)[keep]
    ref = multiclass_calibration_error(flat.softmax(1), labels.reshape(-1)[keep], num_classes=7)
    assert values["calibration/ece"] == pytest.approx(ref.item(), abs=1e-6)
    ref_mce = multiclass_calibration_error(flat.softmax(1), labels.reshape(-1)[keep], num_classes=7, norm="max")
    assert values["calibration/mce"] == pytest.approx(ref_mce.item(), abs=1e-6)
    assert values["entropy/mean"] == pytest.approx(metrics.entropy(flat).mean().item(), rel=1e-5)
    run.finish()
    rel = next(d for d in distributions(run) if d["type"] == "reliability")
    assert sum(rel["counts"]) == keep.sum().item() and len(rel["edges"]) == 16


def test_one_transfer_per_log_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = mlp()
    run = lossradar.init(name="xfer", mode="local", dir=tmp_path)
    run.watch(model, every=1)
    model(torch.randn(8, 12))
    calls = {"n": 0}
    real_cpu = torch.Tensor.cpu

    def counting_cpu(self: torch.Tensor, *a: Any, **k: Any) -> torch.Tensor:
        calls["n"] += 1
        return real_cpu(self, *a, **k)

    def no_item(self: torch.Tensor) -> Any:
        raise AssertionError("no per-metric .item()")

    monkeypatch.setattr(torch.Tensor, "cpu", counting_cpu)
    monkeypatch.setattr(torch.Tensor, "item", no_item)
    run.log_predictions(0, torch.randn(32, 5), torch.randint(5, (32,)), loss=torch.tensor(1.0), gn=torch.tensor(2.0))
    assert calls["n"] == 1
    monkeypatch.undo()
    run.finish()


def test_ddp_under_torchrun(hub: Hub, tmp_path: Path) -> None:
    proc = torchrun("ddp_worker.py", hub, tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    metas = {d.name: hub.wait_status(d.name, "completed") for d in hub.run_dirs()}
    by_name = {m["name"]: run_id for run_id, m in metas.items()}
    assert sorted(by_name) == ["ddp-per-rank", "ddp-per-rank-rank1", "ddp-shared"]  # rank 1 alone when asked
    shared = hub.rows(by_name["ddp-shared"])
    assert [r["step"] for r in shared] == [0, 1, 2, 3] and all("rank" not in r for r in shared)
    assert "sa/0/sign_diversity" in shared[0] and "sa/module.0/sign_diversity" not in shared[0]
    assert [r["step"] for r in shared if "sa/min_sign_diversity" in r] == [0, 2]
    for name, rank in (("ddp-per-rank", 0), ("ddp-per-rank-rank1", 1)):
        rows = hub.rows(by_name[name])
        assert [r["rank"] for r in rows] == [rank] * 4
        assert "calibration/ece" in rows[0] and "sa/2/mean_abs" in rows[0]


def test_watcher_rejects_bad_every() -> None:
    with pytest.raises(ValueError, match="every"):
        Watcher(mlp(), every=0)
