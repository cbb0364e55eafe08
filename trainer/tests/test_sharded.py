"""The SDK on a sharded model (lossradar/sharding.py): FSDP2 under torchrun, on CPU with gloo.
Rank 0 alone runs the SDK's hooks, so a statistic of a sharded parameter, a snapshot of it, or a
changed learning rate on rank 0 alone would hang the job, crash it, or split it into two models."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from lossradar.rescue import Rescuer
from lossradar.sharding import is_sharded

from .conftest import CommandingHub, torchrun


def test_fsdp_under_torchrun_trains_on_and_the_sdk_says_what_it_leaves_out(tmp_path: Path) -> None:
    hub = CommandingHub(tmp_path / "runs", [(4, {"command": "rescue", "step": 4})])
    hub.start(timeout=60)
    try:
        # Before sharding.py, rank 0's applied-norm hook entered an all-reduce alone: the job hung.
        proc = torchrun("fsdp_worker.py", hub, tmp_path)
        assert proc.returncode == 0, proc.stderr[-4000:]
        (run_id,) = [d.name for d in hub.run_dirs()]
        hub.wait_status(run_id, "completed")
        rows = hub.rows(run_id)
        steps = [r["step"] for r in rows]
        assert steps == list(range(len(steps))) and len(steps) >= 12, steps
        # Nothing measured from a sharded parameter: no applied norm, no spectral alignment.
        assert not any(k == "grad_norm/applied" or k.startswith("sa/") for r in rows for k in r)
        for said in (
            "spectral alignment leaves out 3 sharded layer(s)",
            "grad_norm/applied is off for this run: its parameters are sharded",
            "Roll Back is off under torch.distributed (2 ranks, sharded)",
            "Lower Learning Rate and Roll Back are off under torch.distributed (2 ranks)",
        ):
            assert said in proc.stderr, said
        # The editor is offered nothing the SDK cannot do for every rank, and the automatic rescue (the
        # hub's, on a critical alert; sent anyway) is not acted on, with the reason.
        assert hub.capabilities(run_id)[-1]["actions"] == []
        (refused,) = [e for e in hub.events(run_id) if e.get("kind") == "rescue"]
        assert refused["level"] == "warning", refused
        assert "not acted on: refused under torch.distributed (2 ranks)" in refused["message"], refused
    finally:
        hub.stop()


def test_a_parameter_fsdp_flattened_is_sharded_and_a_plain_one_is_not() -> None:
    flat = nn.Parameter(torch.zeros(4))
    flat._fsdp_flattened = True  # type: ignore[attr-defined]  # what FSDP sets on what it flattens
    assert is_sharded(flat)
    assert not is_sharded(nn.Parameter(torch.zeros(4)))
    assert not is_sharded(torch.zeros(4))


def test_the_sdk_checkpoint_of_a_sharded_model_is_refused_without_a_function_of_the_users(tmp_path: Path) -> None:
    model = nn.Linear(2, 2)
    rescuer = Rescuer(model, None, [], None, checkpoint_dir=tmp_path / "ckpt", skip_batches=0, ranks=2, sharded=True)
    assert rescuer.actions() == []
    message, level, kind, _ = rescuer.checkpoint(3, None)
    assert (level, kind) == ("warning", "checkpoint") and "run.on_checkpoint(fn)" in message
    assert not (tmp_path / "ckpt").exists()  # nothing half-saved
    saved = rescuer.checkpoint(3, lambda step: f"/ckpt/{step}")
    assert saved[0] == "checkpoint at step 3: /ckpt/3"
    # One process: every action the SDK has.
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    alone = Rescuer(model, opt, [], None, checkpoint_dir=tmp_path, skip_batches=0)
    assert alone.refusal() is None and alone.actions() == ["checkpoint", "lower-lr"]
