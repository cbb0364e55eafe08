"""Frame encoding: non-finite values travel as "NaN"/"Infinity"/"-Infinity" and come back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossradar import encoding

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
names = st.text(min_size=1, max_size=40).filter(lambda s: s not in encoding.RESERVED_KEYS)


def _refuse(token: str) -> float:
    raise AssertionError(f"bare {token} in a frame")


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@given(floats)
def test_number_round_trip(x: float) -> None:
    wire = encoding.encode_number(x)
    assert same(encoding.decode_number(json.loads(json.dumps(wire, allow_nan=False))), x)


@given(st.dictionaries(names, floats, min_size=1, max_size=20), st.integers(0, 2**31), st.integers(0, 10**6))
@settings(max_examples=200)
def test_scalars_frame_round_trip(values: dict[str, float], step: int, seq: int) -> None:
    rows = [encoding.row(step, 1732345678.25, values, ("train.py", 88)), encoding.row(step + 1, 1.0, values)]
    text = encoding.scalars_frame(rows, seq=seq, dropped=3)
    raw = json.loads(text, parse_constant=_refuse)  # strict JSON: no bare NaN/Infinity token
    assert raw["seq"] == seq and raw["dropped"] == 3
    for r in raw["rows"]:
        for v in r["values"].values():
            assert isinstance(v, int | float) or v in ("NaN", "Infinity", "-Infinity")
    back = encoding.decode_scalars_frame(text)
    assert [r["step"] for r in back["rows"]] == [step, step + 1]
    for r in back["rows"]:
        assert set(r["values"]) == set(values)
        for k, v in r["values"].items():
            assert same(v, values[k])
    assert back["rows"][0]["source"] == {"file": "train.py", "line": 88}


def test_special_values_exactly() -> None:
    assert encoding.encode_number(math.nan) == "NaN"
    assert encoding.encode_number(math.inf) == "Infinity"
    assert encoding.encode_number(-math.inf) == "-Infinity"
    assert encoding.encode_number(True) == 1
    assert encoding.encode_number(3) == 3
    assert encoding.encode_number(-0.5) == -0.5
    with pytest.raises(ValueError, match="expected a number"):
        encoding.decode_number("nan")
    with pytest.raises(ValueError, match="expected a number"):
        encoding.decode_number(None)
    with pytest.raises(ValueError, match="expected a number"):
        encoding.decode_number(True)


def test_dumps_refuses_bare_non_finite() -> None:
    with pytest.raises(ValueError, match="JSON compliant"):
        encoding.dumps({"x": math.nan})


@given(
    st.recursive(
        st.none() | st.booleans() | floats | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    )
)
def test_config_is_always_json_safe(value: object) -> None:
    encoding.dumps({"config": encoding.json_safe(value)})


def test_hello_and_other_frames() -> None:
    hello = json.loads(
        encoding.hello_frame(
            name="r",
            config={"lr": math.inf, "obj": object},
            run_id="abc",
            host="h",
            pid=1,
            device="cpu",
            rank=None,
            sdk_version="0.1.0",
        )
    )
    assert hello["type"] == "hello" and hello["protocol"] == 1 and hello["runId"] == "abc"
    assert hello["run"]["config"]["lr"] == "Infinity"
    assert hello["sdk"] == "lossradar-py/0.1.0" and "rank" not in hello
    d = encoding.distribution_frame(3, "sa/x", [-math.inf, 0.0, 1.0], [1, math.nan])
    assert d["edges"][0] == "-Infinity" and d["counts"] == [1.0, 0.0]
    r = encoding.reliability_frame(3, [0, 0.5, 1], [0.2, math.nan], [0.1, 0.0], [4, 0])
    assert r["confidence"] == [0.2, 0.0]
    assert encoding.end_frame("failed", "boom") == {"type": "end", "status": "failed", "error": "boom"}
    with pytest.raises(ValueError, match="status"):
        encoding.end_frame("crashed", None)
    assert encoding.parse_hub_frame("not json") is None
    assert encoding.parse_hub_frame('{"type":"ack","seq":4}') == {"type": "ack", "seq": 4}


HUB_FRAMES_OK = [
    (
        {"type": "welcome", "runId": "r-1", "lastSeq": 41, "lastStep": 120, "extra": [1]},
        {"type": "welcome", "runId": "r-1", "lastSeq": 41, "lastStep": 120},
    ),
    (
        {"type": "welcome", "runId": "r.1_x", "lastSeq": None},
        {"type": "welcome", "runId": "r.1_x", "lastSeq": None, "lastStep": None},
    ),
    ({"type": "ack", "seq": 2**53 - 1}, {"type": "ack", "seq": 2**53 - 1}),
    ({"type": "command", "command": "stop"}, {"type": "command", "command": "stop"}),
    (
        {"type": "error", "code": "backpressure", "message": "m" * 10_000},
        {"type": "error", "code": "backpressure", "message": "m" * 4096},
    ),
]


@pytest.mark.parametrize(("frame", "parsed"), HUB_FRAMES_OK)
def test_hub_frames_come_back_with_only_their_checked_fields(
    frame: dict[str, object], parsed: dict[str, object]
) -> None:
    assert encoding.parse_hub_frame(json.dumps(frame)) == parsed


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "welcome", "runId": "../../x", "lastSeq": None, "lastStep": None},
        {"type": "welcome", "runId": "..", "lastSeq": None, "lastStep": None},
        {"type": "welcome", "runId": "a/b", "lastSeq": None, "lastStep": None},
        {"type": "welcome", "runId": "x\n", "lastSeq": None, "lastStep": None},
        {"type": "welcome", "runId": "x" * 129, "lastSeq": None, "lastStep": None},
        {"type": "welcome", "lastSeq": None, "lastStep": None},
        {"type": "welcome", "runId": "ok", "lastSeq": -1, "lastStep": None},
        {"type": "welcome", "runId": "ok", "lastSeq": 1.0, "lastStep": None},
        {"type": "welcome", "runId": "ok", "lastSeq": True, "lastStep": None},
        {"type": "welcome", "runId": "ok", "lastSeq": 2**53, "lastStep": None},
        {"type": "welcome", "runId": "ok", "lastSeq": None, "lastStep": "3"},
        {"type": "ack", "seq": "4"},
        {"type": "ack", "seq": False},
        {"type": "ack"},
        {"type": "command", "command": ["stop"]},
        {"type": "command", "command": "Stop the run; rm -rf /"},
        {"type": "error", "code": None, "message": "m"},
        {"type": "error", "code": "disk", "message": 5},
    ],
)
def test_malformed_hub_frames_are_protocol_errors(frame: dict[str, object]) -> None:
    with pytest.raises(encoding.HubProtocolError) as caught:
        encoding.parse_hub_frame(json.dumps(frame))
    assert caught.value.kind == frame["type"]


@pytest.mark.parametrize("text", ["not json", "[1]", '{"type": 3}', '{"type": "from-a-newer-hub"}', "[" * 100_000])
def test_what_is_no_known_hub_frame_is_ignored(text: str) -> None:
    assert encoding.parse_hub_frame(text) is None


@pytest.mark.parametrize(
    ("run_id", "ok"),
    [
        *[("a", True), ("A.b_c-9", True), ("a" * 128, True), ("a" * 129, False), (".", False), ("..", False)],
        *[("-a", False), ("a/b", False), ("a\n", False), ("", False), ("é", False), (None, False), (3, False)],
    ],
)
def test_valid_run_id(run_id: object, ok: bool) -> None:
    assert encoding.valid_run_id(run_id) is ok


def test_the_sdk_limits_agree_with_the_hub_schema() -> None:
    schema = json.loads((Path(__file__).resolve().parents[2] / "protocol" / "wire.schema.json").read_text())
    frames = {f["properties"]["type"]["const"]: f for f in schema["$defs"]["TrainerFrame"]["anyOf"]}
    rows = frames["scalars"]["properties"]["rows"]
    assert rows["maxItems"] == encoding.MAX_ROWS_PER_FRAME == 1000
    assert rows["items"]["properties"]["step"]["maximum"] == encoding.MAX_SAFE_INTEGER == 2**53 - 1
    assert frames["hello"]["properties"]["runId"]["anyOf"][0]["pattern"] == encoding.RUN_ID_PATTERN
    assert encoding.MAX_FRAME_BYTES == 4 * 1024 * 1024
    assert "__proto__" in encoding.RESERVED_KEYS
