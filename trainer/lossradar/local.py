"""The local fallback: a run written straight to the store layout when no hub is reachable.

``<root>/<run-id>/meta.json``, ``metrics.jsonl`` (one flat row per line, the hub's own format:
``{"step":12,"time":…,"loss":2.3,…,"source":{…},"seq":5}``), ``distributions.jsonl``,
``events.jsonl`` and an empty ``alerts.jsonl`` (docs/protocol.md "Runs on disk"). The extension
opens such a folder like any run the hub recorded. Standard library only.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import secrets
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from .encoding import RUN_ID_PATTERN, SDK_NAME, dumps, encode_number, json_safe, valid_run_id

DEFAULT_ROOT = Path(".lossradar") / "runs"
_FLUSH_SECONDS = 1.0


def new_run_id(name: str | None) -> str:
    """``YYYYMMDD-HHMMSS-<slug>-<6 hex>``, the hub's own run-id shape."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^a-z0-9]+", "-", (name or "run").lower()).strip("-")[:40] or "run"
    return f"{stamp}-{slug}-{secrets.token_hex(3)}"


def flat_row(
    step: int,
    t: float | None,
    values: Mapping[str, float],
    source: tuple[str, int] | None,
    seq: int | None,
    rank: int | None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"step": step}
    # `time` is optional in the store format: logs imported from a format without wall times
    # (a trainer_state.json) leave it out rather than invent one.
    if t is not None:
        out["time"] = t
    for name, v in values.items():
        out[name] = encode_number(v)
    if source is not None:
        out["source"] = {"file": source[0], "line": source[1]}
    if seq is not None:
        out["seq"] = seq
    if rank is not None:
        out["rank"] = rank
    return out


class LocalRunWriter:
    """Appends one run's rows and frames to files; thread-safe, buffered, flushed about once a second."""

    def __init__(
        self,
        root: Path,
        run_id: str,
        *,
        name: str | None,
        config: Mapping[str, Any] | None,
        device: str | None,
        sdk_version: str,
        resume: bool = True,
        tags: Sequence[str] = (),
    ) -> None:
        # The id becomes a folder name: one from the hub or the environment must not climb out of root.
        if not valid_run_id(run_id):
            raise ValueError(f"run id {run_id!r:.80} must match {RUN_ID_PATTERN} and not be . or ..")
        self.root = root
        self.run_id = run_id
        self.dir = root / run_id
        self.dir.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._meta_path = self.dir / "meta.json"
        now = time.time()
        meta: dict[str, Any] | None = None
        if resume and self._meta_path.exists():
            try:
                loaded = json.loads(self._meta_path.read_text(encoding="utf-8"))
                meta = loaded if isinstance(loaded, dict) else None
            except (OSError, ValueError):
                meta = None
        if meta is None:
            meta = {
                "id": run_id,
                "name": name or run_id,
                "config": json_safe(config) if config is not None else None,
                "status": "running",
                "createdAt": now,
                "updatedAt": now,
                "endedAt": None,
                "error": None,
                "host": socket.gethostname(),
                "pid": os.getpid(),
                "device": device,
                "sdk": f"{SDK_NAME}/{sdk_version}",
                "droppedRows": 0,
                "tags": list(tags),
            }
        else:
            meta.update({"status": "running", "endedAt": None, "error": None, "pid": os.getpid(), "updatedAt": now})
        self.meta: dict[str, Any] = meta
        self._write_meta()
        self._seq = self._last_seq() + 1
        self._files: dict[str, IO[str]] = {}
        for fname in ("metrics.jsonl", "distributions.jsonl", "events.jsonl", "alerts.jsonl"):
            self._files[fname] = open(self.dir / fname, "a", encoding="utf-8")  # noqa: SIM115
        self._last_flush = time.monotonic()
        self.closed = False

    def _last_seq(self) -> int:
        path = self.dir / "metrics.jsonl"
        last = -1
        try:
            with open(path, encoding="utf-8") as f:
                for line in f:
                    try:
                        seq = json.loads(line).get("seq")
                    except (ValueError, AttributeError):
                        continue
                    if isinstance(seq, int) and seq > last:
                        last = seq
        except OSError:
            pass
        return last

    def _write_meta(self) -> None:
        tmp = self._meta_path.with_name(f"meta.json.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self._meta_path)

    def _maybe_flush_locked(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_flush >= _FLUSH_SECONDS:
            for f in self._files.values():
                f.flush()
            self._last_flush = now

    def write_row(
        self,
        step: int,
        t: float | None,
        values: Mapping[str, float],
        source: tuple[str, int] | None,
        rank: int | None,
    ) -> None:
        with self._lock:
            if self.closed:
                return
            line = dumps(flat_row(step, t, values, source, self._seq, rank))
            self._seq += 1
            self._files["metrics.jsonl"].write(line + "\n")
            self._maybe_flush_locked()

    def write_frame(self, frame: Mapping[str, Any]) -> None:
        kind = frame.get("type")
        fname = "events.jsonl" if kind == "event" else "distributions.jsonl"
        payload = dict(frame)
        if kind == "event":
            payload["time"] = time.time()
        with self._lock:
            if self.closed:
                return
            self._files[fname].write(dumps(payload) + "\n")
            self._maybe_flush_locked()

    def add_dropped(self, n: int) -> None:
        with self._lock:
            self.meta["droppedRows"] = int(self.meta.get("droppedRows", 0)) + n

    def update_config(self, config: Mapping[str, Any]) -> None:
        """Replaces the run's configuration in ``meta.json`` (``Run.update_config``)."""
        with self._lock:
            self.meta["config"] = json_safe(config)
            self.meta["updatedAt"] = time.time()
            if not self.closed:
                self._write_meta()

    def flush(self) -> None:
        with self._lock:
            if not self.closed:
                self._maybe_flush_locked(force=True)

    def close(self, status: str, error: str | None, *, ended_at: float | None = None) -> None:
        """``ended_at``: when the run ended if not now (an imported run ended when its logs did)."""
        with self._lock:
            if self.closed:
                return
            self._maybe_flush_locked(force=True)
            for f in self._files.values():
                f.close()
            self.closed = True
            now = time.time()
            ended = now if ended_at is None else ended_at
            self.meta.update({"status": status, "error": error, "endedAt": ended, "updatedAt": now})
            self._write_meta()
