"""Client behaviour that the real hub cannot be made to show on demand (commands, refusals, timing),
against a scripted WebSocket server."""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.sync.server import Server, ServerConnection, serve

import lossradar
from lossradar import client as client_module
from lossradar import encoding

from .conftest import wait_for

Script = Callable[["FakeHub", ServerConnection, dict[str, Any]], None]


class FakeHub:
    """Answers hello with welcome (``lastSeq`` the highest seq it holds for that run), stores and
    acks every scalars frame, records everything; ``script`` may send more frames after the
    welcome, ``welcome`` overrides fields of it. The first ``backpressure`` connections take one
    frame of rows, then refuse the next as the hub does when its store cannot keep up (an error
    ``backpressure``, close 4507, the rows neither stored nor acknowledged)."""

    def __init__(
        self,
        script: Script | None = None,
        refuse_first: dict[str, Any] | None = None,
        welcome: dict[str, Any] | None = None,
        backpressure: int = 0,
    ) -> None:
        self.script = script
        self.refuse_first = refuse_first
        self.welcome = welcome or {}
        self.backpressure = backpressure
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.hellos = 0
        self.last_seq = -1
        #: run id → seq → row, as a hub would keep them on disk
        self.stored: dict[str, dict[int, dict[str, Any]]] = {}
        self.server: Server | None = None
        self.url = ""

    def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.headers.append({k.lower(): v for k, v in ws.request.headers.raw_items()})
        run: dict[int, dict[str, Any]] = {}
        taken = 0
        for text in ws:
            frame = json.loads(text)
            self.frames.append((time.monotonic(), frame))
            if frame["type"] == "hello":
                self.hellos += 1
                if self.refuse_first is not None and self.hellos == 1:
                    ws.send(json.dumps(self.refuse_first))
                    ws.close(4409 if self.refuse_first.get("code") == "run-busy" else 4400)
                    return
                run = self.stored.setdefault(str(frame.get("runId")), {})
                last = max(run) if run else None
                welcome = {"type": "welcome", "runId": frame.get("runId"), "lastSeq": last, "lastStep": None}
                ws.send(json.dumps({**welcome, **self.welcome}))
                if self.script is not None:
                    threading.Thread(target=self.script, args=(self, ws, frame), daemon=True).start()
            elif frame["type"] == "scalars" and frame["rows"]:
                if self.hellos <= self.backpressure and taken >= 1:
                    message = f"the store is behind: rows from seq {max(run, default=-1) + 1} were not stored"
                    ws.send(json.dumps({"type": "error", "code": "backpressure", "message": message}))
                    ws.close(4507, "store backlog full")
                    return
                taken += 1
                for i, row in enumerate(frame["rows"]):
                    run.setdefault(frame["seq"] + i, row)
                self.last_seq = frame["seq"] + len(frame["rows"]) - 1
                ws.send(json.dumps({"type": "ack", "seq": self.last_seq}))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for _, f in self.frames if f["type"] == kind]

    def end(self, timeout: float = 5.0) -> dict[str, Any]:
        """The end frame, once the server thread has read it (the client may close first)."""
        assert wait_for(lambda: bool(self.of_type("end")), timeout)
        return self.of_type("end")[-1]

    def rows(self) -> list[dict[str, Any]]:
        return [r for f in self.of_type("scalars") for r in f["rows"]]


@pytest.fixture
def fake_hub_factory() -> Iterator[Callable[..., FakeHub]]:
    started: list[tuple[Server, threading.Thread]] = []

    def make(
        script: Script | None = None,
        refuse_first: dict[str, Any] | None = None,
        welcome: dict[str, Any] | None = None,
        backpressure: int = 0,
    ) -> FakeHub:
        fake = FakeHub(script, refuse_first, welcome, backpressure)
        server = serve(fake.handler, "127.0.0.1", 0)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        fake.server = server
        fake.url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}"
        started.append((server, thread))
        return fake

    yield make
    for server, thread in started:
        server.shutdown()
        thread.join(5)


