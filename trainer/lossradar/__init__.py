"""Loss Radar SDK: stream a PyTorch training run to the Loss Radar hub in three lines.

>>> import lossradar
>>> with lossradar.init(name="my-run", config={"lr": 3e-4}) as run:   # doctest: +SKIP
...     run.watch(model, every=10)
...     for step, batch in enumerate(loader):
...         loss = ...
...         run.log(step, loss=loss, lr=lr)
...         if run.should_stop:
...             break

``init`` finds the hub from the environment (``LOSSRADAR_URL``/``LOSSRADAR_TOKEN``, set by the
extension), else from the discovery directory (the VS Code window whose workspace holds the working
directory), else writes the run to ``./.lossradar/runs/<run-id>/`` and warns once: a script never
fails because the monitor is absent. ``lossradar.log(...)`` and ``lossradar.finish(...)`` act on the
active run, as ``wandb.log`` does. This module imports without torch, and without the frameworks of
``lossradar.integrations`` (each of its modules imports its own).
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ._run import (
    EndStatus,
    EventLevel,
    LossRadarWarning,
    Mode,
    Run,
    RunMode,
    caller_source,
    default_local_root,
    install_excepthook,
)
from ._stack import user_stacklevel
from ._version import __version__
from .discovery import find_hub
from .encoding import clean_tags, valid_run_id
from .rescue import RescueAction, RescueMode, RescuePolicy

__all__ = [
    "EndStatus",
    "EventLevel",
    "LossRadarWarning",
    "Mode",
    "RescueAction",
    "RescueMode",
    "RescuePolicy",
    "Run",
    "RunMode",
    "__version__",
    "active_run",
    "finish",
    "init",
    "log",
]

_warned_local = False
#: The runs ``init`` returned that are not finished, oldest first: the last is the active run. The
#: only state of this module besides the warning above.
_runs: list[Run] = []


def _distributed_rank() -> int | None:
    """This process's rank under torch.distributed or torchrun, or ``None`` outside them."""
    torch = sys.modules.get("torch")
    if torch is not None:
        dist = getattr(torch, "distributed", None)
        try:
            if dist is not None and dist.is_available() and dist.is_initialized():
                return int(dist.get_rank())
        except (RuntimeError, ValueError):
            pass
    for var in ("RANK", "SLURM_PROCID"):
        value = os.environ.get(var)
        if value is not None and value.isdigit():
            return int(value)
    return None


def _default_device() -> str | None:
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            return f"cuda:{torch.cuda.current_device()}"
    except (RuntimeError, AssertionError):
        pass
    return "cpu"


def init(
    name: str | None = None,
    config: Mapping[str, Any] | None = None,
    *,
    run_id: str | None = None,
    url: str | None = None,
    token: str | None = None,
    mode: Mode = "auto",
    dir: str | os.PathLike[str] | None = None,
    per_rank: bool = False,
    device: str | None = None,
    max_queue: int = 20_000,
    lazy: bool = False,
    rescue: RescuePolicy | RescueMode | Mapping[str, Any] | None = None,
    tags: Sequence[str] | None = None,
) -> Run:
    """Starts a run and returns it.

    * ``name``, ``config``: shown in the editor (``config`` must be JSON-like; other values are
      sent as their ``str()``).
    * ``run_id``: resume or create the run with this id (default ``$LOSSRADAR_RUN_ID``, else a new
      ``YYYYMMDD-HHMMSS-<name>-<6 hex>``, chosen here so that ``run.run_id`` is known at once and
      names both the hub's run folder and, should the hub fail, the local one).
    * ``url``/``token``: a hub to use instead of the environment and the discovery directory.
    * ``mode``: ``"auto"`` (hub if one is found, else local), ``"local"`` (always write
      ``dir``/``<run-id>/``), ``"disabled"`` (log nothing).
    * ``dir``: the local store root (default ``./.lossradar/runs``).
    * ``per_rank``: under torch.distributed only rank 0 logs unless this is true; then every rank
      opens its own run (``<name>-rank<r>``, run id ``<id>-rank<r>`` for ranks > 0) and its rows
      carry ``rank``.
    * ``device``: shown in the editor (default ``cuda:N`` when torch has initialised CUDA, else
      ``cpu``).
    * ``max_queue``: rows kept for the hub before the oldest are dropped (and counted).
    * ``lazy``: connect to the hub with the first row, event or ``finish`` rather than at once, so
      that :meth:`Run.update_config` calls until then travel in the run's hello (the integrations
      use it where a framework hands over the configuration after the run must exist).
    * ``rescue``: the rescue policy (docs/rescue.md), off by default: ``"auto"`` or
      ``RescuePolicy(mode="auto", max_rescues=2, lr_factor=0.5, action="rollback")`` rolls the run
      back and lowers its lr when the hub's watchdog raises a critical alert (it needs
      ``run.watch(model, optimizer=...)``), at most ``max_rescues`` times, each said in the run's
      events. A mapping with the same fields (an experiment file's) works too.
    * ``tags``: labels to find the run by in the editor (the Runs tree's filter, the comparison
      table: docs/compare.md), as ``wandb.init(tags=...)``; at most 32, each of 1 to 64 characters.
      The hub keeps them when the run is created; the editor may change them later.

    The run becomes the active run of :func:`log` and :func:`finish` until it is finished.
    """
    policy = RescuePolicy.of(rescue) if rescue is not None else _env_rescue()  # raises before anything starts
    labels = clean_tags(tags)  # and so do wrong tags
    run = _init(name, config, run_id, url, token, mode, dir, per_rank, device, max_queue, lazy, policy, labels)
    _runs[:] = [r for r in _runs if not r.finished]
    _runs.append(run)
    return run


