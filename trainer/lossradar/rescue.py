"""Acting on a warning from inside the training process (issue 20, docs/rescue.md): "Checkpoint Now",
"Lower Learning Rate", "Roll Back", and the rescue policy that rolls back by itself.

The hub only says *when* (the editor's buttons, or its watchdog's critical alert for a run whose
policy is ``"auto"``); this module does the *how*, on the training thread, inside ``run.log()``:
the network thread only queues a :class:`Command`. Every action ends in an event frame with a
``kind`` (``checkpoint``, ``lr``, ``rollback``, ``rescue``) that the charts draw.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from .lr import scale_lr, scheduled_without_scheduler

if TYPE_CHECKING:
    from torch import nn

    from .snapshots import Snapshots

#: What the SDK can do when asked (announced to the hub in the run's capabilities).
Action = Literal["checkpoint", "lower-lr", "rollback"]
#: ``"auto"``: on a critical alert the run rolls back (or lowers its lr) by itself, at most
#: ``max_rescues`` times. Off unless asked for.
RescueMode = Literal["off", "auto"]
#: What an automatic rescue does: roll back and lower the lr, or only lower the lr.
RescueAction = Literal["rollback", "lower-lr"]

DEFAULT_LR_FACTOR = 0.5
#: The checkpoints of "Checkpoint Now" and disk snapshots, under the working directory, next to the
#: local run store (``./.lossradar/runs``): the hub's run folder may be on another path, belongs to
#: the hub (it deletes it with the run) and holds small text files only.
DEFAULT_CHECKPOINT_DIR = Path(".lossradar") / "checkpoints"


@dataclass(frozen=True)
class RescuePolicy:
    """``lossradar.init(rescue=RescuePolicy(mode="auto"))`` (or ``rescue="auto"``).

    * ``mode``: ``"off"`` (the default) or ``"auto"``.
    * ``action``: ``"rollback"`` (restore the last snapshot from before the alert, lower the lr,
      skip ``run.watch(skip_batches=...)`` batches) or ``"lower-lr"`` (only lower it).
    * ``max_rescues``: at most this many automatic rescues per run; later critical alerts are only
      shown.
    * ``lr_factor``: the lr is multiplied by this (0 < factor ≤ 1).
    """

    mode: RescueMode = "off"
    action: RescueAction = "rollback"
    max_rescues: int = 2
    lr_factor: float = DEFAULT_LR_FACTOR

    def __post_init__(self) -> None:
        if self.mode not in get_args(RescueMode):
            raise ValueError(f"rescue mode must be 'off' or 'auto', got {self.mode!r}")
        if self.action not in get_args(RescueAction):
            raise ValueError(f"rescue action must be 'rollback' or 'lower-lr', got {self.action!r}")
        if isinstance(self.max_rescues, bool) or not isinstance(self.max_rescues, int) or self.max_rescues < 0:
            raise ValueError(f"max_rescues must be an integer ≥ 0, got {self.max_rescues!r}")
        if not (isinstance(self.lr_factor, int | float) and 0 < self.lr_factor <= 1):
            raise ValueError(f"lr_factor must be in (0, 1], got {self.lr_factor!r}")

    @classmethod
    def of(cls, value: RescuePolicy | RescueMode | Mapping[str, Any] | None) -> RescuePolicy:
        """The policy from what ``init(rescue=...)`` or an experiment file gives: a policy, a mode,
        or a mapping with the fields in snake or camel case (``maxRescues``)."""
        if value is None:
            return cls()
        if isinstance(value, RescuePolicy):
            return value
        if isinstance(value, str):
            return cls(mode=value)
        if isinstance(value, Mapping):
            names = {"mode": "mode", "action": "action", "max_rescues": "max_rescues", "maxRescues": "max_rescues"}
            names |= {"lr_factor": "lr_factor", "lrFactor": "lr_factor"}
            unknown = [k for k in value if k not in names]
            if unknown:
                raise ValueError(f"unknown rescue settings {unknown}; expected {sorted(set(names))}")
            return cls(**{names[k]: v for k, v in value.items()})
        raise TypeError(f"rescue must be a RescuePolicy, 'off', 'auto' or a mapping, got {type(value).__name__}")

    def to_wire(self) -> dict[str, Any]:
        return {"mode": self.mode, "action": self.action, "maxRescues": self.max_rescues, "lrFactor": self.lr_factor}


@dataclass(frozen=True)
class Command:
    """A hub command as the SDK received it (docs/protocol.md "Hub → trainer")."""

    command: str
    #: lower-lr, rollback: multiply the lr by this.
    factor: float | None = None
    #: rollback, rescue: the step the alert opened at; the snapshot restored is from before it.
    step: int | None = None
    #: rollback: batches of ``run.batches()`` to skip.
    skip: int | None = None

    @classmethod
    def of(cls, frame: Mapping[str, Any]) -> Command:
        return cls(frame["command"], frame.get("factor"), frame.get("step"), frame.get("skip"))


#: An event for the run's log: (message, level, kind, span).
Event = tuple[str, Literal["info", "warning", "error"], str, "tuple[int, int] | None"]


def _fmt(lrs: list[float]) -> str:
    return ", ".join(f"{x:.3g}" for x in lrs) if len(lrs) <= 4 else f"{lrs[0]:.3g} … ({len(lrs)} groups)"


class Rescuer:
    """What ``run.watch(model, optimizer=...)`` arms: the model, its optimizer, its schedulers and
    the snapshots, and the actions applied to them."""

    def __init__(
        self,
        model: nn.Module,
        optimizer: Any | None,
        schedulers: list[Any],
        snapshots: Snapshots | None,
        *,
        checkpoint_dir: Path,
        skip_batches: int,
        ranks: int = 1,
        sharded: bool = False,
    ) -> None:
        self.model = model
        self.optimizer = optimizer
        self.schedulers = schedulers
        self.snapshots = snapshots
        self.checkpoint_dir = checkpoint_dir
        self.skip_batches = skip_batches
        #: The ranks this run speaks for (rank 0 logs for all of them under torch.distributed).
        self.ranks = ranks
        #: Whether the model's parameters are sharded across them (sharding.py).
        self.sharded = sharded

    def refusal(self) -> str | None:
        """Why the actions that change the training (Lower Learning Rate, Roll Back, the automatic
        rescue) cannot run here, or ``None``. Only rank 0 receives the editor's commands: a rate lowered,
        or weights restored, on rank 0 alone would leave the other ranks training another model,
        silently (DDP averages the gradients, not the weights; docs/rescue.md, "Distributed runs")."""
        if self.ranks > 1:
            return (
                f"refused under torch.distributed ({self.ranks} ranks): only rank 0 would change, and the"
                " ranks would train different models from then on"
            )
        return None

    def actions(self) -> list[Action]:
        # Under sharding the SDK's own checkpoint would hold rank 0's shards only: a user's
        # run.on_checkpoint(fn) is offered instead (run.py's _announce adds it).
        out: list[Action] = [] if self.sharded else ["checkpoint"]
        if self.optimizer is not None and self.refusal() is None:
            out.append("lower-lr")
            if self.snapshots is not None:
                out.append("rollback")
        return out

    def checkpoint(self, step: int | None, user: Callable[[int | None], object] | None) -> Event:
        if user is not None:
            where = user(step)
            return (f"checkpoint at step {step}" + (f": {where}" if where else ""), "info", "checkpoint", None)
        if self.sharded:
            return (
                "Checkpoint Now: the model is sharded across ranks (FSDP, tensor parallel), and rank 0 holds"
                " only its shards; save it on every rank from run.on_checkpoint(fn)",
                "warning",
                "checkpoint",
                None,
            )
        import torch

        self.checkpoint_dir.mkdir(parents=True, exist_ok=True)
        path = self.checkpoint_dir / f"checkpoint-{step if step is not None else 'start'}.pt"
        state: dict[str, Any] = {"step": step, "model": self.model.state_dict()}
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        if self.schedulers:
            state["schedulers"] = [s.state_dict() for s in self.schedulers if hasattr(s, "state_dict")]
        torch.save(state, path)
        return (f"checkpoint at step {step}: {path}", "info", "checkpoint", None)

    def lower_lr(self, factor: float) -> str:
        """Scales the lr; returns what changed, for an event."""
        assert self.optimizer is not None
        before, after = scale_lr(self.optimizer, self.schedulers, factor)
        text = f"lr × {factor:g}: {_fmt(before)} → {_fmt(after)}"
        if not self.schedulers and scheduled_without_scheduler(self.optimizer):
            text += (
                " (a scheduler drives this optimizer but was not given to run.watch(scheduler=...):"
                " its next step may undo this)"
            )
        return text

    def rollback(
        self, alert_step: int | None, factor: float, step: int | None
    ) -> tuple[str, tuple[int, int] | None] | None:
        """Restores the newest snapshot from before the weights that made the loss of ``alert_step``
        and lowers the lr. ``None`` when
        there is no such snapshot; else what was done and the span undone."""
        assert self.snapshots is not None
        # The loss logged at step s was measured on the weights after step s - 1's update, which a
        # snapshot at s - 1 holds: the one restored is older than that.
        snap = self.snapshots.before(None if alert_step is None else alert_step - 1)
        if snap is None:
            return None
        # The schedule of now, not the snapshot's: load_state_dict puts the snapshot's param groups
        # back (lr, initial_lr, OneCycleLR's bounds), while the schedulers keep their position.
        assert self.optimizer is not None
        hyper = [{k: v for k, v in g.items() if k != "params"} for g in self.optimizer.param_groups]
        self.snapshots.restore(snap)
        for group, saved in zip(self.optimizer.param_groups, hyper, strict=True):
            group.update(saved)
        lowered = self.lower_lr(factor)
        span = (snap.step, step if step is not None and step >= snap.step else snap.step)
        return (f"rolled back to the snapshot of step {snap.step}; {lowered}", span)


def check_factor(factor: object) -> float:
    if (
        isinstance(factor, bool)
        or not isinstance(factor, int | float)
        or not 0 < factor <= 1
        or not math.isfinite(factor)
    ):
        raise ValueError(f"the lr factor must be in (0, 1], got {factor!r}")
    return float(factor)
