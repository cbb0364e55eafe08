"""``LossRadarTracker`` in a real ``accelerate.Accelerator`` on the CPU: a two-layer regression model,
its own training loop, streaming to the real hub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from accelerate import Accelerator

from lossradar.integrations.accelerate import LossRadarTracker

from .conftest import Hub, use_hub


def model_and_data() -> tuple[torch.nn.Module, torch.optim.Optimizer, torch.Tensor, torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
    x = torch.randn(32, 4)
    return model, torch.optim.SGD(model.parameters(), lr=0.05), x, x.sum(dim=1, keepdim=True)


def test_init_trackers_log_and_end_training_make_one_run(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    tracker = LossRadarTracker(run_name="acc-tiny", config={"data": "random points"})
    accelerator = Accelerator(cpu=True, log_with=[tracker])
    model, opt, x, y = model_and_data()
    model, opt = accelerator.prepare(model, opt)
    accelerator.init_trackers("my-project", config={"lr": 0.05, "batch": 32, "note": None})
    tracker.watch(model)
    for step in range(6):
        loss = F.mse_loss(model(x), y)
        accelerator.backward(loss)
        opt.step()
        opt.zero_grad()
        values: dict[str, Any] = {"loss": loss.item(), "lr": 0.05, "note": "not a number"}
        values["loss_parts"] = {"val": loss.item() * 2} if step % 3 == 2 else {}
        accelerator.log(values, step=step)
    accelerator.log({"accuracy": 0.5})  # no step: one past the last
    accelerator.end_training()

    assert accelerator.get_tracker("lossradar") is tracker
    run = tracker.tracker
    assert run is not None and run.run_id is not None and run.finished
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["name"] == "acc-tiny"
    assert meta["config"] == {"data": "random points", "lr": 0.05, "batch": 32, "note": None}
    rows = hub.rows(run.run_id)
    assert [r["step"] for r in rows] == [0, 1, 2, 3, 4, 5, 6]
    assert [r["step"] for r in rows if "loss_parts/val" in r] == [2, 5]
    assert all("note" not in r for r in rows) and rows[-1]["accuracy"] == 0.5
    assert {"sa/0/sign_diversity", "sa/2/sign_diversity"} <= set().union(*rows)
    # the row's source is the user's accelerator.log() line, not accelerate's or the SDK's
    line = next(n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1) if "log(values, step" in text)
    assert rows[0]["source"] == {"file": os.path.abspath(__file__), "line": line}


def test_stop_run_reaches_the_loop_and_ends_the_run_stopped(stopping_hub: Any) -> None:
    hub = stopping_hub(stop_at=3)
    tracker = LossRadarTracker(run_name="acc-stop")
    accelerator = Accelerator(cpu=True, log_with=[tracker])
    model, opt, x, y = model_and_data()
    model, opt = accelerator.prepare(model, opt)
    accelerator.init_trackers("my-project")
    step = 0
    for step in range(100_000):
        loss = F.mse_loss(model(x), y)
        accelerator.backward(loss)
        opt.step()
        opt.zero_grad()
        accelerator.log({"loss": loss.item()}, step=step)
        if tracker.should_stop:
            accelerator.set_trigger()
        if accelerator.check_trigger():
            break
    accelerator.end_training()
    assert 3 <= step < 99_999
    assert tracker.tracker is not None and tracker.tracker.run_id is not None
    hub.wait_status(tracker.tracker.run_id, "stopped")