def _env_rescue() -> RescuePolicy:
    """The policy of an experiment file (``"rescue": {...}``), which the launcher passes as
    ``LOSSRADAR_RESCUE``; a bad one is warned about and left off: the run still starts."""
    text = os.environ.get("LOSSRADAR_RESCUE")
    if not text:
        return RescuePolicy()
    try:
        return RescuePolicy.of(json.loads(text))
    except (ValueError, TypeError) as e:
        warnings.warn(
            f"lossradar: LOSSRADAR_RESCUE is not a rescue policy ({e}); rescue is off",
            LossRadarWarning,
            stacklevel=user_stacklevel(),
        )
        return RescuePolicy()


def active_run() -> Run | None:
    """The run returned by the latest :func:`init` that is not finished (``wandb.run``), or ``None``."""
    while _runs and _runs[-1].finished:
        _runs.pop()
    return _runs[-1] if _runs else None


def _no_active_run(what: str) -> None:
    warnings.warn(
        f"lossradar.{what}: there is no active run (none started by lossradar.init(), or all of them "
        "finished); nothing was done",
        LossRadarWarning,
        stacklevel=user_stacklevel(),
    )


def log(step: int, data: Mapping[str, Any] | None = None, /, **scalars: Any) -> dict[str, float]:
    """:meth:`Run.log` on the active run; without one, a :class:`LossRadarWarning` and nothing logged."""
    run = active_run()
    if run is None:
        _no_active_run("log")
        return {}
    values: Mapping[str, Any] = scalars if data is None else {**data, **scalars} if scalars else data
    # Called through here, the row's source is still the caller's line: this file is the SDK's.
    return run._log(step, values, caller_source())


def finish(status: EndStatus = "completed", error: str | None = None, timeout: float = 10.0) -> None:
    """:meth:`Run.finish` on the active run; without one, a :class:`LossRadarWarning`."""
    run = active_run()
    if run is None:
        _no_active_run("finish")
        return
    run.finish(status, error, timeout)


def _init(
    name: str | None,
    config: Mapping[str, Any] | None,
    run_id: str | None,
    url: str | None,
    token: str | None,
    mode: Mode,
    dir: str | os.PathLike[str] | None,
    per_rank: bool,
    device: str | None,
    max_queue: int,
    lazy: bool,
    rescue: RescuePolicy,
    tags: list[str] | None = None,
) -> Run:
    if mode not in ("auto", "local", "disabled"):
        raise ValueError(f"mode must be 'auto', 'local' or 'disabled', got {mode!r}")
    rank = _distributed_rank()
    if mode == "disabled" or (rank is not None and rank != 0 and not per_rank):
        return Run(name=name, config=config, rank=rank, disabled=True, rescue=rescue)
    row_rank = rank if per_rank and rank is not None else None
    if row_rank is not None and row_rank > 0 and name:
        name = f"{name}-rank{row_rank}"
    device = device or _default_device()
    root = Path(dir) if dir is not None else default_local_root()
    install_excepthook()

    address = None
    if mode == "auto":
        if url and token:
            from .discovery import HubAddress

            address = HubAddress(url=url, token=token, origin="argument", run_id=None)
        else:
            address = find_hub()
    wanted_id = run_id or (address.run_id if address is not None else None) or os.environ.get("LOSSRADAR_RUN_ID")
    if wanted_id is not None and row_rank is not None and row_rank > 0:
        wanted_id = f"{wanted_id}-rank{row_rank}"
    if wanted_id is not None and not valid_run_id(wanted_id):
        raise ValueError(f"run_id {wanted_id!r} must match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,127}}$")
    from .local import LocalRunWriter, new_run_id

    # Each rank makes its own id; ``name`` already carries the rank suffix when there is one.
    chosen_id = wanted_id or new_run_id(name or (f"rank{row_rank}" if row_rank else None))

    if address is not None:
        from .client import HubClient

        run = Run(name=name, config=config, rank=row_rank, local_root=root, rescue=rescue)
        client = HubClient(
            address.url,
            address.token,
            name=name,
            config=config,
            run_id=chosen_id,
            device=device,
            rank=row_rank,
            sdk_version=__version__,
            max_queue=max_queue,
            on_command=run._receive_command,
            tags=tags or [],
        )
        run.tags = tags or []
        run._client = client
        run._announce()  # the hello carries the rescue policy
        client.start(lazy=lazy)
        return run

    writer = LocalRunWriter(
        root,
        chosen_id,
        name=name,
        config=config,
        device=device,
        sdk_version=__version__,
        tags=tags or [],
    )
    global _warned_local
    if mode == "auto" and not _warned_local:
        _warned_local = True
        warnings.warn(
            f"lossradar: no Loss Radar hub found (no LOSSRADAR_URL/LOSSRADAR_TOKEN, no hub in the discovery "
            f"directory for {os.getcwd()}); writing the run to {writer.dir}",
            LossRadarWarning,
            stacklevel=user_stacklevel(),
        )
    run = Run(name=name, config=config, local=writer, rank=row_rank, local_root=root, rescue=rescue)
    run.tags = tags or []
    return run
