"""The client against the real hub (`node dist/cli.js serve` in a subprocess)."""

from __future__ import annotations

import inspect
import json
import logging
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import torch

import lossradar
from lossradar import LossRadarWarning

from .conftest import Hub, free_port, wait_for


def use_hub(monkeypatch: pytest.MonkeyPatch, hub: Hub) -> None:
    monkeypatch.setenv("LOSSRADAR_URL", hub.url)
    assert hub.token is not None
    monkeypatch.setenv("LOSSRADAR_TOKEN", hub.token)


def test_rows_arrive_with_source_and_non_finite_values(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="arrive", config={"lr": 0.1, "nested": {"x": [1, 2]}})
    assert run.mode == "hub"
    line = inspect.currentframe().f_lineno + 3  # type: ignore[union-attr]
    for step in range(30):
        loss = [math.nan, math.inf, -math.inf][step - 27] if step >= 27 else 1.0 / (step + 1)
        run.log(step, loss=loss, lr=torch.tensor(0.1), grad_norm=torch.tensor(2.0), flag=True)
    logits = torch.randn(64, 5)
    run.log_predictions(30, logits, torch.randint(5, (64,)))
    run.event("checkpoint saved", step=30)
    run.finish()
    assert run.run_id is not None
    rows = hub.rows(run.run_id)
    assert [r["step"] for r in rows] == [*range(30), 30]
    assert [r["seq"] for r in rows] == list(range(31))
    assert [r["loss"] for r in rows[27:30]] == ["NaN", "Infinity", "-Infinity"]
    assert rows[0]["lr"] == pytest.approx(0.1) and rows[0]["flag"] == 1
    assert rows[0]["source"] == {"file": os.path.abspath(__file__), "line": line}
    assert {"calibration/ece", "calibration/mce", "entropy/mean", "entropy/normalized", "accuracy"} <= set(rows[30])
    meta = hub.wait_status(run.run_id, "completed")
    assert meta["status"] == "completed" and meta["name"] == "arrive" and meta["config"]["nested"] == {"x": [1, 2]}
    assert meta["sdk"] == "lossradar-py/0.1.0"
    dists = [json.loads(x) for x in (hub.runs / run.run_id / "distributions.jsonl").read_text().splitlines()]
    assert dists[0]["type"] == "reliability" and len(dists[0]["counts"]) == 15 and sum(dists[0]["counts"]) == 64
    events = (hub.runs / run.run_id / "events.jsonl").read_text()
    assert "checkpoint saved" in events


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_hub_restart_mid_run_loses_and_duplicates_nothing(hub_factory: Any, tmp_path: Path, how: str) -> None:
    runs = tmp_path / "runs"
    first: Hub = hub_factory(runs)
    run = lossradar.init(name="restart", url=first.url, token=first.token)
    second: Hub | None = None
    for step in range(240):
        run.log(step, loss=1.0 / (step + 1), other=float(step))
        time.sleep(0.004)
        if step == 80:
            assert wait_for(lambda: run.client is not None and run.client.welcomed.is_set())
            (first.kill if how == "SIGKILL" else first.stop)()
        if step == 160:
            second = hub_factory(runs, port=first.port, token=first.token)
    run.finish(timeout=20)
    assert second is not None and run.client is not None
    assert run.client.connections >= 2
    assert run.run_id is not None
    rows = second.rows(run.run_id)
    steps = [r["step"] for r in rows]
    assert steps == list(range(240)), f"lost {sorted(set(range(240)) - set(steps))}, rows {len(steps)}"
    assert [r["seq"] for r in rows] == list(range(240))
    assert all(r["other"] == r["step"] for r in rows)
    assert second.wait_status(run.run_id, "completed")["status"] == "completed"
    assert len(second.run_dirs()) == 1  # the same run resumed, not a new one


