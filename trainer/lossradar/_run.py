"""The ``Run`` object returned by :func:`lossradar.init`. Imports torch only when a tensor, a model
or predictions are handed to it."""

from __future__ import annotations

import atexit
import functools
import logging
import math
import operator
import os
import queue
import sys
import threading
import time
import types
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from . import _version
from ._stack import user_stacklevel
from .applied import APPLIED_GRAD_NORM, AppliedGradNorm
from .encoding import (
    MAX_METRIC_NAME,
    MAX_SAFE_INTEGER,
    RESERVED_KEYS,
    distribution_frame,
    dumps,
    event_frame,
    json_safe,
    reliability_frame,
)
from .rescue import DEFAULT_CHECKPOINT_DIR, Command, Event, RescuePolicy, Rescuer, check_factor
from .sharding import is_sharded, world_size

if TYPE_CHECKING:
    import torch
    from torch import nn

    from .client import HubClient
    from .local import LocalRunWriter
    from .snapshots import SnapshotTo
    from .watch import Watcher

log = logging.getLogger("lossradar")

CommandCallback = Callable[[str], None]
#: ``run.on_checkpoint(fn)``: ``fn(step)`` saves a checkpoint; what it returns (a path) is quoted
#: in the run's event.
CheckpointFn = Callable[[int | None], object]
#: A critical alert that opens within this many steps after a rescue is about the same blow-up:
#: the detectors' windows still hold its rows (docs/rescue.md).
RESCUE_GRACE_ROWS = 20
#: Snapshots are kept on the CPU by default only up to this much state (model + optimizer).
AUTO_SNAPSHOT_MAX_BYTES = 1 << 30
_T = TypeVar("_T")
#: How a run ends (the ``end`` frame's statuses, docs/protocol.md).
EndStatus = Literal["completed", "failed", "stopped"]
_END_STATUSES: frozenset[str] = frozenset(get_args(EndStatus))
#: What ``lossradar.init(mode=...)`` asks for.
Mode = Literal["auto", "local", "disabled"]
#: Where a run's rows go, once it exists (``run.mode``).
RunMode = Literal["hub", "local", "disabled"]
#: The levels of ``run.event`` (the ``event`` frame's).
EventLevel = Literal["info", "warning", "error"]


class LossRadarWarning(UserWarning):
    """Warnings of the Loss Radar SDK (no hub found, rows written locally, a metric refused)."""


#: Frames of files under this folder are skipped when finding the caller of ``log()``: the SDK and
#: its integrations (the reference trainer, in lossradar_trainer/, is a caller like any other).
_SDK_PREFIX = os.path.dirname(os.path.abspath(__file__)) + os.sep
#: Packages whose frames stand between a user's script and an integration's ``log()``.
_FRAMEWORKS = (
    "transformers",
    "accelerate",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "lightning_utilities",
    "torch",
)


@functools.lru_cache(maxsize=4096)  # bounded: exec'd code can make up file names without end
def _caller_path(filename: str) -> str:
    """``co_filename`` → the path a row reports, ``""`` for the SDK's own files. ``abspath`` is a
    few microseconds of pure Python per frame, on every ``log()``: it is worked out once per file."""
    absolute = os.path.abspath(filename)
    if absolute.startswith(_SDK_PREFIX):
        return ""
    return filename if filename.startswith("<") else absolute


def _framework_dirs() -> tuple[str, ...]:
    dirs = []
    for name in _FRAMEWORKS:
        module = sys.modules.get(name)
        file = getattr(module, "__file__", None)
        if file:
            dirs.append(os.path.dirname(os.path.abspath(file)) + os.sep)
    return tuple(dirs)


@functools.lru_cache(maxsize=4096)
def _user_path(filename: str) -> str:
    """Like :func:`_caller_path`, and ``""`` for the frameworks' files too. A file's frames exist
    only once its package is imported, so the package folders are looked up on a cache miss."""
    path = _caller_path(filename)
    return "" if path and path.startswith(_framework_dirs()) else path


def _first_frame(path_of: Callable[[str], str]) -> tuple[str, int] | None:
    try:
        frame: types.FrameType | None = sys._getframe(2)
    except ValueError:
        return None
    while frame is not None:
        path = path_of(frame.f_code.co_filename)
        if path:
            return (path, frame.f_lineno)
        frame = frame.f_back
    return None


def caller_source() -> tuple[str, int] | None:
    """file:line of the first frame outside the SDK: where the user called ``log()``."""
    return _first_frame(_caller_path)


def user_source() -> tuple[str, int] | None:
    """file:line of the first frame outside the SDK and the frameworks it integrates with: for a row
    an integration logs from inside ``trainer.train()``, the user's line that started it, where the
    editor shows the run's alerts."""
    return _first_frame(_user_path)


