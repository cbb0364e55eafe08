"""Reading a saved run (docs/protocol.md, "Runs on disk") for the evaluation.

A run's ``metrics.jsonl`` has one flat JSON row per line: reserved keys ``step``, ``time``,
``source``, ``seq``, ``rank``; every other key is a metric whose value is a number or one of the
strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"`` (the non-finite values). The fixtures are the same
files gzipped (``.jsonl.gz``).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from collections.abc import Iterable, Iterator
from typing import Any

RESERVED = frozenset({"step", "time", "source", "seq", "rank"})
_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}

Row = dict[str, Any]


def decode_value(v: Any) -> Any:
    """``"NaN"``/``"Infinity"``/``"-Infinity"`` to floats; numbers to float; anything else unchanged."""
    if isinstance(v, str):
        return _NONFINITE.get(v, v)
    if isinstance(v, bool):
        return v
    if isinstance(v, (int, float)):
        return float(v)
    return v


def decode_row(raw: dict[str, Any]) -> Row:
    row: Row = {}
    for k, v in raw.items():
        row[k] = v if k in RESERVED else decode_value(v)
    if "step" in row:
        row["step"] = int(row["step"])
    return row


def load_rows(path: str) -> list[Row]:
    """Every well-formed row of a ``.jsonl`` or ``.jsonl.gz`` file, in file order.

    Lines that are not JSON objects with an integer ``step`` are skipped (the evaluation is about
    detectors, not about the parser; ``lossradar detect`` reports them itself).
    """
    opener = gzip.open if path.endswith(".gz") else open
    rows: list[Row] = []
    with opener(path, "rt", encoding="utf-8") as f:
        for raw_line in f:
            text = raw_line.strip()
            if not text:
                continue
            try:
                raw = json.loads(text)
            except json.JSONDecodeError:
                continue
            if not isinstance(raw, dict) or not isinstance(raw.get("step"), (int, float)):
                continue
            rows.append(decode_row(raw))
    return rows


def run_name(path: str) -> str:
    base = os.path.basename(path.rstrip("/"))
    for suffix in (".jsonl.gz", ".jsonl", ".gz"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def series(rows: Iterable[Row], metric: str) -> Iterator[tuple[int, float]]:
    """(step, value) for the rows that carry ``metric`` as a number (non-finite included)."""
    for row in rows:
        v = row.get(metric)
        if isinstance(v, float):
            yield row["step"], v


def is_finite(x: float) -> bool:
    return not (math.isnan(x) or math.isinf(x))