def test_no_hub_no_crash_writes_the_local_store(isolated: Path) -> None:
    with pytest.warns(LossRadarWarning, match="no Loss Radar hub found"):
        run = lossradar.init(name="offline", config={"a": 1})
    assert run.mode == "local"
    with run:
        for step in range(5):
            run.log(step, loss=math.nan if step == 3 else 1.0)
        run.log_predictions(5, torch.randn(10, 3), torch.randint(3, (10,)))
    assert run.local_dir is not None and run.local_dir.parent == isolated / ".lossradar" / "runs"
    rows = [json.loads(x) for x in (run.local_dir / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [0, 1, 2, 3, 4, 5] and rows[3]["loss"] == "NaN"
    assert [r["seq"] for r in rows] == list(range(6))
    meta = json.loads((run.local_dir / "meta.json").read_text())
    assert meta["status"] == "completed" and meta["id"] == run.run_id and meta["config"] == {"a": 1}
    for name in ("alerts.jsonl", "distributions.jsonl", "events.jsonl"):
        assert (run.local_dir / name).exists()


def test_exception_in_the_with_block_marks_the_run_failed(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    run = lossradar.init(name="fails")

    def body() -> None:
        with run:
            run.log(0, loss=1.0)
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        body()
    assert run.run_id is not None
    meta = hub.wait_status(run.run_id, "failed")
    assert meta["status"] == "failed" and meta["error"] == "RuntimeError: boom"


def test_unreachable_hub_falls_back_to_the_local_store(monkeypatch: pytest.MonkeyPatch, isolated: Path) -> None:
    monkeypatch.setenv("LOSSRADAR_URL", f"ws://127.0.0.1:{free_port()}")
    monkeypatch.setenv("LOSSRADAR_TOKEN", "nobody-listens")
    run = lossradar.init(name="lonely")
    for step in range(10):
        run.log(step, loss=float(step))
    t0 = time.monotonic()
    with pytest.warns(LossRadarWarning, match="did not acknowledge 10 rows"):
        run.finish(timeout=1.0)
    assert time.monotonic() - t0 < 6
    dirs = list((isolated / ".lossradar" / "runs").iterdir())
    assert [d.name for d in dirs] == [run.run_id]  # the id the hub would have had
    rows = [json.loads(x) for x in (dirs[0] / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(10))


def test_full_queue_drops_the_oldest_finite_rows_and_reports_the_count(
    hub_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    token = "tok-drop-test"
    monkeypatch.setenv("LOSSRADAR_URL", f"ws://127.0.0.1:{port}")
    monkeypatch.setenv("LOSSRADAR_TOKEN", token)
    run = lossradar.init(name="drops", max_queue=5)
    for step in range(20):
        run.log(step, loss=math.nan if step == 1 else float(step))
    hub: Hub = hub_factory(port=port, token=token)
    run.finish(timeout=15)
    assert run.run_id is not None
    rows = hub.rows(run.run_id)
    assert [r["step"] for r in rows] == [1, 16, 17, 18, 19]  # the NaN row is kept
    assert rows[0]["loss"] == "NaN"
    assert hub.meta(run.run_id)["droppedRows"] == 15


def test_reported_drops_are_exactly_the_rows_missing_from_the_hub(hub_factory: Any, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    first: Hub = hub_factory(runs)
    run = lossradar.init(name="exact-drops", url=first.url, token=first.token, max_queue=40)
    client = run.client
    assert client is not None and wait_for(client.welcomed.is_set)
    logged = 0

    def log_rows(n: int) -> None:
        nonlocal logged
        for _ in range(n):
            run.log(logged, loss=float(logged))
            logged += 1
            if logged % 20 == 0:
                time.sleep(0.02)

    # 1. The trainer outpaces a live hub (which acknowledges only once it has written, ≤ 250 ms
    # later): rows sent and not yet acknowledged are evicted too, and the hub has nearly all of them.
    log_rows(2000)
    assert wait_for(lambda: client.queued_rows == 0, timeout=15)
    # 2. The hub dies with rows in flight, the trainer logs on, a new hub takes over the folder.
    log_rows(30)
    time.sleep(0.15)
    first.kill()
    log_rows(400)
    second: Hub = hub_factory(runs, port=first.port, token=first.token)
    log_rows(200)
    run.finish(timeout=20)
    assert run.run_id is not None
    stored = {r["seq"] for r in second.rows(run.run_id)}
    missing = logged - len(stored)
    assert 0 < missing < logged
    assert second.wait_status(run.run_id, "completed")["droppedRows"] == missing
    assert client.dropped_total == missing and client.uncertain_rows == 0


def test_the_run_id_is_known_at_init_and_names_the_hub_folder(hub: Hub) -> None:
    run = lossradar.init(name="named early", url=hub.url, token=hub.token)
    run_id = run.run_id
    assert run_id is not None and run_id.split("-")[2:4] == ["named", "early"]
    run.log(0, loss=1.0)
    run.finish()
    assert run.run_id == run_id
    assert [d.name for d in hub.run_dirs()] == [run_id]
    assert hub.meta(run_id)["id"] == run_id and [r["step"] for r in hub.rows(run_id)] == [0]


def test_run_busy_is_retried_and_a_second_process_continues_the_sequence(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    first = lossradar.init(name="shared", run_id="shared-run-1", url=hub.url, token=hub.token)
    for step in range(10):
        first.log(step, loss=float(step))
    assert first.client is not None
    assert wait_for(lambda: first.client is not None and first.client.queued_rows == 0)
    caplog.set_level(logging.WARNING, logger="lossradar")
    second = lossradar.init(name="shared", run_id="shared-run-1", url=hub.url, token=hub.token)
    for step in range(10, 20):
        second.log(step, loss=float(step))
    assert second.client is not None
    assert wait_for(lambda: "run-busy" in caplog.text, timeout=10)
    first.finish()
    second.finish(timeout=20)
    rows = hub.rows("shared-run-1")
    assert [r["step"] for r in rows] == list(range(20))
    assert [r["seq"] for r in rows] == list(range(20))  # the second client's seqs follow lastSeq
    assert caplog.text.count("run-busy") == 1  # logged once per code
    assert len(hub.run_dirs()) == 1


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_discovery_directory_picks_the_right_hub(
    hub_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    disc = tmp_path / "discovery"
    outer = tmp_path / "ws"
    inner = outer / "inner"
    (inner / "sub").mkdir(parents=True)
    (outer / "other").mkdir()
    hub_outer: Hub = hub_factory(tmp_path / "runs-outer", extra=["--discovery-dir", str(disc), "--folder", str(outer)])
    hub_inner: Hub = hub_factory(tmp_path / "runs-inner", extra=["--discovery-dir", str(disc), "--folder", str(inner)])
    # an entry of a closed window, deeper still: ignored because its process is gone
    stale = {
        "url": "ws://127.0.0.1:9",
        "token": "x",
        "pid": _dead_pid(),
        "folders": [str(inner / "sub")],
        "startedAt": time.time(),
    }
    (disc / "999999-9.json").write_text(json.dumps(stale))
    (disc / "garbage.json").write_text("{not json")
    assert len(list(disc.glob("*.json"))) == 4

    monkeypatch.chdir(inner / "sub")
    run = lossradar.init(name="found-inner")
    assert run.client is not None and run.client.url == hub_inner.url
    run.log(0, loss=1.0)
    run.finish()
    assert [d.name for d in hub_inner.run_dirs()] == [run.run_id] and hub_outer.run_dirs() == []

    monkeypatch.chdir(outer / "other")
    run2 = lossradar.init(name="found-outer")
    assert run2.client is not None and run2.client.url == hub_outer.url
    run2.log(0, loss=1.0)
    run2.finish()
    assert [d.name for d in hub_outer.run_dirs()] == [run2.run_id]

    monkeypatch.chdir(tmp_path)  # in no hub's folder
    with pytest.warns(LossRadarWarning):
        run3 = lossradar.init(name="nobody", mode="auto")
    assert run3.mode == "local"
    run3.finish()


def test_env_run_id_creates_and_then_resumes_the_run(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    use_hub(monkeypatch, hub)
    monkeypatch.setenv("LOSSRADAR_RUN_ID", "launched-run")
    with lossradar.init(name="launched") as run:
        run.log(0, loss=2.0)
    with lossradar.init(name="launched") as run2:
        run2.log(1, loss=1.0)
    assert run.run_id == run2.run_id == "launched-run"
    assert [r["step"] for r in hub.rows("launched-run")] == [0, 1]


SCRIPT = """
import lossradar
run = lossradar.init(name="{name}")
for step in range(50):
    run.log(step, loss=1.0 / (step + 1))
{tail}
"""


@pytest.mark.parametrize(
    ("tail", "status", "error"),
    [("", "completed", None), ("raise ValueError('bad batch')", "failed", "ValueError: bad batch")],
)
def test_a_script_that_never_calls_finish(hub: Hub, tmp_path: Path, tail: str, status: str, error: str | None) -> None:
    assert hub.token is not None
    env = {**os.environ, "LOSSRADAR_URL": hub.url, "LOSSRADAR_TOKEN": hub.token}
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1])
    name = f"atexit-{status}"
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(name=name, tail=tail)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == (0 if status == "completed" else 1), proc.stderr
    (run_dir,) = hub.run_dirs()
    meta = hub.wait_status(run_dir.name, status)
    assert meta["status"] == status and meta["error"] == error and meta["name"] == name
    assert [r["step"] for r in hub.rows(run_dir.name)] == list(range(50))
