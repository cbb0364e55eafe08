""" "Lower Learning Rate" and "Roll Back" on real torch objects, without a hub: a lowered lr stays
lowered through the schedulers people use, and a restored snapshot is the snapshot, bit for bit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from torch import nn
from transformers import get_cosine_schedule_with_warmup, get_linear_schedule_with_warmup

from lossradar.lr import scale_lr
from lossradar.snapshots import Snapshots, state_bytes

Sched = Callable[[torch.optim.Optimizer], Any]

SCHEDULERS: dict[str, Sched] = {
    "StepLR": lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones=[10, 25], gamma=0.3),
    "ExponentialLR": lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97),
    "CosineAnnealingLR": lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=1e-4),
    "CosineAnnealingWarmRestarts": lambda o: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=9, eta_min=1e-5
    ),
    "OneCycleLR": lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=60),
    "LambdaLR": lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda s: 1.0 / (1 + 0.1 * s)),
    "hf-linear-warmup": lambda o: get_linear_schedule_with_warmup(o, num_warmup_steps=10, num_training_steps=60),
    "hf-cosine-warmup": lambda o: get_cosine_schedule_with_warmup(o, num_warmup_steps=10, num_training_steps=60),
    "CyclicLR": lambda o: torch.optim.lr_scheduler.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5),
    "SequentialLR": lambda o: torch.optim.lr_scheduler.SequentialLR(
        o,
        [
            torch.optim.lr_scheduler.LinearLR(o, 0.1, 1.0, total_iters=8),
            torch.optim.lr_scheduler.ExponentialLR(o, 0.95),
        ],
        milestones=[8],
    ),
}


def pair(make: Sched, optimizer: str = "sgd") -> tuple[Any, Any]:
    """An optimizer with two param groups (different lrs) and its scheduler."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 4), nn.Linear(4, 1))
    groups = [{"params": model[0].parameters(), "lr": 0.05}, {"params": model[1].parameters(), "lr": 0.02}]
    opt: torch.optim.Optimizer = (
        torch.optim.SGD(groups, lr=0.05, momentum=0.9) if optimizer == "sgd" else torch.optim.AdamW(groups, lr=0.05)
    )
    return opt, make(opt)


def step(opt: Any, sched: Any) -> None:
    opt.step()  # no gradients: the parameters stay, the schedulers see an optimizer step
    sched.step()


@pytest.mark.parametrize("name", list(SCHEDULERS))
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_lowered_lr_stays_lowered_through_every_later_scheduler_step(name: str) -> None:
    ref_opt, ref_sched = pair(SCHEDULERS[name])
    opt, sched = pair(SCHEDULERS[name])
    for _ in range(12):
        step(ref_opt, ref_sched)
        step(opt, sched)
    before, after = scale_lr(opt, [sched], 0.5)
    assert after == pytest.approx([b * 0.5 for b in before])
    assert sched.get_last_lr() == pytest.approx(after)
    for k in range(40):
        step(ref_opt, ref_sched)
        step(opt, sched)
        want = [g["lr"] * 0.5 for g in ref_opt.param_groups]
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(want, rel=1e-9), f"{k + 1} steps after"


def test_a_state_dict_round_trip_keeps_the_lowered_schedule() -> None:
    opt, sched = pair(SCHEDULERS["OneCycleLR"])
    for _ in range(5):
        step(opt, sched)
    scale_lr(opt, [sched], 0.25)
    opt2, sched2 = pair(SCHEDULERS["OneCycleLR"])
    opt2.load_state_dict(opt.state_dict())
    sched2.load_state_dict(sched.state_dict())
    step(opt, sched)
    step(opt2, sched2)
    assert [g["lr"] for g in opt2.param_groups] == pytest.approx([g["lr"] for g in opt.param_groups])


def test_a_factor_of_zero_or_less_is_refused() -> None:
    opt, sched = pair(SCHEDULERS["StepLR"])
    with pytest.raises(ValueError, match="factor"):
        scale_lr(opt, [sched], 0.0)


def train(model: nn.Module, opt: torch.optim.Optimizer, steps: int, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(16, 8, generator=g)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def same(a: Any, b: Any) -> bool:
    """Equal structures, tensors bit for bit (torch.equal)."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b.to(a.device))
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@pytest.mark.parametrize("to", ["cpu", "disk"])
def test_a_restored_snapshot_is_the_snapshot_bit_for_bit(to: str, tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.Linear(16, 1))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    snaps = Snapshots(model, opt, every=10, to=to, keep=2, folder=tmp_path / "snaps")  # type: ignore[arg-type]
    train(model, opt, 10, seed=1)
    taken = snaps.take(10)
    assert taken is not None
    want_model = {k: v.clone() for k, v in model.state_dict().items()}
    want_opt = opt.state_dict()
    want_opt = {"state": {k: {n: t.clone() for n, t in s.items()} for k, s in want_opt["state"].items()}}
    train(model, opt, 25, seed=2)  # the weights move on
    assert not same(want_model, model.state_dict())
    snap = snaps.before(11)
    assert snap is not None and snap.step == 10
    snaps.restore(snap)
    assert same(want_model, model.state_dict())
    assert same(want_opt["state"], opt.state_dict()["state"])
    if to == "disk":
        assert (tmp_path / "snaps" / "snapshot-10.pt").exists()
    # Restoring does not alias the snapshot: training on and restoring again gives it back again.
    train(model, opt, 5, seed=3)
    snaps.restore(snap)
    assert same(want_model, model.state_dict()) and same(want_opt["state"], opt.state_dict()["state"])


def test_snapshots_keep_the_last_few_and_skip_a_model_that_is_not_finite(tmp_path: Path) -> None:
    model = nn.Linear(3, 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    snaps = Snapshots(model, opt, every=5, to="cpu", keep=2, folder=None)
    assert snaps.due(0)
    for s in (0, 5, 10):
        assert snaps.take(s) is not None
    assert [t.step for t in snaps.taken] == [5, 10]
    assert not snaps.due(14) and snaps.due(15)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    assert snaps.take(15) is None and snaps.skipped_nonfinite == 1
    assert snaps.before(10) is not None and snaps.before(10).step == 5  # type: ignore[union-attr]
    assert snaps.before(5) is None


def test_the_state_a_snapshot_holds_counts_the_optimizer() -> None:
    model = nn.Linear(100, 100)  # 10 100 float32 parameters
    params = 10_100 * 4
    opt = torch.optim.Adam(model.parameters())
    assert state_bytes(model, None) == params
    assert state_bytes(model, opt) == 3 * params  # before a step: Adam's two moments, estimated
    train_x = torch.randn(4, 100)
    model(train_x).sum().backward()
    opt.step()
    assert state_bytes(model, opt) >= 3 * params  # now measured (plus the step counters)
