"""Client behaviour that the real hub cannot be made to show on demand (commands, refusals, timing),
against a scripted WebSocket server."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from websockets.sync.server import Server, ServerConnection, serve

import lossradar

from .conftest import wait_for

Script = Callable[["FakeHub", ServerConnection, dict[str, Any]], None]


class FakeHub:
    """Answers hello with welcome, acks every scalars frame, records everything; ``script`` may
    send more frames after the welcome."""

    def __init__(self, script: Script | None = None, refuse_first: dict[str, Any] | None = None) -> None:
        self.script = script
        self.refuse_first = refuse_first
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.hellos = 0
        self.last_seq = -1
        self.server: Server | None = None
        self.url = ""

    def handler(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        self.headers.append({k.lower(): v for k, v in ws.request.headers.raw_items()})
        for text in ws:
            frame = json.loads(text)
            self.frames.append((time.monotonic(), frame))
            if frame["type"] == "hello":
                self.hellos += 1
                if self.refuse_first is not None and self.hellos == 1:
                    ws.send(json.dumps(self.refuse_first))
                    ws.close(4409 if self.refuse_first.get("code") == "run-busy" else 4400)
                    return
                ws.send(json.dumps({"type": "welcome", "runId": "fake-run", "lastSeq": None, "lastStep": None}))
                if self.script is not None:
                    threading.Thread(target=self.script, args=(self, ws, frame), daemon=True).start()
            elif frame["type"] == "scalars" and frame["rows"]:
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

    def make(script: Script | None = None, refuse_first: dict[str, Any] | None = None) -> FakeHub:
        fake = FakeHub(script, refuse_first)
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
    assert hello["protocol"] == 1 and hello["run"]["name"] == "h" and "runId" not in hello
    assert fake.end() == {"type": "end", "status": "completed", "error": None}


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
