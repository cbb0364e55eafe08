"""Hugging Face ``trainer_state.json``: the ``log_history`` the ``Trainer`` saves with each checkpoint
(``checkpoint-*/trainer_state.json``) and, from ``save_state()``, in the output folder.

Each checkpoint holds the history up to it, so one file is read: the newest, the one with the
highest ``global_step`` (the output folder's own wins a tie: ``save_state`` writes it last). A file
that cannot be parsed whole is passed over for the next newest, with a warning; when none parses,
the newest is read as far as it goes (the ``log_history`` records before the tear).

Train records carry ``loss``, ``learning_rate``, ``grad_norm``, ``epoch``; eval records
``eval_loss`` and the like; the last one ``train_runtime`` and the run's totals. Every number is a
metric under the name it was logged with. The format has no wall times.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ._model import Found, ImportedRun, LogReadError, RowBuilder, as_step, as_value

STATE_FILE = "trainer_state.json"
_CHECKPOINT = re.compile(r"^checkpoint-(\d+)$")


def checkpoint_number(folder: Path) -> int | None:
    m = _CHECKPOINT.match(folder.name)
    return int(m.group(1)) if m else None


def state_files(root: Path) -> list[Path]:
    """The output folder's own state file first, then the checkpoints', newest first."""
    own = [root / STATE_FILE] if (root / STATE_FILE).is_file() else []
    checkpoints = []
    for child in root.iterdir() if root.is_dir() else ():
        number = checkpoint_number(child)
        if number is not None and (child / STATE_FILE).is_file():
            checkpoints.append((number, child / STATE_FILE))
    return own + [p for _, p in sorted(checkpoints, reverse=True)]


class _Parsed:
    def __init__(self, path: Path, state: dict[str, Any], history: list[Any], problem: str | None) -> None:
        self.path = path
        self.state = state
        self.history = history
        #: Why the file could not be parsed whole (its records are then the ones before the tear).
        self.problem = problem

    @property
    def global_step(self) -> int:
        step = as_step(self.state.get("global_step"))
        if step is not None:
            return step
        number = checkpoint_number(self.path.parent)
        return number if number is not None else -1


def _parse(path: Path) -> _Parsed:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise LogReadError(f"{path}: cannot be read ({e})") from None
    try:
        state = json.loads(text)
    except json.JSONDecodeError as e:
        history = _salvage(text)
        problem = f"{path}:{e.lineno}:{e.colno}: {e.msg}"
        if not history:
            raise LogReadError(f"{problem}; no log_history record could be read") from None
        return _Parsed(path, {}, history, problem)
    if not isinstance(state, dict) or not isinstance(state.get("log_history"), list):
        raise LogReadError(f"{path}: not a Trainer state (no log_history list)")
    return _Parsed(path, state, state["log_history"], None)


def _salvage(text: str) -> list[Any]:
    """The ``log_history`` records that precede the point where a torn file stops."""
    key = text.find('"log_history"')
    start = text.find("[", key) if key >= 0 else -1
    if start < 0:
        return []
    decoder = json.JSONDecoder()
    records: list[Any] = []
    i = start + 1
    while True:
        while i < len(text) and text[i] in " \t\r\n,":
            i += 1
        if i >= len(text) or text[i] == "]":
            return records
        try:
            record, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError:
            return records
        records.append(record)


def _choose(found: Found, warnings: list[str]) -> _Parsed:
    own = found.files[0] if found.files and found.files[0].parent == found.root else None
    parsed_own: _Parsed | None = None
    damaged: list[_Parsed] = []
    failures: list[str] = []

    def attempt(path: Path) -> _Parsed | None:
        try:
            p = _parse(path)
        except LogReadError as e:
            failures.append(str(e))
            return None
        if p.problem is not None:
            damaged.append(p)
            return None
        return p

    if own is not None:
        parsed_own = attempt(own)
    best_checkpoint: _Parsed | None = None
    for path in found.files:
        if path == own:
            continue
        best_checkpoint = attempt(path)
        if best_checkpoint is not None:
            break
    complete = [p for p in (parsed_own, best_checkpoint) if p is not None]
    chosen: _Parsed
    if complete:
        # max() keeps the first of equals: the output folder's own file wins a tie.
        chosen = max(complete, key=lambda p: p.global_step)
        warnings.extend(f"{d.problem}; passed over for {chosen.path}" for d in damaged)
    elif damaged:
        chosen = damaged[0]
        warnings.append(f"{chosen.problem}; kept the {len(chosen.history)} log_history record(s) before it")
    else:
        raise LogReadError("; ".join(failures) or f"{found.root}: no {STATE_FILE}")
    warnings.extend(f"{f}; passed over for {chosen.path}" for f in failures)
    return chosen


def read(found: Found, name: str) -> ImportedRun:
    warnings: list[str] = []
    chosen = _choose(found, warnings)
    builder = RowBuilder(str(chosen.path))
    not_numbers: set[str] = set()
    for i, record in enumerate(chosen.history):
        if not isinstance(record, dict):
            warnings.append(f"{chosen.path}: log_history[{i}] is not an object; skipped")
            continue
        step = as_step(record.get("step"))
        if step is None:
            warnings.append(f"{chosen.path}: log_history[{i}] has no step (an integer ≥ 0); skipped")
            continue
        for key, raw in record.items():
            if key == "step":
                continue
            value = as_value(raw)
            if value is None:
                not_numbers.add(key)
                continue
            builder.add(step, key, value)
    if not_numbers:
        listed = ", ".join(sorted(not_numbers))
        warnings.append(f"{chosen.path}: values that are not numbers were not imported ({listed})")
    if len(builder) == 0:
        raise LogReadError(f"{chosen.path}: log_history has no numeric values")
    config = {k: v for k, v in chosen.state.items() if k != "log_history"}
    return builder.run(found, name, config, warnings, files=[chosen.path])