def test_bearer_token_and_no_origin_header(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory()
    with lossradar.init(name="h", url=fake.url, token="s3cret") as run:
        run.log(0, loss=1.0)
    headers = fake.headers[0]
    assert headers["authorization"] == "Bearer s3cret"
    assert "origin" not in headers
    hello = fake.of_type("hello")[0]
    assert hello["protocol"] == 1 and hello["run"]["name"] == "h"
    assert fake.end() == {"type": "end", "status": "completed", "error": None}


RUN_ID_SHAPE = re.compile(r"\d{8}-\d{6}-[a-z0-9-]+-[0-9a-f]{6}")


def test_the_sdk_names_the_run_and_says_so_in_hello(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory()
    run = lossradar.init(name="My Run!", url=fake.url, token="t")
    # Known before the hub has answered, in the hub's own shape.
    assert run.run_id is not None and RUN_ID_SHAPE.fullmatch(run.run_id), run.run_id
    assert run.run_id.split("-")[2:4] == ["my", "run"]
    run.log(0, loss=1.0)
    run.finish()
    assert [h["runId"] for h in fake.of_type("hello")] == [run.run_id]


def test_per_rank_runs_get_their_own_ids(
    fake_hub_factory: Callable[..., FakeHub], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_hub_factory()
    monkeypatch.setenv("RANK", "2")
    with lossradar.init(name="ddp", url=fake.url, token="t", per_rank=True) as chosen:
        chosen.log(0, loss=1.0)
    assert chosen.run_id is not None and RUN_ID_SHAPE.fullmatch(chosen.run_id)
    assert "-ddp-rank2-" in chosen.run_id
    with lossradar.init(name="ddp", run_id="job-7", url=fake.url, token="t", per_rank=True) as given:
        given.log(0, loss=1.0)
    assert given.run_id == "job-7-rank2"
    monkeypatch.setenv("RANK", "1")
    assert lossradar.init(name="ddp", url=fake.url, token="t").disabled  # only rank 0 without per_rank
    assert [h["runId"] for h in fake.of_type("hello")] == [chosen.run_id, "job-7-rank2"]
    assert [h["rank"] for h in fake.of_type("hello")] == [2, 2]


@pytest.mark.parametrize("run_id", ["../../x", "..", ".", "a/../../x", "x\n", "", 7, None, "someone-else"])
def test_a_hostile_welcome_never_becomes_a_path(
    fake_hub_factory: Callable[..., FakeHub], isolated: Path, caplog: pytest.LogCaptureFixture, run_id: object
) -> None:
    caplog.set_level(logging.WARNING, logger="lossradar")
    fake = fake_hub_factory(welcome={"runId": run_id})
    run = lossradar.init(name="hostile", url=fake.url, token="t")
    own_id = run.run_id
    for step in range(5):
        run.log(step, loss=float(step))
    assert run.client is not None
    assert wait_for(lambda: run.client is not None and run.client.gave_up is not None)
    assert "welcome" in caplog.text
    with pytest.warns(lossradar.LossRadarWarning, match="written to"):
        run.finish(timeout=1)
    assert run.run_id == own_id
    # The rows are kept under the SDK's own id, in .lossradar/runs and nowhere else.
    assert sorted(p.name for p in isolated.iterdir()) == [".lossradar"]
    assert [p.name for p in (isolated / ".lossradar").iterdir()] == ["runs"]
    assert [p.name for p in (isolated / ".lossradar" / "runs").iterdir()] == [own_id]
    rows = (isolated / ".lossradar" / "runs" / str(own_id) / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(r)["step"] for r in rows] == list(range(5))
    assert fake.hellos == 1  # not asked again


def test_malformed_acks_and_commands_are_ignored(
    fake_hub_factory: Callable[..., FakeHub], caplog: pytest.LogCaptureFixture
) -> None:
    def script(fake: FakeHub, ws: ServerConnection, hello: dict[str, Any]) -> None:
        for bad in (
            {"type": "ack", "seq": 10**6},  # beyond anything sent: would make the client forget rows
            {"type": "ack", "seq": True},
            {"type": "ack", "seq": "3"},
            {"type": "ack", "seq": 2**53},
            {"type": "command", "command": {"stop": 1}},
            {"type": "error", "code": 5, "message": "x"},
        ):
            ws.send(json.dumps(bad))
        ws.send("not json")
        ws.send(json.dumps({"type": "from-the-future", "x": 1}))
        ws.send(json.dumps({"type": "command", "command": "checkpoint"}))

    caplog.set_level(logging.WARNING, logger="lossradar")
    fake = fake_hub_factory(script)
    run = lossradar.init(name="garbage", url=fake.url, token="t")
    seen: list[str] = []
    run.on_command(seen.append)
    step = 0
    while not seen and step < 300:  # commands run inside log(): log until the good one came through
        run.log(step, loss=float(step))
        step += 1
        time.sleep(0.01)
    run.finish()
    assert seen == ["checkpoint"]
    assert [r["step"] for r in fake.rows()] == list(range(step))
    assert run.client is not None and run.client.gave_up is None and run.client.dropped_total == 0
    assert fake.hellos == 1
    # Logged once per kind of problem, not once per frame.
    assert caplog.text.count("malformed") == 1 and caplog.text.count("never sent") == 1


def test_stop_and_checkpoint_commands(fake_hub_factory: Callable[..., FakeHub]) -> None:
    def script(fake: FakeHub, ws: ServerConnection, hello: dict[str, Any]) -> None:
        time.sleep(0.2)
        ws.send(json.dumps({"type": "command", "command": "checkpoint"}))
        ws.send(json.dumps({"type": "command", "command": "stop"}))

    fake = fake_hub_factory(script)
    run = lossradar.init(name="cmd", url=fake.url, token="t")
    seen: list[tuple[str, str]] = []
    run.on_command(lambda c: seen.append((c, threading.current_thread().name)))
    step = 0
    while not run.should_stop and step < 500:
        run.log(step, loss=1.0)
        step += 1
        time.sleep(0.01)
    assert run.should_stop
    run.log(step, loss=1.0)  # callbacks run inside the next log() call, on this thread
    run.finish("stopped")
    me = threading.current_thread().name
    assert seen == [("checkpoint", me), ("stop", me)]
    assert fake.end()["status"] == "stopped"


def test_error_frames_are_logged_once_per_code(
    fake_hub_factory: Callable[..., FakeHub], caplog: pytest.LogCaptureFixture
) -> None:
    def script(fake: FakeHub, ws: ServerConnection, hello: dict[str, Any]) -> None:
        for i in range(3):
            ws.send(json.dumps({"type": "error", "code": "invalid-frame", "message": f"bad {i}"}))
        ws.send(json.dumps({"type": "error", "code": "disk", "message": "the disk is full"}))

    caplog.set_level(logging.WARNING, logger="lossradar")
    fake = fake_hub_factory(script)
    with lossradar.init(name="err", url=fake.url, token="t") as run:
        run.log(0, loss=1.0)
        assert wait_for(lambda: "disk" in caplog.text)
    assert caplog.text.count("invalid-frame") == 1 and "bad 0" in caplog.text
    assert caplog.text.count("the disk is full") == 1


def test_run_busy_then_retry_with_the_same_run_id(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory(refuse_first={"type": "error", "code": "run-busy", "message": "busy"})
    with lossradar.init(name="b", run_id="my-run", url=fake.url, token="t") as run:
        run.log(0, loss=1.0)
    hellos = fake.of_type("hello")
    assert [h["runId"] for h in hellos] == ["my-run", "my-run"]
    assert [r["step"] for r in fake.rows()] == [0]


def test_protocol_version_refusal_gives_up_and_writes_locally(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory(refuse_first={"type": "error", "code": "protocol-version", "message": "speaks 2"})
    run = lossradar.init(name="v", url=fake.url, token="t")
    run.log(0, loss=1.0)
    assert run.client is not None
    assert wait_for(lambda: run.client is not None and run.client.gave_up is not None)
    with pytest.warns(lossradar.LossRadarWarning, match="written to"):
        run.finish(timeout=2)
    assert fake.hellos == 1


def test_rows_are_batched_within_100_ms(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory()
    run = lossradar.init(name="lat", url=fake.url, token="t")
    assert run.client is not None
    assert wait_for(lambda: run.client is not None and run.client.welcomed.is_set())
    delays = []
    for step in range(10):
        t0 = time.monotonic()
        run.log(step, loss=float(step))
        assert wait_for(lambda s=step: any(r["step"] == s for r in fake.rows()), timeout=2, interval=0.002)
        delays.append(time.monotonic() - t0)
        time.sleep(0.03)
    run.finish()
    assert max(delays) < 0.2, delays  # the client sends at most 100 ms apart (plus scheduling noise)
    # many rows logged at once travel in few frames
    run2 = lossradar.init(name="burst", url=fake.url, token="t")
    before = len(fake.of_type("scalars"))
    for step in range(1000):
        run2.log(step, loss=float(step))
    run2.finish()
    assert len(fake.of_type("scalars")) - before <= 12


def test_log_never_blocks_even_without_a_hub(monkeypatch: pytest.MonkeyPatch) -> None:
    from .conftest import free_port

    run = lossradar.init(name="fast", url=f"ws://127.0.0.1:{free_port()}", token="t", max_queue=1000)
    t0 = time.perf_counter()
    for step in range(5000):
        run.log(step, loss=float(step), acc=0.5)
    per_call = (time.perf_counter() - t0) / 5000
    assert per_call < 1e-3
    assert run.client is not None and run.client.dropped_total == 4000
    with pytest.warns(lossradar.LossRadarWarning):
        run.finish(timeout=0.5)


def test_step_checks_and_reserved_names(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory()
    with lossradar.init(name="checks", url=fake.url, token="t") as run:
        run.log(5, loss=1.0)
        with pytest.warns(lossradar.LossRadarWarning, match="goes backwards"):
            assert run.log(4, loss=1.0) == {}
        with pytest.warns(lossradar.LossRadarWarning, match="reserved"):
            run.log(6, loss=2.0, time=3.0)
        with pytest.warns(lossradar.LossRadarWarning, match="not a number"):
            run.log(7, loss=2.0, label="x")
        run.log(7, **{"loss/val": 1.5})  # equal steps are fine
    assert [(r["step"], sorted(r["values"])) for r in fake.rows()] == [
        (5, ["loss"]),
        (6, ["loss"]),
        (7, ["loss"]),
        (7, ["loss/val"]),
    ]


def test_disabled_run_logs_nothing() -> None:
    run = lossradar.init(mode="disabled")
    assert run.mode == "disabled" and run.log(0, loss=1.0) == {}
    run.finish()


def test_steps_past_2_53_and_the_proto_key_are_refused(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory()
    with lossradar.init(name="limits", url=fake.url, token="t") as run:
        run.log(2**53 - 1, loss=1.0)  # the largest step a double holds exactly
        with pytest.warns(lossradar.LossRadarWarning, match=r"2\*\*53"):
            assert run.log(2**53, loss=1.0) == {}
        with pytest.warns(lossradar.LossRadarWarning, match="reserved"):
            run.log(2**53 - 1, **{"__proto__": 1.0, "acc": 0.5})
    assert [(r["step"], sorted(r["values"])) for r in fake.rows()] == [(2**53 - 1, ["loss"]), (2**53 - 1, ["acc"])]


def test_frames_keep_to_1000_rows_and_512_kib(fake_hub_factory: Callable[..., FakeHub]) -> None:
    fake = fake_hub_factory()
    narrow = lossradar.init(name="narrow", url=fake.url, token="t")
    wide = lossradar.init(name="wide", url=fake.url, token="t")
    for step in range(5000):
        narrow.log(step, loss=1.0)
    names = [f"blocks.{i}.attention.output_projection/sign_diversity" for i in range(60)]
    for step in range(1000):  # about 4 KiB a row
        wide.log(step, **dict.fromkeys(names, 0.123456789))
    narrow.finish()
    wide.finish()
    frames = [(f, len(json.dumps(f, separators=(",", ":")))) for f in fake.of_type("scalars")]
    assert max(len(f["rows"]) for f, _ in frames) == 1000
    assert max(size for _, size in frames) <= 512 * 1024 + 8192
    assert len([f for f, _ in frames if len(f["rows"][0]["values"]) == 60]) >= 8
    assert sorted(r["step"] for r in fake.rows() if "loss" in r["values"]) == list(range(5000))


@pytest.mark.parametrize("max_queue", [20_000, 25])
def test_backpressure_keeps_the_rows_and_sends_them_again(
    fake_hub_factory: Callable[..., FakeHub], caplog: pytest.LogCaptureFixture, max_queue: int
) -> None:
    caplog.set_level(logging.WARNING, logger="lossradar")
    fake = fake_hub_factory(backpressure=3)
    run = lossradar.init(name="pressed", url=fake.url, token="t", max_queue=max_queue)
    steps = 400
    for step in range(steps):
        run.log(step, loss=float(step))
        time.sleep(0.003)
    run.finish(timeout=20)
    assert run.client is not None and run.run_id is not None
    stored = fake.stored[run.run_id]
    assert fake.hellos >= 4  # refused three times, then taken
    # Every row that fitted in the queue reached the hub once, in order; the rest were counted.
    assert [stored[seq]["step"] for seq in sorted(stored)] == sorted(stored[seq]["step"] for seq in stored)
    reported = sum(f.get("dropped", 0) for f in fake.of_type("scalars"))
    assert reported == run.client.dropped_total == steps - len(stored)
    if max_queue >= steps:
        assert len(stored) == steps
    assert caplog.text.count("cannot keep up") == 1


def test_log_never_waits_for_the_network_thread_encoding_rows(
    fake_hub_factory: Callable[..., FakeHub], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = encoding.encode_values

    def slow_encode(values: Any) -> Any:
        time.sleep(0.05)  # a very wide row on a slow machine
        return real(values)

    monkeypatch.setattr(client_module, "encode_values", slow_encode)
    fake = fake_hub_factory()
    run = lossradar.init(name="slow-encoding", url=fake.url, token="t")
    assert wait_for(lambda: run.client is not None and run.client.welcomed.is_set())
    worst = 0.0
    for step in range(40):
        t0 = time.perf_counter()
        run.log(step, loss=math.nan)  # a non-finite row goes through encode_values
        worst = max(worst, time.perf_counter() - t0)
        time.sleep(0.01)
    run.finish(timeout=10)
    assert worst < 0.03, f"a log() call waited {worst * 1e3:.0f} ms"
    assert [r["step"] for r in fake.rows()] == list(range(40))


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 60)), max_size=80))
def test_the_uncertain_row_counters_behave_as_a_set(ops: list[tuple[bool, int]]) -> None:
    counters = client_module._Counters()
    model: set[int] = set()
    for add, n in ops:
        if add:
            counters.add(n)
            model.add(n)
        else:
            assert counters.remove_through(n) == len({m for m in model if m <= n})
            model = {m for m in model if m > n}
        assert counters.count == len(model)
    assert counters.clear() == len(model) and counters.count == 0
