"""Latency of ``run.log`` on the training thread while the hub is killed and restarted.

    python bench/log_latency.py                 # 30 s at 2 000 rows/s × 20 scalars, one JSON line
    python bench/log_latency.py --seconds 10 --max-queue 500 --down 2

A real hub (``node dist/cli.js serve``) records the run. A training-like loop calls
``run.log(step, **20 scalars)`` at a steady rate and times every call with ``perf_counter_ns``;
halfway through, the hub is SIGKILLed and, ``--down`` seconds later, started again on the same port
with the same token and runs folder, so the SDK reconnects, resumes the run and re-sends what the
dead hub had not written. The kill and the restart happen on a helper thread, as they would in
another process, so that the loop's own pacing is not disturbed by them.

Prints ``{"p50Ms","p99Ms","maxMs","rows","stored","dropped","missing",…}``: ``stored`` counts the
distinct seqs in ``metrics.jsonl``, ``dropped`` is what the SDK reported (``meta.droppedRows``),
``missing`` is ``rows - stored``; the two agree when the drop count is exact. On Linux,
``maxRunnableMs`` is the slowest call less the time the kernel kept the thread waiting for a CPU
(``/proc/thread-self/schedstat``): on a busy machine ``maxMs`` is mostly other processes' doing,
while GIL or lock waits and GC pauses stay in ``maxRunnableMs``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import lossradar

REPO = Path(__file__).resolve().parents[2]
CLI = REPO / "dist" / "cli.js"


class HubProcess:
    """``node dist/cli.js serve``; it prints one JSON line ``{"url","token","runs"}`` once listening."""

    def __init__(self, runs: Path, port: int = 0, token: str | None = None) -> None:
        self.runs, self.port, self.token = runs, port, token
        self.url = ""
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 30.0) -> HubProcess:
        node = shutil.which("node")
        if node is None or not CLI.exists():
            raise SystemExit(f"needs node and {CLI} (npm run build)")
        args = [node, str(CLI), "serve", f"--port={self.port}", f"--runs={self.runs}"]
        if self.token:
            # One argument: a token may begin with "-", which would read as an option of its own.
            args.append(f"--token={self.token}")
        deadline = time.monotonic() + timeout
        while True:
            # The port of a SIGKILLed hub can take a moment to be free again.
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert proc.stdout is not None
            line = proc.stdout.readline()
            if line.strip():
                break
            proc.wait()
            if time.monotonic() > deadline:
                raise SystemExit("the hub did not start")
            time.sleep(0.1)
        info: dict[str, Any] = json.loads(line)
        self.proc, self.url, self.token = proc, info["url"], info["token"]
        self.port = int(self.url.rsplit(":", 1)[1])
        # The hub prints alerts on stdout: keep reading so that it never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
        return self

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def _run_queue_ns(fd: int) -> int:
    # schedstat: time on the CPU, time runnable but waiting for one, timeslices (nanoseconds).
    return int(os.pread(fd, 128, 0).split()[1])


def percentile(sorted_xs: list[int], q: float) -> float:
    return float(sorted_xs[min(len(sorted_xs) - 1, max(0, math.ceil(q * len(sorted_xs)) - 1))])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=2000.0, help="rows per second")
    parser.add_argument("--metrics", type=int, default=20, help="scalars per row")
    parser.add_argument("--kill-at", type=float, default=0.5, help="when to SIGKILL the hub (share of --seconds)")
    parser.add_argument("--down", type=float, default=1.0, help="seconds between the kill and the restart")
    parser.add_argument("--max-queue", type=int, default=20_000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="lossradar-log-latency-"))
    runs = tmp / "runs"
    hubs = [HubProcess(runs).start()]
    try:
        run = lossradar.init(
            name="log-latency", url=hubs[0].url, token=hubs[0].token, dir=tmp / "local", max_queue=args.max_queue
        )
        names = ["loss", "lr", "grad_norm"] + [f"layer{i}/metric" for i in range(args.metrics - 3)]

        def outage() -> None:
            time.sleep(args.seconds * args.kill_at)
            hubs[0].kill()
            time.sleep(args.down)
            hubs.append(HubProcess(runs, hubs[0].port, hubs[0].token).start())

        chaos = threading.Thread(target=outage, daemon=True)
        chaos.start()
        n = int(args.seconds * args.rate)
        times = [0] * n
        max_runnable = 0
        try:
            sched: int | None = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        except OSError:
            sched = None
        period = 1.0 / args.rate
        started = time.perf_counter()
        for step in range(n):
            # Sleep to the row's slot (a training step's GPU work, say); when late, log at once.
            delay = started + step * period - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            values = {name: math.sin(step * 1e-3 + i) for i, name in enumerate(names)}
            queued = _run_queue_ns(sched) if sched is not None else 0
            t0 = time.perf_counter_ns()
            run.log(step, **values)
            took = times[step] = time.perf_counter_ns() - t0
            if took > 500_000:
                runnable = took - (_run_queue_ns(sched) - queued if sched is not None else 0)
                max_runnable = max(max_runnable, runnable)
        elapsed = time.perf_counter() - started
        if sched is not None:
            os.close(sched)
        chaos.join()
        run.finish(timeout=30)
        run_id = run.run_id
        hubs[-1].stop()

        stored_seqs: set[int] = set()
        dropped = 0
        if run_id is not None and (runs / run_id).is_dir():
            for line in (runs / run_id / "metrics.jsonl").read_text().splitlines():
                try:
                    seq = json.loads(line).get("seq")
                except ValueError:
                    continue  # a line torn by the SIGKILL
                if isinstance(seq, int):
                    stored_seqs.add(seq)
            dropped = int(json.loads((runs / run_id / "meta.json").read_text()).get("droppedRows", 0))
        times.sort()
        result = {
            "p50Ms": percentile(times, 0.50) / 1e6,
            "p99Ms": percentile(times, 0.99) / 1e6,
            "maxMs": times[-1] / 1e6,
            "maxRunnableMs": max(max_runnable, min(times[-1], 500_000)) / 1e6 if sched is not None else None,
            "rows": n,
            "stored": len(stored_seqs),
            "dropped": dropped,
            "missing": n - len(stored_seqs),
            "rowsPerSecond": n / elapsed,
            "metrics": args.metrics,
            "reconnects": (run.client.connections - 1) if run.client is not None else 0,
        }
        print(json.dumps(result), flush=True)
        return 0
    finally:
        for hub in hubs:
            hub.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
