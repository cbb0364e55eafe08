"""Frame encoding for wire protocol v1 (docs/protocol.md). Standard library only.

JSON cannot carry NaN or ±Infinity: wherever a metric value is a number, the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` stand for them (the proto3 JSON convention). Every frame is
serialised with ``allow_nan=False`` so that a bare ``NaN`` token can never reach the hub.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

PROTOCOL_VERSION: Final = 1
SDK_NAME: Final = "lossradar-py"
MAX_FRAME_BYTES: Final = 1024 * 1024
MAX_ROWS_PER_FRAME: Final = 5000
MAX_METRIC_NAME: Final = 512
RUN_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
#: Keys of a flat row on disk that are not metrics; a metric may not carry one of these names.
RESERVED_KEYS: Final = frozenset({"step", "time", "source", "seq", "rank"})

WireNumber = float | int | str

NAN: Final = "NaN"
POS_INF: Final = "Infinity"
NEG_INF: Final = "-Infinity"
_DECODE: Final = {NAN: math.nan, POS_INF: math.inf, NEG_INF: -math.inf}


def encode_number(x: float | int) -> WireNumber:
    """A metric value as it travels: finite numbers as themselves, non-finite ones as strings."""
    if isinstance(x, bool):
        return int(x)
    if isinstance(x, int):
        return x
    if math.isnan(x):
        return NAN
    if math.isinf(x):
        return POS_INF if x > 0 else NEG_INF
    return x


def decode_number(v: object) -> float:
    """The inverse of :func:`encode_number`; raises ``ValueError`` on anything else."""
    if isinstance(v, bool):
        raise ValueError(f"expected a number or 'NaN'/'Infinity'/'-Infinity', got {v!r}")
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, str) and v in _DECODE:
        return _DECODE[v]
    raise ValueError(f"expected a number or 'NaN'/'Infinity'/'-Infinity', got {v!r}")


def encode_values(values: Mapping[str, float | int]) -> dict[str, WireNumber]:
    return {name: encode_number(v) for name, v in values.items()}


def decode_values(values: Mapping[str, object]) -> dict[str, float]:
    return {name: decode_number(v) for name, v in values.items()}


def encode_numbers(xs: Iterable[float | int]) -> list[WireNumber]:
    return [encode_number(x) for x in xs]


def dumps(frame: Mapping[str, Any]) -> str:
    """Compact JSON; raises ``ValueError`` if a bare non-finite float slipped through."""
    return json.dumps(frame, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def json_safe(value: object, depth: int = 0) -> Any:
    """A run config made JSON-safe: non-finite floats become their strings, other objects ``str()``."""
    if depth > 32:
        return str(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return encode_number(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    item = getattr(value, "item", None)  # numpy / torch scalars
    if callable(item):
        try:
            return json_safe(item(), depth + 1)
        except (TypeError, ValueError, RuntimeError):
            pass
    return str(value)


def row(
    step: int,
    time: float,
    values: Mapping[str, float | int],
    source: tuple[str, int] | None = None,
    rank: int | None = None,
) -> dict[str, Any]:
    """One row of a ``scalars`` frame."""
    out: dict[str, Any] = {"step": step, "time": time, "values": encode_values(values)}
    if source is not None:
        out["source"] = {"file": source[0], "line": source[1]}
    if rank is not None:
        out["rank"] = rank
    return out


def scalars_frame_from_encoded(seq: int | None, dropped: int, encoded_rows: Sequence[str]) -> str:
    """A ``scalars`` frame built from rows already serialised with :func:`dumps` (no re-encoding)."""
    head = '{"type":"scalars"'
    if seq is not None:
        head += f',"seq":{int(seq)}'
    if dropped:
        head += f',"dropped":{int(dropped)}'
    return head + ',"rows":[' + ",".join(encoded_rows) + "]}"


def scalars_frame(rows: Sequence[Mapping[str, Any]], seq: int | None = None, dropped: int = 0) -> str:
    return scalars_frame_from_encoded(seq, dropped, [dumps(r) for r in rows])


def hello_frame(
    *,
    name: str | None,
    config: Mapping[str, Any] | None,
    run_id: str | None,
    host: str,
    pid: int,
    device: str | None,
    rank: int | None,
    sdk_version: str,
) -> str:
    frame: dict[str, Any] = {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "sdk": f"{SDK_NAME}/{sdk_version}",
        "run": {"name": name, "config": json_safe(config) if config is not None else None},
        "host": host[:255],
        "pid": pid,
    }
    if run_id is not None:
        frame["runId"] = run_id
    if device is not None:
        frame["device"] = device[:100]
    if rank is not None:
        frame["rank"] = rank
    return dumps(frame)


def distribution_frame(step: int, name: str, edges: Sequence[float], counts: Sequence[float]) -> dict[str, Any]:
    return {
        "type": "distribution",
        "step": step,
        "name": name,
        "edges": encode_numbers(edges),
        "counts": [max(0.0, float(c)) if math.isfinite(c) else 0.0 for c in counts],
    }


def reliability_frame(
    step: int,
    edges: Sequence[float],
    confidence: Sequence[float],
    accuracy: Sequence[float],
    counts: Sequence[float],
    name: str = "calibration",
) -> dict[str, Any]:
    """Reliability-diagram bins; the protocol carries finite numbers only here (empty bins are 0)."""

    def finite(xs: Sequence[float]) -> list[float]:
        return [float(x) if math.isfinite(x) else 0.0 for x in xs]

    return {
        "type": "reliability",
        "step": step,
        "name": name,
        "edges": finite(edges),
        "confidence": finite(confidence),
        "accuracy": finite(accuracy),
        "counts": [max(0.0, c) for c in finite(counts)],
    }


def event_frame(message: str, level: str = "info", step: int | None = None) -> dict[str, Any]:
    if level not in ("info", "warning", "error"):
        raise ValueError(f"event level must be info, warning or error, got {level!r}")
    frame: dict[str, Any] = {"type": "event", "level": level, "message": message[:65536]}
    if step is not None:
        frame["step"] = step
    return frame


def end_frame(status: str, error: str | None) -> dict[str, Any]:
    if status not in ("completed", "failed", "stopped"):
        raise ValueError(f"end status must be completed, failed or stopped, got {status!r}")
    return {"type": "end", "status": status, "error": None if error is None else error[:65536]}


def parse_hub_frame(text: str | bytes) -> dict[str, Any] | None:
    """A frame from the hub, or ``None`` when it is not a JSON object with a string ``type``."""
    try:
        frame = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return None
    return frame


def decode_scalars_frame(text: str) -> dict[str, Any]:
    """Parses a ``scalars`` frame back into Python floats (tests and tools; the hub does this in Node)."""
    frame = json.loads(text)
    if not isinstance(frame, dict) or frame.get("type") != "scalars":
        raise ValueError("not a scalars frame")
    for r in frame["rows"]:
        r["values"] = decode_values(r["values"])
    return frame
