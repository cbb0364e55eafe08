"""What every reader produces: one run's rows, merged by step, and what went wrong on the way.

Standard library only, like the readers of the text formats: only TensorBoard needs a package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lossradar.encoding import MAX_METRIC_NAME, MAX_SAFE_INTEGER, RESERVED_KEYS

Format = Literal["tensorboard", "huggingface", "lightning", "dvclive"]
FORMATS: tuple[Format, ...] = ("tensorboard", "huggingface", "lightning", "dvclive")


class LogReadError(Exception):
    """A log that yielded nothing: the message names the file and where in it (line, record, byte)."""


@dataclass
class Found:
    """A run found on disk, not read yet: ``root`` names it, ``files`` are what the reader reads."""

    format: Format
    root: Path
    files: list[Path]


@dataclass
class ImportedRun:
    format: Format
    #: The folder (or file) the run was read from, as given: it is recorded in the run's config.
    source: Path
    #: The files read: their modification times stand in for wall times a format does not record.
    files: list[Path]
    name: str
    config: dict[str, Any]
    #: ``(step, wall time or None, values)``, steps ascending.
    rows: list[tuple[int, float | None, dict[str, float]]]
    first_time: float | None
    last_time: float | None
    warnings: list[str] = field(default_factory=list)


class RowBuilder:
    """Values gathered into one row per step, as the store holds them (docs/protocol.md "Runs on disk").

    Formats log train and eval values of a step on separate lines (Lightning, Hugging Face) or files
    (DVCLive), and a resumed run logs some steps twice: a value logged again at the same step
    replaces the earlier one, as TensorBoard shows the newest data of a restarted run, and the
    replacements that changed a value are counted in one warning.
    """

    def __init__(self, where: str) -> None:
        self.where = where
        self._rows: dict[int, dict[str, float]] = {}
        self._times: dict[int, float] = {}
        self._refused: dict[str, str] = {}
        self._accepted: set[str] = set()
        self._replaced = 0
        self.first_time: float | None = None
        self.last_time: float | None = None

    def add(self, step: int, name: str, value: float, time: float | None = None) -> None:
        # The hot path of a large import: a name is judged once, and the time is kept inline.
        if name not in self._accepted:
            if name in RESERVED_KEYS or not 0 < len(name) <= MAX_METRIC_NAME:
                if name not in self._refused:
                    too_long = f"not 1 to {MAX_METRIC_NAME} characters"
                    self._refused[name] = "a reserved key of the store" if name in RESERVED_KEYS else too_long
                return
            self._accepted.add(name)
        row = self._rows.get(step)
        if row is None:
            row = self._rows[step] = {}
        old = row.get(name)
        if old is not None and not (old == value or (math.isnan(old) and math.isnan(value))):
            self._replaced += 1
        row[name] = value
        if time is not None:
            known = self._times.get(step)
            if known is None or time < known or old is not None:
                self.time(step, time, again=old is not None)
            elif self.last_time is not None and time > self.last_time and math.isfinite(time):
                self.last_time = time

    def time(self, step: int, time: float, again: bool = False) -> None:
        """A wall time seen at ``step``: the row keeps the earliest, unless a value is logged again
        (a restarted run), whose time then is the row's."""
        if not math.isfinite(time):
            return
        known = self._times.get(step)
        if known is None or time < known or again:
            self._times[step] = time
        self.wall(time)

    def wall(self, time: float) -> None:
        """A wall time of the run that belongs to no row (a file's first record)."""
        if not math.isfinite(time):
            return
        if self.first_time is None or time < self.first_time:
            self.first_time = time
        if self.last_time is None or time > self.last_time:
            self.last_time = time

    def __len__(self) -> int:
        return len(self._rows)

    def rows(self) -> list[tuple[int, float | None, dict[str, float]]]:
        return [(step, self._times.get(step), self._rows[step]) for step in sorted(self._rows) if self._rows[step]]

    def run(
        self, found: Found, name: str, config: dict[str, Any], warnings: list[str], files: list[Path] | None = None
    ) -> ImportedRun:
        """The run these rows make: the reader's warnings first, then the builder's own."""
        return ImportedRun(
            format=found.format,
            source=found.root,
            files=found.files if files is None else files,
            name=name,
            config=config,
            rows=self.rows(),
            first_time=self.first_time,
            last_time=self.last_time,
            warnings=[*warnings, *self.warnings()],
        )

    def warnings(self) -> list[str]:
        out = [f"{self.where}: metric {name!r:.80} not imported: {why}" for name, why in self._refused.items()]
        if self._replaced:
            out.append(
                f"{self.where}: {self._replaced} value(s) logged again at a step already seen with another value; "
                "the later one is kept"
            )
        return out


def as_step(raw: object) -> int | None:
    """A step as the store takes it (an integer from 0 to 2^53 - 1), from an int or an integral
    float or string; None for anything else."""
    if isinstance(raw, bool):
        return None
    value: float | int
    if isinstance(raw, int | float):
        value = raw
    elif isinstance(raw, str):
        try:
            value = int(raw)
        except ValueError:
            try:
                value = float(raw)
            except ValueError:
                return None
    else:
        return None
    if isinstance(value, float):
        if not value.is_integer():
            return None
        value = int(value)
    return value if 0 <= value <= MAX_SAFE_INTEGER else None


def as_value(raw: object) -> float | None:
    """A metric value: a number (bool is not one), NaN and ±inf included."""
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None
    try:
        return float(raw)
    except OverflowError:  # an int beyond the largest double
        return math.inf if raw > 0 else -math.inf
