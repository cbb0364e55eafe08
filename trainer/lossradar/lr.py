"""Scaling a run's learning rate so that it stays scaled ("Lower Learning Rate", docs/rescue.md).

Multiplying each param group's ``lr`` is not enough: a scheduler recomputes the lr from numbers of
its own at its next ``step()``. Which numbers depends on the scheduler, so every one of them is
scaled, which multiplies the whole remaining schedule by the factor:

* ``base_lrs`` (LambdaLR, a 🤗 ``get_linear_schedule_with_warmup``/``get_cosine_schedule_with_warmup``,
  which are LambdaLRs, MultiplicativeLR, the closed forms of StepLR, ExponentialLR, PolynomialLR…);
* the group's ``lr`` (the chained forms: StepLR, MultiStepLR, ExponentialLR, CosineAnnealingLR
  multiply the previous lr), ``initial_lr``, and OneCycleLR's ``max_lr``/``min_lr`` (it reads those
  group keys, not ``base_lrs``);
* ``eta_min`` (CosineAnnealingLR, CosineAnnealingWarmRestarts), CyclicLR's ``max_lrs``,
  ReduceLROnPlateau's ``min_lrs`` and every scheduler's ``_last_lr`` (what ``get_last_lr()`` says);
* the schedulers inside a SequentialLR or ChainedScheduler, each once.

Standard library only: schedulers and optimizers are duck-typed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Param-group keys that hold learning rates (OneCycleLR keeps its bounds per group).
_GROUP_KEYS = ("lr", "initial_lr", "max_lr", "min_lr")
#: Scheduler attributes that hold learning rates, a float or one per group.
_SCHEDULER_ATTRS = ("base_lrs", "max_lrs", "min_lrs", "eta_min", "_last_lr")


def _scaled(value: Any, factor: float) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value * factor
    if isinstance(value, list):
        return [_scaled(v, factor) for v in value]
    if isinstance(value, tuple):
        return tuple(_scaled(v, factor) for v in value)
    # A tensor lr (torch ≥ 2.2 allows one for capturable optimizers): scaled in place.
    mul_ = getattr(value, "mul_", None)
    if callable(mul_):
        mul_(factor)
    return value


def _all_schedulers(schedulers: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    seen: set[int] = set()
    stack = list(schedulers)
    while stack:
        s = stack.pop(0)
        if s is None or id(s) in seen:
            continue
        seen.add(id(s))
        out.append(s)
        stack.extend(getattr(s, "_schedulers", None) or [])  # SequentialLR, ChainedScheduler
        inner = getattr(s, "scheduler", None)  # accelerate's AcceleratedScheduler wraps the real one
        if inner is not None and callable(getattr(inner, "step", None)):
            stack.append(inner)
    return out


def scale_lr(optimizer: Any, schedulers: Iterable[Any], factor: float) -> tuple[list[float], list[float]]:
    """Multiplies every learning rate of ``optimizer`` and of ``schedulers`` by ``factor``, in place.
    Returns each group's lr before and after (for the run's event)."""
    if not factor > 0:
        raise ValueError(f"the lr factor must be > 0, got {factor!r}")
    before = [float(g["lr"]) for g in optimizer.param_groups]
    for group in optimizer.param_groups:
        for key in _GROUP_KEYS:
            if key in group:
                group[key] = _scaled(group[key], factor)
    for scheduler in _all_schedulers(schedulers):
        for attr in _SCHEDULER_ATTRS:
            if hasattr(scheduler, attr):
                setattr(scheduler, attr, _scaled(getattr(scheduler, attr), factor))
    after = [float(g["lr"]) for g in optimizer.param_groups]
    return before, after


def scheduled_without_scheduler(optimizer: Any) -> bool:
    """True when a torch scheduler was attached to ``optimizer`` (it sets ``initial_lr`` in every
    group) but the SDK was not given it: its next step may undo a lowered lr."""
    return any("initial_lr" in g for g in optimizer.param_groups)
