"""Frame encoding for wire protocol v1 (docs/protocol.md). Standard library only.

JSON cannot carry NaN or ±Infinity: wherever a metric value is a number, the strings ``"NaN"``,
``"Infinity"`` and ``"-Infinity"`` stand for them (the proto3 JSON convention). Every frame is
serialised with ``allow_nan=False`` so that a bare ``NaN`` token can never reach the hub.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

PROTOCOL_VERSION: Final = 1
SDK_NAME: Final = "lossradar-py"
MAX_FRAME_BYTES: Final = 4 * 1024 * 1024
MAX_ROWS_PER_FRAME: Final = 1000
MAX_METRIC_NAME: Final = 512
#: The largest step and seq: the hub reads numbers as JavaScript doubles (Number.MAX_SAFE_INTEGER).
MAX_SAFE_INTEGER: Final = 2**53 - 1
RUN_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
#: Keys of a flat row on disk that are not metrics; a metric may not carry one of these names
#: (``__proto__`` would change the prototype of the object the hub builds from a row).
RESERVED_KEYS: Final = frozenset({"step", "time", "source", "seq", "rank", "__proto__"})

_RUN_ID_RE: Final = re.compile(RUN_ID_PATTERN)
# Commands are handed to user callbacks and error codes end up in log lines: short plain words only.
_WORD_RE: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_MAX_ERROR_MESSAGE: Final = 4096
#: The most batches a rollback command may ask to skip.
MAX_SKIP: Final = 1_000_000

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


# One encoder for every frame: ``json.dumps`` with options builds a new one per call.
_ENCODER: Final = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def dumps(frame: Mapping[str, Any]) -> str:
    """Compact JSON; raises ``ValueError`` if a bare non-finite float slipped through."""
    return _ENCODER.encode(frame)


def valid_run_id(run_id: object) -> bool:
    """A run id the hub accepts and that is safe as a folder name (``fullmatch``: ``$`` alone would
    let a trailing newline through)."""
    return isinstance(run_id, str) and bool(_RUN_ID_RE.fullmatch(run_id)) and run_id not in (".", "..")


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


#: A run's tags (docs/compare.md): at most this many, each of 1 … 64 characters (as src/protocol/wire.ts).
MAX_TAGS: Final = 32
MAX_TAG_LENGTH: Final = 64
_CONTROL_RE: Final = re.compile(r"[\x00-\x1f\x7f]")


def clean_tags(tags: Sequence[str] | None) -> list[str]:
    """The tags of ``init(tags=...)``: stripped, duplicates dropped, in order. A wrong one raises, before
    anything is started: a string (not a list of them), a non-string, an empty or over-long tag, a
    control character, more than :data:`MAX_TAGS`."""
    if tags is None:
        return []
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise TypeError(f"tags must be a list of strings, got {type(tags).__name__}")
    out: list[str] = []
    for tag in tags:
        if not isinstance(tag, str):
            raise TypeError(f"tags must be strings, got {type(tag).__name__} {tag!r:.40}")
        t = tag.strip()
        if not t or len(t) > MAX_TAG_LENGTH or _CONTROL_RE.search(t):
            raise ValueError(f"a tag has 1 to {MAX_TAG_LENGTH} characters and no control characters, got {tag!r:.80}")
        if t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise ValueError(f"a run has at most {MAX_TAGS} tags, got {len(out)}")
    return out


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
    capabilities: Mapping[str, Any] | None = None,
    tags: Sequence[str] = (),
) -> str:
    run: dict[str, Any] = {"name": name, "config": json_safe(config) if config is not None else None}
    if tags:
        run["tags"] = list(tags)
    frame: dict[str, Any] = {
        "type": "hello",
        "protocol": PROTOCOL_VERSION,
        "sdk": f"{SDK_NAME}/{sdk_version}",
        "run": run,
        "host": host[:255],
        "pid": pid,
    }
    if run_id is not None:
        frame["runId"] = run_id
    if device is not None:
        frame["device"] = device[:100]
    if rank is not None:
        frame["rank"] = rank
    if capabilities is not None:
        frame["capabilities"] = dict(capabilities)
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


def event_frame(
    message: str,
    level: str = "info",
    step: int | None = None,
    kind: str | None = None,
    span: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """An ``event`` frame; ``kind`` (1–64 characters: ``checkpoint``, ``lr``, ``rollback``,
    ``rescue`` or a word of the user's) and ``span`` (``(from, to)`` steps, ``from ≤ to``) let a
    chart draw it (docs/protocol.md)."""
    if level not in ("info", "warning", "error"):
        raise ValueError(f"event level must be info, warning or error, got {level!r}")
    frame: dict[str, Any] = {"type": "event", "level": level, "message": message[:65536]}
    if step is not None:
        frame["step"] = step
    if kind is not None:
        if not isinstance(kind, str) or not 1 <= len(kind) <= 64:
            raise ValueError(f"event kind must be a string of 1 to 64 characters, got {kind!r:.80}")
        frame["kind"] = kind
    if span is not None:
        lo, hi = (int(x) for x in span)
        if not 0 <= lo <= hi <= MAX_SAFE_INTEGER:
            raise ValueError(f"event span must be (from, to) steps with 0 ≤ from ≤ to, got {span!r}")
        frame["span"] = {"from": lo, "to": hi}
    return frame


def capabilities_frame(capabilities: Mapping[str, Any]) -> dict[str, Any]:
    """What the run can do when the hub asks (``actions``) and its rescue policy: sent when it
    changes after the hello, which carries the latest in ``capabilities`` (docs/protocol.md)."""
    return {"type": "capabilities", **capabilities}


def end_frame(status: str, error: str | None) -> dict[str, Any]:
    if status not in ("completed", "failed", "stopped"):
        raise ValueError(f"end status must be completed, failed or stopped, got {status!r}")
    return {"type": "end", "status": status, "error": None if error is None else error[:65536]}


class HubProtocolError(ValueError):
    """A frame from the hub that breaks the protocol: a field missing, of the wrong type or out of
    range, a run id that is not one. Nothing in such a frame is used; ``kind`` is its ``type``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}.{message}")
        self.kind = kind


