"""What the integrations share: the run they log to, and configurations made fit to send."""

from __future__ import annotations

import argparse
import dataclasses
import re
import sys
from collections.abc import Mapping
from typing import Any

import lossradar
from lossradar import EndStatus, Run

#: Keys whose string values are credentials (``hub_token``, ``api_key``, ``password``), not the
#: special tokens of a tokenizer (``pad_token``: "<pad>") nor counts (``max_tokens``).
_SECRET_KEY = re.compile(
    r"^token$|(^|_)(hub|hf|auth|access|api|bearer|push_to_hub)_token$|(^|_)(api_?key|secret(_key)?|password|passwd)$",
    re.IGNORECASE,
)
REDACTED = "<redacted>"


def sanitise(value: Any, depth: int = 0) -> Any:
    """A configuration fit for the run's ``meta.json``: mappings, dataclasses and ``Namespace``\\ s
    become dicts, callables their qualified name, credentials ``<redacted>``; what is still not JSON
    is sent as its ``str()`` by the SDK (``encoding.json_safe``)."""
    if depth > 16:
        return str(value)
    if isinstance(value, argparse.Namespace):
        value = vars(value)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            key = str(k)
            secret = isinstance(v, str) and v and _SECRET_KEY.search(key)
            out[key] = REDACTED if secret else sanitise(v, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [sanitise(v, depth + 1) for v in value]
    if callable(value) and not isinstance(value, type) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}".lstrip(".")
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return value


def flatten(values: Mapping[str, Any], separator: str = "/", prefix: str = "") -> dict[str, Any]:
    """``{"loss": {"train": 1, "val": 2}}`` → ``{"loss/train": 1, "loss/val": 2}``: nested
    mappings become the slash-grouped names the editor groups by."""
    out: dict[str, Any] = {}
    for k, v in values.items():
        key = f"{prefix}{separator}{k}" if prefix else str(k)
        if isinstance(v, Mapping):
            out.update(flatten(v, separator, key))
        else:
            out[key] = v
    return out


def is_number(value: object) -> bool:
    """Numbers and one-element tensors: what a row can carry (strings, lists and images cannot)."""
    if isinstance(value, bool | int | float):
        return True
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        return bool(value.numel() == 1)
    item = getattr(value, "item", None)  # numpy scalars
    return callable(item) and bool(getattr(value, "shape", None) == ())


class RunHolder:
    """The run an integration logs to: the caller's (``run=``: logged to, never finished here), or its
    own, made by :func:`lossradar.init` on demand. An own run that was finished and gets rows again
    (``trainer.test()`` after ``trainer.fit()``, ``trainer.evaluate()`` after ``trainer.train()``) is
    resumed under the same id, so that one training job stays one run. Only rows reopen it: a
    finished run merely looked at stays as it ended."""

    def __init__(self, run: Run | None, init_kwargs: Mapping[str, Any]) -> None:
        self.owned = run is None
        self.run = run
        self.init_kwargs = dict(init_kwargs)

    def open(self, *, name: str | None, config: Mapping[str, Any] | None, lazy: bool = False) -> Run:
        """The run to log rows to, made (or resumed) when there is none open."""
        run = self.run
        if run is not None and not (self.owned and run.finished):
            return run
        kwargs = dict(self.init_kwargs)
        if run is not None and run.run_id is not None:
            kwargs["run_id"] = run.run_id  # resume the run this integration finished
        self.run = lossradar.init(name=name, config=config, lazy=lazy, **kwargs)
        return self.run

    def new(self, *, name: str | None, config: Mapping[str, Any] | None, lazy: bool = False) -> Run:
        """A fresh run for a new training job (an own one; the caller's run is kept)."""
        if self.owned:
            self.run = None
        return self.open(name=name, config=config, lazy=lazy)

    def finish(self, status: EndStatus, error: str | None = None) -> None:
        if self.owned and self.run is not None and not self.run.finished:
            self.run.finish(status, error)