class _Transfer:
    """Gathers tensors from one logging call and moves them to the host in one ``tolist()`` per
    device (normally one)."""

    def __init__(self) -> None:
        self._items: list[tuple[Any, int]] = []  # (tensor, numel)

    def add(self, t: torch.Tensor) -> int:
        self._items.append((t, t.numel()))
        return len(self._items) - 1

    def __bool__(self) -> bool:
        return bool(self._items)

    def fetch(self) -> list[list[float]]:
        import torch

        by_device: dict[Any, list[int]] = {}
        for i, (t, _) in enumerate(self._items):
            by_device.setdefault(t.device, []).append(i)
        out: list[list[float]] = [[] for _ in self._items]
        with torch.no_grad():
            for indices in by_device.values():
                flat = torch.cat([self._items[i][0].detach().reshape(-1).to(torch.float32) for i in indices])
                host: list[float] = flat.cpu().tolist()
                pos = 0
                for i in indices:
                    n = self._items[i][1]
                    out[i] = host[pos : pos + n]
                    pos += n
        return out


def _is_tensor(v: object) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(v, torch.Tensor)


class Run:
    """One training run streamed to the hub (or written locally). Create it with
    :func:`lossradar.init`; use it as a context manager or call :meth:`finish`."""

    def __init__(
        self,
        *,
        name: str | None,
        config: Mapping[str, Any] | None,
        client: HubClient | None = None,
        local: LocalRunWriter | None = None,
        rank: int | None = None,
        disabled: bool = False,
        local_root: Path | None = None,
        rescue: RescuePolicy | None = None,
    ) -> None:
        self.name = name
        self.config = dict(config) if config is not None else None
        self.rank = rank
        self.disabled = disabled
        self._client = client
        self._local = local
        self._local_root = local_root
        #: Set by ``init(tags=...)`` (docs/compare.md); the hub and meta.json have them.
        self.tags: list[str] = []
        self._should_stop = False
        self._callbacks: list[CommandCallback] = []
        self._commands: queue.SimpleQueue[Command] = queue.SimpleQueue()
        #: The rescue policy (docs/rescue.md) and what ``watch(optimizer=...)`` armed.
        self.rescue_policy = rescue if rescue is not None else RescuePolicy()
        self._rescuer: Rescuer | None = None
        self._checkpoint_fn: CheckpointFn | None = None
        self._rescues = 0
        #: The step at which the last rollback or rescue was applied: an alert that opened at or
        #: before it belongs to the blow-up already dealt with.
        self._rescued_at: int | None = None
        self._skip_left = 0
        self._batches_wrapped = False
        self._command_step: int | None = None
        self._watchers: list[Watcher] = []
        #: ``grad_norm/applied``, measured once ``watch(optimizer=...)`` gave an optimizer.
        self._applied: AppliedGradNorm | None = None
        self._last_step: int | None = None
        self._warned: set[str] = set()
        #: Metric names already checked (bounded: a script may make names up as it goes).
        self._names_ok: set[str] = set()
        self._finished = False
        self._lock = threading.Lock()
        self.status: str | None = None
        if not disabled:
            atexit.register(self._at_exit)

    # ------------------------------------------------------------------ properties

    @property
    def run_id(self) -> str | None:
        """The run's id, known from ``init()`` on: the one the SDK sent in its hello (the hub's run
        folder has this name), or the local run's; ``None`` when disabled."""
        if self._client is not None:
            return self._client.run_id
        if self._local is not None:
            return self._local.run_id
        return None

    @property
    def mode(self) -> RunMode:
        """``"hub"``, ``"local"`` or ``"disabled"``."""
        if self._client is not None:
            return "hub"
        if self._local is not None:
            return "local"
        return "disabled"

    @property
    def finished(self) -> bool:
        """True once :meth:`finish` ran (then ``status`` says how the run ended)."""
        return self._finished

    @property
    def local_dir(self) -> Path | None:
        return self._local.dir if self._local is not None else None

    @property
    def should_stop(self) -> bool:
        """True once the hub sent ``stop`` (the user pressed Stop in the editor)."""
        return self._should_stop

    @should_stop.setter
    def should_stop(self, value: bool) -> None:
        self._should_stop = bool(value)

    @property
    def client(self) -> HubClient | None:
        return self._client

    # ------------------------------------------------------------------ commands

    def on_command(self, callback: CommandCallback) -> CommandCallback:
        """Registers ``callback(command)`` for hub commands (``"stop"``, ``"checkpoint"``,
        ``"lower-lr"``, ``"rollback"``, ``"rescue"``). Callbacks run on the training thread, inside
        the next ``log()``/``log_predictions()`` call (a safe point between steps), never on the
        network thread, before the SDK's own action. Usable as a decorator."""
        self._callbacks.append(callback)
        return callback

    def on_checkpoint(self, fn: CheckpointFn) -> CheckpointFn:
        """Registers ``fn(step)`` as what "Checkpoint Now" in the editor does (instead of saving the
        watched model's and optimizer's ``state_dict``); what it returns (a path) is quoted in the
        run's event. Runs on the training thread inside ``log()``. Usable as a decorator."""
        self._checkpoint_fn = fn
        self._announce()
        return fn

    def _receive_command(self, frame: Mapping[str, Any]) -> None:  # network thread
        command = Command.of(frame)
        if command.command == "stop":
            self._should_stop = True
        self._commands.put(command)

    def _run_commands(self, step: int | None) -> None:
        """Runs the queued commands at ``step``: inside ``log(step)``, after the user's update of
        that step (the state a checkpoint saves or a roll back replaces is step ``step``'s)."""
        if self._commands.empty():  # the common case, without raising queue.Empty on every log()
            return
        self._command_step = step
        while True:
            try:
                command = self._commands.get_nowait()
            except queue.Empty:
                return
            for callback in list(self._callbacks):
                try:
                    callback(command.command)
                except Exception:
                    log.exception("lossradar: the %r command callback failed", command.command)
            try:
                event = self._act(command)
            except Exception as e:  # the loop goes on; the run's events say what failed
                log.exception("lossradar: the %r command failed", command.command)
                kind = "lr" if command.command == "lower-lr" else command.command
                event = (f"{command.command} failed: {type(e).__name__}: {e}", "error", kind, None)
            if event is not None:
                message, level, kind, span = event
                self._emit_frame(event_frame(message, level, self._command_step, kind, span))

    def _act(self, command: Command) -> Event | None:
        """The SDK's own part of a command (docs/rescue.md); ``None`` when it has none."""
        rescuer, name = self._rescuer, command.command
        if name == "checkpoint":
            if rescuer is None and self._checkpoint_fn is None:
                return None  # left to on_command callbacks, as before watch(optimizer=...) existed
            if rescuer is None:
                where = self._checkpoint_fn(self._command_step)  # type: ignore[misc]
                return (
                    f"checkpoint at step {self._command_step}" + (f": {where}" if where else ""),
                    "info",
                    "checkpoint",
                    None,
                )
            return rescuer.checkpoint(self._command_step, self._checkpoint_fn)
        if name in ("lower-lr", "rollback") and rescuer is not None and (why := rescuer.refusal()):
            what = "Lower Learning Rate" if name == "lower-lr" else "Roll Back"
            return (f"{what}: {why}", "warning", "lr" if name == "lower-lr" else name, None)
        if name == "lower-lr":
            if rescuer is None or rescuer.optimizer is None:
                return (
                    "Lower Learning Rate: no optimizer to act on (run.watch(model, optimizer=...))",
                    "warning",
                    "lr",
                    None,
                )
            return (rescuer.lower_lr(check_factor(command.factor or self.rescue_policy.lr_factor)), "info", "lr", None)
        if name == "rollback":
            return self._roll_back(command, "rollback", "Roll Back")
        if name == "rescue":
            return self._rescue(command)
        return None

    def _roll_back(self, command: Command, kind: str, what: str) -> Event:
        rescuer = self._rescuer
        if rescuer is None or rescuer.snapshots is None:
            return (
                f"{what}: no snapshots to roll back to (run.watch(model, optimizer=..., snapshot_every=N))",
                "warning",
                kind,
                None,
            )
        factor = check_factor(command.factor or self.rescue_policy.lr_factor)
        done = rescuer.rollback(command.step, factor, self._command_step)
        self._rescued_at = self._command_step
        if done is None:
            # Nothing from before the alert: lowering the lr is what is left to do.
            lowered = rescuer.lower_lr(factor)
            return (f"{what}: no snapshot from before step {command.step}; {lowered}", "warning", kind, None)
        message, span = done
        skip = command.skip if command.skip is not None else rescuer.skip_batches
        if skip and self._batches_wrapped:
            self._skip_left = skip
            message += f"; skipping the next {skip} batches"
        elif skip:
            message += f"; {skip} batches not skipped: iterate over run.batches(loader) to skip them"
        return (message, "info", kind, span)

    def _rescue(self, command: Command) -> Event | None:
        """The hub saw a critical alert open at ``command.step`` on a run whose policy is auto."""
        policy = self.rescue_policy
        if policy.mode != "auto":
            return None
        if self._rescuer is not None and (why := self._rescuer.refusal()):
            if "rescue-refused" in self._warned:
                return None
            self._warned.add("rescue-refused")
            message = f"rescue: the critical alert at step {command.step} is not acted on: {why}"
            return (message, "warning", "rescue", None)
        if (
            self._rescued_at is not None
            and command.step is not None
            and command.step <= self._rescued_at + RESCUE_GRACE_ROWS
        ):
            return None  # another detector's alert about the blow-up already dealt with
        if self._rescues >= policy.max_rescues:
            if "rescue-limit" in self._warned:
                return None
            self._warned.add("rescue-limit")
            return (
                f"rescue: the critical alert at step {command.step} is not acted on: the run was rescued "
                f"{self._rescues} times already (max_rescues={policy.max_rescues})",
                "warning",
                "rescue",
                None,
            )
        self._rescues += 1
        count = f"rescue {self._rescues} of {policy.max_rescues} (critical alert at step {command.step})"
        if policy.action == "lower-lr":
            rescuer = self._rescuer
            self._rescued_at = self._command_step
            if rescuer is None or rescuer.optimizer is None:
                return (f"{count}: no optimizer to act on (run.watch(model, optimizer=...))", "warning", "rescue", None)
            return (f"{count}: {rescuer.lower_lr(policy.lr_factor)}", "warning", "rescue", None)
        message, level, _, span = self._roll_back(
            Command("rollback", policy.lr_factor, command.step), "rescue", "rescue"
        )
        return (f"{count}: {message}", "warning" if level == "info" else level, "rescue", span)

    def _announce(self) -> None:
        """Tells the hub which actions the editor may offer for this run, and its rescue policy."""
        if self._client is None:
            return
        actions: list[str] = list(self._rescuer.actions()) if self._rescuer is not None else []
        if self._checkpoint_fn is not None and "checkpoint" not in actions:
            actions.insert(0, "checkpoint")
        self._client.set_capabilities({"actions": actions, "rescue": self.rescue_policy.to_wire()})

    def batches(self, loader: Iterable[_T]) -> Iterator[_T]:
        """``for batch in run.batches(loader)``: the loader's batches, less those a roll back asks to
        skip (``run.watch(skip_batches=K)``, or the command's ``skip``): after a roll back the next
        K batches are drawn and dropped, as done for PaLM's loss spikes (docs/rescue.md)."""
        self._batches_wrapped = True
        for batch in loader:
            if self._skip_left > 0:
                self._skip_left -= 1
                continue
            yield batch

    # ------------------------------------------------------------------ logging

    def _warn_once(self, key: str, message: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            warnings.warn(message, LossRadarWarning, stacklevel=user_stacklevel())

    def _check_step(self, step: object) -> int | None:
        try:
            if isinstance(step, bool):
                raise TypeError
            s = operator.index(step)  # type: ignore[arg-type]
        except TypeError:
            if _is_tensor(step):
                s = int(step.item())  # type: ignore[attr-defined]
            else:
                self._warn_once("step-type", f"lossradar: step must be an integer ≥ 0, got {step!r}; row skipped")
                return None
        if s < 0:
            self._warn_once("step-negative", f"lossradar: step must be ≥ 0, got {s}; row skipped")
            return None
        if s > MAX_SAFE_INTEGER:
            self._warn_once(
                "step-too-large",
                f"lossradar: step must be ≤ 2**53 - 1 (the hub reads it as a double), got {s}; row skipped",
            )
            return None
        if self._last_step is not None and s < self._last_step:
            self._warn_once(
                "step-backwards",
                f"lossradar: step {s} goes backwards (last step {self._last_step}); such rows are skipped",
            )
            return None
        return s

    def _metric_ok(self, name: str) -> bool:
        if not name or len(name) > MAX_METRIC_NAME:
            self._warn_once(f"name:{name[:40]}", f"lossradar: metric name {name[:40]!r} must have 1–512 characters")
            return False
        if name in RESERVED_KEYS:
            self._warn_once(f"name:{name}", f"lossradar: {name!r} is a reserved key, not a metric name; skipped")
            return False
        return True

    def log(self, step: int, data: Mapping[str, Any] | None = None, /, **scalars: Any) -> dict[str, float]:
        """Logs scalars at ``step`` (an integer ≥ 0, non-decreasing), given as a mapping
        (``run.log(step, {"loss/val": v})``: the slash names that group metrics cannot be keywords),
        as keywords (``run.log(step, loss=loss)``) or both, merged (a keyword wins over the same key
        in ``data``). Values may be Python numbers, numpy scalars or 0-d tensors on any device: all
        the tensors of one call (and the spectral-alignment statistics of a watched model) reach the
        host in one transfer. NaN and ±Inf are kept. Never blocks on the network. Returns the values
        as logged (host floats; empty when the run is disabled or the row was refused)."""
        values: Mapping[str, Any] = scalars if data is None else {**data, **scalars} if scalars else data
        return self._log(step, values, caller_source())

    def _log(
        self,
        step: object,
        scalars: Mapping[str, Any],
        source: tuple[str, int] | None,
        transfer: _Transfer | None = None,
        after: Callable[[list[list[float]], dict[str, float], int], None] | None = None,
    ) -> dict[str, float]:
        if self.disabled or self._finished:
            return {}
        s = self._check_step(step)
        self._run_commands(s if s is not None else self._last_step)
        if s is None:
            return {}
        values: dict[str, float] = {}
        tensor_slots: list[tuple[str, int]] = []
        xfer = transfer if transfer is not None else _Transfer()
        torch_mod = sys.modules.get("torch")
        tensor_type = torch_mod.Tensor if torch_mod is not None else None
        names_ok = self._names_ok
        for name, v in scalars.items():
            if name not in names_ok:
                if not self._metric_ok(name):
                    continue
                if len(names_ok) < 4096:
                    names_ok.add(name)
            if type(v) is float:
                values[name] = v
            elif tensor_type is not None and isinstance(v, tensor_type):
                if v.numel() != 1:
                    self._warn_once(f"shape:{name}", f"lossradar: {name!r} is not a scalar tensor; skipped")
                    continue
                tensor_slots.append((name, xfer.add(v)))
            elif isinstance(v, bool | int | float):
                values[name] = float(v)
            else:
                try:
                    values[name] = float(v)
                except (TypeError, ValueError):
                    self._warn_once(f"type:{name}", f"lossradar: {name!r} = {v!r} is not a number; skipped")
        applied = self._applied.take() if self._applied is not None else None
        if applied is not None and APPLIED_GRAD_NORM not in scalars:  # a value the script logs wins
            tensor_slots.append((APPLIED_GRAD_NORM, xfer.add(applied)))
        vector_slots: list[tuple[list[str], int]] = []
        hist_slots: list[tuple[list[str], list[float], int]] = []
        collected: set[int] = set()
        for watcher in self._watchers:
            if watcher.has_capture:
                sa_scalars, sa_hists = watcher.collect()
                collected.add(id(watcher))
                for names, t in sa_scalars:
                    vector_slots.append((names, xfer.add(t)))
                for names, edges, counts in sa_hists:
                    hist_slots.append((names, edges, xfer.add(counts)))
        host = xfer.fetch() if xfer else []
        for name, slot in tensor_slots:
            values[name] = host[slot][0]
        for names, slot in vector_slots:
            values.update(zip(names, host[slot], strict=True))
        for watcher in self._watchers:
            watcher.advance(s, id(watcher) in collected)
        if after is not None:
            after(host, values, s)
        self._last_step = s
        if values:
            self._emit_row(s, values, source)
        rescuer = self._rescuer
        if rescuer is not None and rescuer.snapshots is not None and rescuer.snapshots.due(s):
            rescuer.snapshots.take(s)
        for names, e, c in hist_slots:
            bins = len(e) - 1
            for k, name in enumerate(names):
                self._emit_frame(distribution_frame(s, name, e, host[c][k * bins : (k + 1) * bins]))
        return values

    def _emit_row(self, step: int, values: dict[str, float], source: tuple[str, int] | None) -> None:
        t = time.time()
        if self._client is not None:
            self._client.submit_row(step, t, values, source, self.rank)
        elif self._local is not None:
            self._local.write_row(step, t, values, source, self.rank)

    def _emit_frame(self, frame: dict[str, Any]) -> None:
        if self._client is not None:
            self._client.submit_frame(frame)
        elif self._local is not None:
            self._local.write_frame(frame)

    def log_predictions(
        self,
        step: int,
        logits: torch.Tensor,
        labels: torch.Tensor,
        *,
        n_bins: int = 15,
        ignore_index: int = -100,
        max_rows: int = 4096,
        **scalars: Any,
    ) -> dict[str, float]:
        """Calibration and confidence of a batch of predictions: ``calibration/ece``,
        ``calibration/mce``, ``entropy/mean``, ``entropy/normalized`` (÷ log C), ``accuracy`` and a
        reliability diagram (``n_bins`` bins). ``logits`` (..., C) in any dtype, ``labels`` (...)
        integers; entries equal to ``ignore_index`` are left out; at most ``max_rows`` rows, taken
        with a fixed stride, are measured. Float32 on the device, one transfer; extra ``scalars``
        travel in the same row. Returns the values as logged, like :meth:`log`."""
        if self.disabled or self._finished:
            return {}
        import torch

        from .metrics import calibration_bins, calibration_error_from_bins, diagram_bins, entropy
        from .watch import no_autocast

        source = caller_source()
        xfer = _Transfer()
        c = int(logits.shape[-1])
        with torch.no_grad(), no_autocast(logits.device.type):
            z = logits.detach().reshape(-1, c)
            y = labels.detach().reshape(-1).to(z.device)
            if z.shape[0] > max_rows:
                stride = z.shape[0] // max_rows
                z, y = z[::stride][:max_rows], y[::stride][:max_rows]
            z = z.to(torch.float32)
            valid = (y != ignore_index).to(torch.float32)
            n_valid = valid.sum().clamp_min(1.0)
            probs = torch.softmax(z, dim=-1)
            conf, pred = probs.max(dim=1)
            correct = pred.eq(y).to(torch.float32)
            bins = calibration_bins(conf, correct, n_bins, weights=valid)
            ece = calibration_error_from_bins(bins, "l1")
            mce = calibration_error_from_bins(bins, "max")
            ent = (entropy(z) * valid).sum() / n_valid
            ent_norm = ent / math.log(c) if c > 1 else torch.zeros_like(ent)
            acc = (correct * valid).sum() / n_valid
            d_conf, d_acc, d_counts = diagram_bins(bins)
            # logits/logsumexp: the mean log-partition, the scale of the logits (docs/early-warning.md)
            lse = (torch.logsumexp(z, dim=-1) * valid).sum() / n_valid
            i_scalars = xfer.add(torch.stack([ece, mce, ent, ent_norm, acc, lse]))
            i_conf, i_acc, i_counts = xfer.add(d_conf), xfer.add(d_acc), xfer.add(d_counts)
            edges = [i / n_bins for i in range(n_bins + 1)]

        def after(host: list[list[float]], values: dict[str, float], s: int) -> None:
            ece_v, mce_v, ent_v, entn_v, acc_v, lse_v = host[i_scalars]
            values.update(
                {
                    "calibration/ece": ece_v,
                    "calibration/mce": mce_v,
                    "entropy/mean": ent_v,
                    "entropy/normalized": entn_v,
                    "accuracy": acc_v,
                    "logits/logsumexp": lse_v,
                }
            )
            self._emit_frame(reliability_frame(s, edges, host[i_conf], host[i_acc], host[i_counts]))

        return self._log(step, scalars, source, xfer, after)

    def log_distribution(self, step: int, name: str, edges: list[float], counts: list[float]) -> None:
        """A histogram (``len(edges) == len(counts) + 1``)."""
        if self.disabled or self._finished:
            return
        if len(edges) != len(counts) + 1:
            raise ValueError("a histogram needs len(edges) == len(counts) + 1")
        self._emit_frame(distribution_frame(step, name, edges, counts))

    def event(
        self,
        message: str,
        level: EventLevel = "info",
        step: int | None = None,
        *,
        kind: str | None = None,
        span: tuple[int, int] | None = None,
    ) -> None:
        """A line in the run's event log (``info``, ``warning`` or ``error``). ``kind`` (a word of
        1–64 characters: ``"checkpoint"``, ``"lr"``, or one of your own) makes the charts draw it at
        ``step``; ``span=(from, to)`` draws it as a band over those steps."""
        if self.disabled or self._finished:
            return
        self._emit_frame(event_frame(message, level, step, kind, span))

    def update_config(self, values: Mapping[str, Any] | None = None, /, **more: Any) -> None:
        """Merges ``values`` and keyword arguments into the run's configuration (``run.config``), as
        ``wandb.config.update`` does: for hyperparameters that are known only after ``init()``.

        Where the change lands: a local run rewrites its ``meta.json``; a hub run sends it in its
        ``hello`` when that has not gone yet (always so for ``init(lazy=True)`` before the first
        row, event or finish). After the hello the hub keeps the configuration it was sent (wire
        protocol v1 has no frame that changes it, docs/protocol.md), so the change is recorded as
        an ``info`` event ``config: {...}`` in the run's event log instead; the merged configuration
        is what a local fallback writes should the hub fail."""
        if self.disabled or self._finished:
            return
        change = {**(values or {}), **more}
        if not change:
            return
        merged = {**(self.config or {}), **change}
        self.config = merged
        if self._client is not None:
            if not self._client.update_config(merged):
                self._emit_frame(event_frame(f"config: {dumps(json_safe(change))}", "info", self._last_step))
        elif self._local is not None:
            self._local.update_config(merged)

    # ------------------------------------------------------------------ models

    def watch(
        self,
        model: nn.Module,
        every: int = 10,
        *,
        max_rows: int = 1024,
        collapse_threshold: float = 0.1,
        include: Callable[[str, Any], bool] | None = None,
        optimizer: Any | None = None,
        scheduler: Any | None = None,
        snapshot_every: int = 100,
        snapshot_to: SnapshotTo = "auto",
        keep_snapshots: int = 3,
        skip_batches: int = 0,
        checkpoint_dir: str | os.PathLike[str] | None = None,
    ) -> Watcher | None:
        """Spectral alignment of every ``nn.Linear`` of ``model`` every ``every`` logged steps:
        ``sa/<layer>/sign_diversity``, ``sa/<layer>/mean_abs``, ``sa/<layer>/sigma`` (the top
        singular value, ‖Wv₁‖ of the power iteration), ``sa/<layer>/update_ratio`` (update-to-weight
        ratio since the last measurement), the ``sa/<layer>`` histograms, ``sa/min_sign_diversity``
        and ``sa/collapsed_fraction`` (share of layers whose sign diversity is below
        ``collapse_threshold``); docs/early-warning.md says which of them predict. Works on a
        ``torch.compile``d or DDP-wrapped model. Returns the :class:`~lossradar.watch.Watcher`
        (``None`` on a disabled run).

        It also arms the editor's actions on the run (docs/rescue.md): "Checkpoint Now" (the
        function of :meth:`on_checkpoint`, else ``model``'s, ``optimizer``'s and ``scheduler``'s
        state saved to ``checkpoint_dir``, default ``./.lossradar/checkpoints/<run-id>/``), and
        with an ``optimizer`` "Lower Learning Rate" (every param group's lr and the
        ``scheduler``'s, a scheduler or a list of them, so that its next step does not undo it) and
        "Roll Back": a snapshot of model and optimizer state every ``snapshot_every`` logged steps
        (the last ``keep_snapshots`` kept), ``snapshot_to`` ``"cpu"`` (memory), ``"disk"`` (under
        ``checkpoint_dir``, written on a background thread), ``"off"``, or ``"auto"``: the CPU when
        the state is at most 1 GiB, else off. A roll back restores the newest snapshot from before
        the alert, lowers the lr and skips the next ``skip_batches`` batches of
        :meth:`batches`."""
        if self.disabled:
            return None
        from .watch import Watcher

        watcher = Watcher(
            model,
            every,
            max_rows=max_rows,
            collapse_threshold=collapse_threshold,
            include=include,
            warn=self._warn_once,
        )
        self._watchers.append(watcher)
        self._arm(
            model, optimizer, scheduler, snapshot_every, snapshot_to, keep_snapshots, skip_batches, checkpoint_dir
        )
        return watcher

    def _arm(
        self,
        model: nn.Module,
        optimizer: Any | None,
        scheduler: Any | None,
        snapshot_every: int,
        snapshot_to: SnapshotTo,
        keep: int,
        skip_batches: int,
        checkpoint_dir: str | os.PathLike[str] | None,
    ) -> None:
        from .snapshots import Snapshots, state_bytes
        from .watch import unwrap_model

        if snapshot_to not in ("auto", "cpu", "disk", "off"):
            raise ValueError(f"snapshot_to must be 'auto', 'cpu', 'disk' or 'off', got {snapshot_to!r}")
        if isinstance(skip_batches, bool) or not isinstance(skip_batches, int) or skip_batches < 0:
            raise ValueError(f"skip_batches must be an integer ≥ 0, got {skip_batches!r}")
        inner = unwrap_model(model)
        folder = (
            Path(checkpoint_dir)
            if checkpoint_dir is not None
            else Path.cwd() / DEFAULT_CHECKPOINT_DIR / (self.run_id or "run")
        )
        to = snapshot_to
        ranks = world_size()
        sharded = any(is_sharded(p) for p in inner.parameters())
        if optimizer is None:
            to = "off"
        elif sharded or ranks > 1:
            # A snapshot of rank 0 alone is no snapshot of the run, and reading a sharded parameter
            # is a collective that rank 0 alone would enter (sharding.py).
            if to != "off":
                self._warn_once(
                    "snapshots-off",
                    f"lossradar: Roll Back is off under torch.distributed ({ranks} ranks"
                    f"{', sharded' if sharded else ''}): rank 0 alone can neither snapshot nor restore the run",
                )
            to = "off"
        elif to == "auto":
            size = state_bytes(inner, optimizer)
            to = "cpu" if size <= AUTO_SNAPSHOT_MAX_BYTES else "off"
            if to == "off":
                self._warn_once(
                    "snapshots-off",
                    f"lossradar: Roll Back is off: a snapshot would hold {size / 2**30:.1f} GiB of model and optimizer "
                    "state; pass snapshot_to='cpu' or 'disk' to keep them anyway",
                )
        snapshots = None
        if to in ("cpu", "disk"):
            snapshots = Snapshots(inner, optimizer, every=snapshot_every, to=to, keep=keep, folder=folder / "snapshots")
        schedulers = (
            [] if scheduler is None else list(scheduler) if isinstance(scheduler, list | tuple) else [scheduler]
        )
        self._rescuer = Rescuer(
            inner,
            optimizer,
            schedulers,
            snapshots,
            checkpoint_dir=folder,
            skip_batches=skip_batches,
            ranks=ranks,
            sharded=sharded,
        )
        if optimizer is not None and ranks > 1:
            self._warn_once(
                "distributed-rescue",
                f"lossradar: Lower Learning Rate and Roll Back are off under torch.distributed ({ranks} ranks):"
                " only rank 0 receives the editor's commands, and the ranks would drift apart",
            )
        if self._applied is not None:
            self._applied.remove()
        self._applied = None
        if optimizer is not None:
            try:
                self._applied = AppliedGradNorm(optimizer, self._warn_once)
            except Exception as e:  # an optimizer torch's hooks do not reach: the run goes on without
                self._warn_once(
                    "applied-grad-norm",
                    f"lossradar: {APPLIED_GRAD_NORM} is off for this run: {type(optimizer).__name__} "
                    f"takes no step hook ({type(e).__name__}: {e})",
                )
        self._announce()

    def unwatch(self, watcher: Watcher | None = None) -> None:
        """Removes the hooks of ``watcher`` (one that :meth:`watch` returned), or of every watcher."""
        for w in self._watchers if watcher is None else [watcher]:
            w.remove()
        self._watchers = [] if watcher is None else [w for w in self._watchers if w is not watcher]

    # ------------------------------------------------------------------ the end

    def finish(self, status: EndStatus = "completed", error: str | None = None, timeout: float = 10.0) -> None:
        """Sends the queued rows and the end of the run (``completed``, ``failed`` or ``stopped``),
        waiting at most ``timeout`` seconds for the hub to acknowledge them; rows it did not
        acknowledge are written to the local store layout instead. A wrong status raises before
        anything is ended, so that a corrected call still finishes the run."""
        if status not in _END_STATUSES:
            raise ValueError(f"status must be completed, failed or stopped, got {status!r}")
        with self._lock:
            if self._finished:
                return
            self._finished = True
        self.status = status
        self.unwatch()
        if self._applied is not None:
            self._applied.remove()
            self._applied = None
        self._run_commands(self._last_step)
        atexit.unregister(self._at_exit)
        if self._client is not None:
            client = self._client
            if not client.close(status, error, timeout):
                self._fallback_after_hub(client, status, error)
        elif self._local is not None:
            self._local.close(status, error)

    def _fallback_after_hub(self, client: HubClient, status: str, error: str | None) -> None:
        rows, frames, dropped = client.undelivered()
        if not rows and not frames and client.end_delivered:
            return
        from .local import LocalRunWriter

        root = self._local_root or default_local_root()
        try:
            writer = LocalRunWriter(
                root,
                client.run_id,
                name=self.name,
                config=self.config,
                device=None,
                sdk_version=_version.__version__,
                tags=self.tags,
            )
            for r in rows:
                writer.write_row(r.step, r.time, r.values, r.source, r.rank)
            for frame in frames:
                if frame.get("type") != "capabilities":  # for a live hub only: nothing to keep
                    writer.write_frame(frame)
            writer.add_dropped(dropped)
            writer.close(status, error)
        except OSError as e:
            warnings.warn(
                f"lossradar: the hub at {client.url} did not take {len(rows)} rows and they could not be "
                f"written locally either: {e}",
                LossRadarWarning,
                stacklevel=user_stacklevel(),
            )
            return
        warnings.warn(
            f"lossradar: the hub at {client.url} did not acknowledge {len(rows)} rows "
            f"({client.gave_up or 'unreachable'}); they were written to {writer.dir}",
            LossRadarWarning,
            stacklevel=user_stacklevel(),
        )

    def _at_exit(self) -> None:
        failed = _uncaught[0]
        if failed is not None:
            self.finish("failed", failed, timeout=5.0)
        else:
            self.finish("completed", timeout=5.0)

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: types.TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.finish("completed")
        elif issubclass(exc_type, KeyboardInterrupt):
            self.finish("stopped", "KeyboardInterrupt")
        else:
            self.finish("failed", f"{exc_type.__name__}: {exc}")


def default_local_root() -> Path:
    return Path.cwd() / ".lossradar" / "runs"


# An uncaught exception makes the at-exit finish report "failed".
_uncaught: list[str | None] = [None]
_previous_hook = sys.excepthook


def _excepthook(exc_type: type[BaseException], exc: BaseException, tb: types.TracebackType | None) -> None:
    _uncaught[0] = f"{exc_type.__name__}: {exc}"
    _previous_hook(exc_type, exc, tb)


def install_excepthook() -> None:
    if sys.excepthook is not _excepthook:
        global _previous_hook
        _previous_hook = sys.excepthook
        sys.excepthook = _excepthook
