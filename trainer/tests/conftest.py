"""Shared fixtures: an isolated environment for every test, and the real hub (`node dist/cli.js
serve`) in a subprocess; `stopping_hub` and test_rescue's
`commanding_hub` are the same hub that also presses the editor's buttons (tests/commanding_hub.ts)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "dist" / "cli.js"
COMMANDING_HUB = Path(__file__).resolve().parent / "commanding_hub.ts"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No hub from the outside world: no LOSSRADAR_* variables, an empty discovery directory, and a
    fresh working directory (where the local fallback writes)."""
    for var in ("LOSSRADAR_URL", "LOSSRADAR_TOKEN", "LOSSRADAR_RUN_ID", "RANK", "SLURM_PROCID"):
        monkeypatch.delenv(var, raising=False)
    disc = tmp_path / "discovery"
    monkeypatch.setenv("LOSSRADAR_DISCOVERY_DIR", str(disc))
    work = tmp_path / "work"
    work.mkdir()
    import lossradar

    monkeypatch.setattr(lossradar, "_warned_local", False)  # the no-hub warning is once per process
    monkeypatch.chdir(work)
    return work


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Hub:
    """`node dist/cli.js serve` in a subprocess; `start()` waits for its JSON line."""

    def __init__(self, runs: Path, port: int = 0, token: str | None = None, extra: list[str] | None = None):
        self.runs = runs
        self.port = port
        self.token = token
        self.extra = extra or []
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.stderr: list[str] = []
        self.stdout: list[str] = []

    def command(self, node: str) -> list[str]:
        assert CLI.exists(), f"{CLI} is missing: build the TypeScript side first (npm run build)"
        return [node, str(CLI), "serve"]

    def start(self, timeout: float = 20.0) -> Hub:
        node = shutil.which("node")
        assert node is not None, "node is needed for the hub tests"
        args = [*self.command(node), f"--port={self.port}", f"--runs={self.runs}", *self.extra]
        if self.token:
            # One argument: a token may begin with "-", which would read as an option of its own.
            args.append(f"--token={self.token}")
        # From the repository root: where `node --import tsx` finds tsx.
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(self.proc.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(timeout)
        if not line or not line[0].strip():
            self.stop()
            raise AssertionError(f"the hub did not start: {self.stderr_text()}")
        info: dict[str, Any] = json.loads(line[0])
        self.url, self.token = info["url"], info["token"]
        self.port = int(self.url.rsplit(":", 1)[1])
        # Keep reading both pipes: the hub prints alerts on stdout and would block on a full pipe.
        threading.Thread(target=self._drain, args=("stderr",), daemon=True).start()
        threading.Thread(target=self._drain, args=("stdout",), daemon=True).start()
        return self

    def _drain(self, which: str) -> None:
        proc = self.proc
        stream = getattr(proc, which, None) if proc is not None else None
        if stream is None:
            return
        for text in stream:
            (self.stderr if which == "stderr" else self.stdout).append(text)

    def stderr_text(self) -> str:
        if self.proc is not None and self.proc.poll() is not None and self.proc.stderr and not self.stderr:
            return self.proc.stderr.read()
        return "".join(self.stderr)

    def kill(self) -> None:
        """SIGKILL: the hub dies without flushing or closing anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def run_dirs(self) -> list[Path]:
        return sorted(p for p in self.runs.iterdir() if p.is_dir()) if self.runs.exists() else []

    def rows(self, run_id: str) -> list[dict[str, Any]]:
        path = self.runs / run_id / "metrics.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def wait_status(self, run_id: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        """meta.json once it records ``status`` (the hub writes it just after the end frame)."""
        wait_for(lambda: self.meta(run_id).get("status") == status, timeout)
        return self.meta(run_id)

    def meta(self, run_id: str) -> dict[str, Any]:
        meta: dict[str, Any] = json.loads((self.runs / run_id / "meta.json").read_text())
        return meta


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Any]:
    hubs: list[Hub] = []

    def make(runs: Path | None = None, port: int = 0, token: str | None = None, extra: list[str] | None = None) -> Hub:
        hub = Hub(runs or tmp_path / "runs", port, token, extra)
        hubs.append(hub)
        return hub.start()

    yield make
    for hub in hubs:
        hub.stop()


@pytest.fixture
def hub(hub_factory: Any) -> Hub:
    h: Hub = hub_factory()
    return h


class CommandingHub(Hub):
    """The hub of `lossradar serve` (src/cli/serve.ts, run from source by tsx) that presses the
    editor's buttons: each ``(step, command)`` is sent to the run once it has stored a row at a step
    ≥ ``step`` (tests/commanding_hub.ts), as Stop Run, Lower Learning Rate… do."""

    def __init__(self, runs: Path, commands: list[tuple[int, dict[str, Any]]]) -> None:
        super().__init__(runs, extra=[f"--command-at={at}:{json.dumps(c)}" for at, c in commands])

    def command(self, node: str) -> list[str]:
        return [node, "--import", "tsx", str(COMMANDING_HUB)]

    def events(self, run_id: str | None) -> list[dict[str, Any]]:
        path = self.runs / str(run_id) / "events.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def capabilities(self, run_id: str | None) -> list[dict[str, Any]]:
        lines = [json.loads(line) for line in self.stdout if line.startswith('{"runId"') and '"capabilities"' in line]
        return [x["capabilities"] for x in lines if x["runId"] == run_id]


@pytest.fixture
def stopping_hub(tmp_path: Path) -> Iterator[Any]:
    """``stopping_hub(stop_at)`` → a started hub that sends the run ``stop`` (as Stop Run does) once it
    has stored a row at step ≥ ``stop_at``, in the environment of this test
    (``LOSSRADAR_URL``/``LOSSRADAR_TOKEN`` set)."""
    hubs: list[Hub] = []
    with pytest.MonkeyPatch.context() as mp:

        def make(stop_at: int) -> CommandingHub:
            hub = CommandingHub(tmp_path / "runs", [(stop_at, {"command": "stop"})])
            hubs.append(hub)
            hub.start()
            assert hub.token is not None
            mp.setenv("LOSSRADAR_URL", hub.url)
            mp.setenv("LOSSRADAR_TOKEN", hub.token)
            return hub

        yield make
    for hub in hubs:
        hub.stop()


def use_hub(monkeypatch: pytest.MonkeyPatch, hub: Hub) -> None:
    """Points ``lossradar.init`` at ``hub``, as the extension's terminals do."""
    monkeypatch.setenv("LOSSRADAR_URL", hub.url)
    assert hub.token is not None
    monkeypatch.setenv("LOSSRADAR_TOKEN", hub.token)


def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


@pytest.fixture
def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LOSSRADAR_")}


def torchrun(worker: str, hub: Hub, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``tests/<worker>`` under ``torchrun --standalone --nproc_per_node 2``, its runs sent to ``hub``;
    at most 180 s (a rank left alone in a collective waits for ever)."""
    assert hub.token is not None
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOSSRADAR_")}
    env.update(
        LOSSRADAR_URL=hub.url,
        LOSSRADAR_TOKEN=hub.token,
        OMP_NUM_THREADS="1",
        LOSSRADAR_DISCOVERY_DIR=str(cwd / "none"),
    )
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    launch = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    script = str(Path(__file__).with_name(worker))
    return subprocess.run([*launch, script], env=env, cwd=cwd, capture_output=True, text=True, timeout=180, check=False)
