"""Snapshots of a model's and an optimizer's state every N steps, for "Roll Back" (docs/rescue.md).

A snapshot is taken at a safe point of the training thread (inside ``run.log()``, after the step's
update) as a copy of every tensor of ``model.state_dict()`` and ``optimizer.state_dict()`` on the
CPU. ``"cpu"`` keeps the last ``keep`` copies in memory; ``"disk"`` writes each copy with
``torch.save`` on a background thread (the loop waits only for the copy to the CPU), and reads it
back with ``torch.load(weights_only=True)``. A model whose parameters hold a NaN or an infinity is
not snapshotted: rolling back to it would restore the blow-up.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch
from torch import nn

from .sharding import is_sharded

log = logging.getLogger("lossradar")

#: Where snapshots live: ``"auto"`` is ``"cpu"`` up to ``max_bytes`` of state, else no snapshots.
SnapshotTo = Literal["auto", "cpu", "disk", "off"]


def _to_cpu(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _to_cpu(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_to_cpu(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_to_cpu(v) for v in value)
    return value


def state_bytes(model: nn.Module, optimizer: Any | None) -> int:
    """What one snapshot takes: the model's state plus the optimizer's (its state is created lazily,
    so before the first step it is estimated as two tensors per parameter, Adam's moments)."""
    total = sum(t.numel() * t.element_size() for t in model.state_dict().values() if isinstance(t, torch.Tensor))
    if optimizer is not None:
        state = optimizer.state_dict().get("state", {})
        if state:
            for per_param in state.values():
                total += sum(t.numel() * t.element_size() for t in per_param.values() if isinstance(t, torch.Tensor))
        else:
            total += 2 * sum(p.numel() * p.element_size() for p in model.parameters())
    return total


@dataclass
class Snapshot:
    step: int
    model: dict[str, Any] | None  # None once written to disk
    optimizer: dict[str, Any] | None
    path: Path | None = None


class Snapshots:
    """The last ``keep`` snapshots, oldest first."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: Any | None,
        *,
        every: int,
        to: Literal["cpu", "disk"],
        keep: int,
        folder: Path | None,
    ) -> None:
        if every < 1:
            raise ValueError(f"snapshot_every must be ≥ 1, got {every}")
        if keep < 1:
            raise ValueError(f"keep_snapshots must be ≥ 1, got {keep}")
        if to == "disk" and folder is None:
            raise ValueError("disk snapshots need a folder")
        self.model = model
        self.optimizer = optimizer
        self.every = every
        self.to = to
        self.keep = keep
        self.folder = folder
        self.taken: list[Snapshot] = []
        self.skipped_nonfinite = 0
        self._writer: threading.Thread | None = None
        self._last: int | None = None

    def due(self, step: int) -> bool:
        return self._last is None or step - self._last >= self.every

    def take(self, step: int) -> Snapshot | None:
        """A snapshot at ``step``; ``None`` when the model is not finite (or a disk write is still
        going: the loop never waits for one)."""
        if any(is_sharded(p) for p in self.model.parameters()):
            # Sharded after watch() (fully_shard comes later): reading them is a collective that rank
            # 0 alone would enter (sharding.py), and rank 0's shards are no snapshot of the model.
            return None
        with torch.no_grad():
            if not all(bool(torch.isfinite(p).all()) for p in self.model.parameters()):
                self.skipped_nonfinite += 1
                return None
        if self._writer is not None and self._writer.is_alive():
            return None
        self._last = step
        snap = Snapshot(
            step,
            _to_cpu(self.model.state_dict()),
            _to_cpu(self.optimizer.state_dict()) if self.optimizer is not None else None,
        )
        self.taken.append(snap)
        dropped = self.taken[: -self.keep]
        self.taken = self.taken[-self.keep :]
        if self.to == "disk":
            assert self.folder is not None
            snap.path = self.folder / f"snapshot-{step}.pt"
            self._writer = threading.Thread(
                target=self._write, args=(snap, dropped), name="lossradar-snapshot", daemon=True
            )
            self._writer.start()
        return snap

    def _write(self, snap: Snapshot, dropped: list[Snapshot]) -> None:
        assert snap.path is not None
        try:
            snap.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = snap.path.with_suffix(".tmp")
            torch.save({"step": snap.step, "model": snap.model, "optimizer": snap.optimizer}, tmp)
            tmp.replace(snap.path)
            snap.model = snap.optimizer = None
        except OSError as e:
            log.warning(
                "lossradar: could not write the snapshot of step %d to %s (%s); kept in memory", snap.step, snap.path, e
            )
            snap.path = None
        for old in dropped:
            if old.path is not None:
                old.path.unlink(missing_ok=True)

    def before(self, step: int | None) -> Snapshot | None:
        """The newest snapshot taken before ``step`` (any step when ``None``)."""
        for snap in reversed(self.taken):
            if step is None or snap.step < step:
                return snap
        return None

    def restore(self, snap: Snapshot) -> None:
        """Loads ``snap`` into the model and the optimizer, exactly (``load_state_dict`` copies)."""
        if self._writer is not None:
            self._writer.join()  # a snapshot still being written is not yet on disk nor dropped
        model_state, optim_state = snap.model, snap.optimizer
        if model_state is None and snap.path is not None:
            saved = torch.load(snap.path, map_location="cpu", weights_only=True)
            model_state, optim_state = saved["model"], saved["optimizer"]
        assert model_state is not None
        self.model.load_state_dict(model_state)
        if self.optimizer is not None and optim_state is not None:
            # A copy: load_state_dict keeps tensors already on the right device as they are, and the
            # next step would then update the snapshot in place.
            self.optimizer.load_state_dict(_to_cpu(optim_state))
        # Later snapshots are of the span being undone.
        self.taken = [s for s in self.taken if s.step <= snap.step]
        self._last = snap.step