def _index(frame: Mapping[str, Any], key: str, *, nullable: bool) -> int | None:
    value = frame.get(key)
    if value is None and nullable:
        return None
    # bool is an int in Python, and a float such as 3.0 is no seq either.
    if type(value) is not int or not 0 <= value <= MAX_SAFE_INTEGER:
        raise HubProtocolError(frame["type"], f"{key}: expected an integer from 0 to 2^53 - 1, got {value!r:.80}")
    return value


def parse_hub_frame(text: str | bytes) -> dict[str, Any] | None:
    """A frame from the hub, validated at the boundary: a new dict holding only the fields the SDK
    reads, each checked (``welcome``: ``runId`` a valid run id, ``lastSeq``/``lastStep`` integers or
    null; ``ack``: ``seq``; ``command``; ``error``: ``code`` and ``message``, the message cut to 4 KiB).
    ``None`` when the text is no JSON object with a string ``type`` or its type is unknown (a newer
    hub's); ``HubProtocolError`` when a known frame is malformed."""
    try:
        frame = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        return None
    kind = frame["type"]
    if kind == "welcome":
        run_id = frame.get("runId")
        if not valid_run_id(run_id):
            raise HubProtocolError(kind, f"runId: expected a run id matching {RUN_ID_PATTERN}, got {run_id!r:.80}")
        return {
            "type": kind,
            "runId": run_id,
            "lastSeq": _index(frame, "lastSeq", nullable=True),
            "lastStep": _index(frame, "lastStep", nullable=True),
        }
    if kind == "ack":
        return {"type": kind, "seq": _index(frame, "seq", nullable=False)}
    if kind == "command":
        command = frame.get("command")
        if not isinstance(command, str) or not _WORD_RE.fullmatch(command):
            raise HubProtocolError(kind, f"command: expected a short word, got {command!r:.80}")
        out: dict[str, Any] = {"type": kind, "command": command}
        factor = frame.get("factor")
        if factor is not None:
            # 0 < factor ≤ 1: a command may lower a run's learning rate, never raise it.
            if isinstance(factor, bool) or not isinstance(factor, int | float) or not 0 < factor <= 1:
                raise HubProtocolError(kind, f"factor: expected a number in (0, 1], got {factor!r:.80}")
            out["factor"] = float(factor)
        for key in ("step", "skip"):
            if frame.get(key) is not None:
                value = _index(frame, key, nullable=False)
                if key == "skip" and value is not None and value > MAX_SKIP:
                    raise HubProtocolError(kind, f"skip: expected at most {MAX_SKIP} batches, got {value}")
                out[key] = value
        return out
    if kind == "error":
        code, message = frame.get("code"), frame.get("message")
        if not isinstance(code, str) or not _WORD_RE.fullmatch(code):
            raise HubProtocolError(kind, f"code: expected a short word, got {code!r:.80}")
        if not isinstance(message, str):
            raise HubProtocolError(kind, f"message: expected a string, got {message!r:.80}")
        return {"type": kind, "code": code, "message": message[:_MAX_ERROR_MESSAGE]}
    return None


def decode_scalars_frame(text: str) -> dict[str, Any]:
    """Parses a ``scalars`` frame back into Python floats (tests and tools; the hub does this in Node)."""
    frame = json.loads(text)
    if not isinstance(frame, dict) or frame.get("type") != "scalars":
        raise ValueError("not a scalars frame")
    for r in frame["rows"]:
        r["values"] = decode_values(r["values"])
    return frame
