"""The hub client: one background thread speaking wire protocol v1 over a WebSocket.

Built on ``websockets.sync.client.connect`` (threaded, pure Python when its C speed-ups are
absent, so the VSIX can vendor it). The training thread only appends to a bounded queue under a
lock; everything else happens here:

* rows are sent in ``scalars`` frames at most ``batch_interval`` (100 ms) apart, each frame a run of
  consecutive sequence numbers (``seq`` of ``rows[0]``; ``rows[i]`` has ``seq + i``);
* a row stays in memory until the hub acknowledges it (``{"type":"ack","seq":n}``): after a
  reconnect the client sends ``hello`` with the run id of its first ``welcome`` and re-sends every
  row whose seq is above ``welcome.lastSeq``; the hub drops what it already has, so a hub restart
  loses and duplicates nothing;
* when the queue is full the oldest row is dropped (a row carrying a non-finite value is kept
  while any finite one can go instead) and the count travels in the next frame's ``dropped``;
* reconnects back off exponentially (0.1 s doubling to 5 s, with jitter); ``run-busy`` is retried
  the same way;
* ``command`` frames go to a callback; ``error`` frames are logged once per code.

Standard library + ``websockets`` only (no torch).
"""

from __future__ import annotations

import collections
import inspect
import itertools
import logging
import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from .encoding import (
    MAX_ROWS_PER_FRAME,
    dumps,
    encode_values,
    end_frame,
    hello_frame,
    parse_hub_frame,
    scalars_frame_from_encoded,
)

log = logging.getLogger("lossradar")

#: Encoded size of one ``scalars`` frame's rows before the client starts a new frame (the hub's
#: limit is 1 MiB per frame).
_FRAME_BUDGET_BYTES = 512 * 1024
_ROWS_PER_FRAME = min(2000, MAX_ROWS_PER_FRAME)

#: How far the drop-oldest policy looks for a finite row to drop instead of a non-finite one.
_PRECIOUS_SCAN = 256

_SUPPORTS_PROXY = "proxy" in inspect.signature(connect).parameters


@dataclass(slots=True)
class QueuedRow:
    """A row waiting for the hub's acknowledgement. ``n`` is the client's own row counter; the wire
    seq is ``base + n`` where ``base`` is fixed by the first ``welcome``."""

    n: int
    step: int
    time: float
    values: dict[str, float]
    source: tuple[str, int] | None
    rank: int | None
    precious: bool
    encoded: str | None = None

    def encode(self) -> str:
        if self.encoded is None:
            row: dict[str, Any] = {"step": self.step, "time": self.time, "values": encode_values(self.values)}
            if self.source is not None:
                row["source"] = {"file": self.source[0], "line": self.source[1]}
            if self.rank is not None:
                row["rank"] = self.rank
            self.encoded = dumps(row)
        return self.encoded


class _RetryLater(Exception):
    pass


class _GiveUp(Exception):
    pass


class HubClient:
    """Streams one run to the hub from a daemon thread. ``submit_*`` never block on the network."""

    def __init__(
        self,
        url: str,
        token: str,
        *,
        name: str | None,
        config: Mapping[str, Any] | None,
        run_id: str | None = None,
        device: str | None = None,
        rank: int | None = None,
        sdk_version: str = "0.1.0",
        max_queue: int = 20_000,
        max_frames: int = 2_000,
        batch_interval: float = 0.1,
        backoff_initial: float = 0.1,
        backoff_max: float = 5.0,
        connect_timeout: float = 5.0,
        welcome_timeout: float = 10.0,
        on_command: Callable[[str], None] | None = None,
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be ≥ 1")
        self.url = url
        self._token = token
        self._name = name
        self._config = config
        self._device = device
        self._rank = rank
        self._sdk_version = sdk_version
        self.max_queue = max_queue
        self.max_frames = max_frames
        self.batch_interval = batch_interval
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.connect_timeout = connect_timeout
        self.welcome_timeout = welcome_timeout
        self._on_command = on_command

        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: collections.deque[QueuedRow] = collections.deque()
        self._inflight: collections.deque[QueuedRow] = collections.deque()
        self._frames: collections.deque[dict[str, Any]] = collections.deque()
        self._next_n = 0
        self._dropped_unreported = 0
        self.dropped_total = 0
        self._base: int | None = None
        self.run_id: str | None = run_id
        self.welcomed = threading.Event()
        self.connected = False
        self.connections = 0
        self.gave_up: str | None = None
        self._seen_errors: set[str] = set()
        self._warned_unreachable = False
        self._end: dict[str, Any] | None = None
        self._closing = False
        self._close_deadline = 0.0
        self.end_delivered = False
        self._thread = threading.Thread(target=self._main, name="lossradar-client", daemon=True)

    # ---------------------------------------------------------------- training-thread side

    def start(self) -> None:
        self._thread.start()

    def submit_row(
        self,
        step: int,
        t: float,
        values: dict[str, float],
        source: tuple[str, int] | None,
        rank: int | None,
    ) -> None:
        precious = not all(math.isfinite(v) for v in values.values())
        with self._lock:
            if self._closing and self._end is not None and not self._thread.is_alive():
                return
            entry = QueuedRow(self._next_n, step, t, values, source, rank, precious)
            self._next_n += 1
            while len(self._pending) + len(self._inflight) >= self.max_queue:
                self._drop_oldest_locked()
            self._pending.append(entry)

    def submit_frame(self, frame: dict[str, Any]) -> None:
        with self._lock:
            while len(self._frames) >= self.max_frames:
                self._frames.popleft()
            self._frames.append(frame)

    def _drop_oldest_locked(self) -> None:
        for queue in (self._inflight, self._pending):
            for i, entry in enumerate(itertools.islice(queue, _PRECIOUS_SCAN)):
                if not entry.precious:
                    del queue[i]
                    self._count_drop_locked()
                    return
        # Only rows with non-finite values near the head: the oldest goes all the same.
        (self._inflight or self._pending).popleft()
        self._count_drop_locked()

    def _count_drop_locked(self) -> None:
        self._dropped_unreported += 1
        self.dropped_total += 1

    def close(self, status: str, error: str | None, timeout: float) -> bool:
        """Sends what is queued and the ``end`` frame; ``True`` when the hub acknowledged every row."""
        with self._lock:
            self._end = end_frame(status, error)
            self._closing = True
            self._close_deadline = time.monotonic() + max(0.0, timeout)
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout + 3.0)
        with self._lock:
            return self.end_delivered and not self._pending and not self._inflight

    def undelivered(self) -> tuple[list[QueuedRow], list[dict[str, Any]], int]:
        """Rows not acknowledged, frames not sent and drops not reported (for the local fallback)."""
        with self._lock:
            rows = list(self._inflight) + list(self._pending)
            frames = list(self._frames)
            dropped = self._dropped_unreported
            self._inflight.clear()
            self._pending.clear()
            self._frames.clear()
            self._dropped_unreported = 0
        return rows, frames, dropped

    @property
    def queued_rows(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._inflight)

    # ---------------------------------------------------------------- background thread

    def _main(self) -> None:
        attempt = 0
        while True:
            if self._closing and time.monotonic() >= self._close_deadline:
                return
            try:
                if self._attempt():
                    return
                attempt = 0
            except _GiveUp as e:
                self.gave_up = str(e)
                log.warning("lossradar: giving up on the hub at %s: %s", self.url, e)
                return
            except _RetryLater:
                pass
            finally:
                self.connected = False
            if self._closing and self._end_settled():
                return
            self._backoff(attempt)
            attempt += 1

    def _attempt(self) -> bool:
        """One connection, used as a context manager (websockets ≥ 17.1 asks for it; older versions
        accept it). ``True`` when the run is finished; ``_RetryLater`` or ``_GiveUp`` otherwise."""
        kwargs: dict[str, Any] = {
            "additional_headers": {"Authorization": f"Bearer {self._token}"},
            "compression": None,
            "open_timeout": self.connect_timeout,
            "close_timeout": 2.0,
            "max_size": 4 * 1024 * 1024,
        }
        if _SUPPORTS_PROXY:
            kwargs["proxy"] = None  # the hub is on 127.0.0.1: never through an HTTP proxy
        entered = False
        try:
            with connect(self.url, **kwargs) as ws:
                entered = True
                with self._lock:
                    self.connections += 1
                return self._session(ws)
        except (_RetryLater, _GiveUp):
            raise
        except InvalidStatus as e:
            status = e.response.status_code
            self._warn_once(
                f"http-{status}",
                f"the hub at {self.url} refused the connection (HTTP {status}"
                f"{': wrong or missing token' if status == 401 else ''}); retrying",
            )
            raise _RetryLater from e
        except InvalidURI as e:
            raise _GiveUp(f"bad hub URL {self.url!r}: {e}") from e
        except (ConnectionClosed, OSError, TimeoutError, InvalidHandshake) as e:
            if not entered and not self._warned_unreachable:
                self._warned_unreachable = True
                log.warning(
                    "lossradar: cannot reach the hub at %s (%s); retrying in the background, rows are kept",
                    self.url,
                    e,
                )
            raise _RetryLater from e

    def _end_settled(self) -> bool:
        with self._lock:
            return self.end_delivered and not self._pending and not self._inflight

    def _backoff(self, attempt: int) -> None:
        delay = min(self.backoff_max, self.backoff_initial * (2**attempt))
        delay *= random.uniform(0.8, 1.2)
        if self._closing:
            # The wake event stays set once closing: sleep instead, bounded by the deadline.
            time.sleep(min(delay, max(0.0, self._close_deadline - time.monotonic())))
            return
        self._wake.wait(delay)
        self._wake.clear()

    def _hello(self) -> str:
        return hello_frame(
            name=self._name,
            config=self._config,
            run_id=self.run_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            device=self._device,
            rank=self._rank,
            sdk_version=self._sdk_version,
        )

    def _session(self, ws: ClientConnection) -> bool:
        """One connection. ``True`` when the run is finished (end sent and rows acknowledged)."""
        ws.send(self._hello())
        deadline = time.monotonic() + self.welcome_timeout
        welcome: dict[str, Any] | None = None
        while welcome is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _RetryLater("no welcome")
            try:
                text = ws.recv(timeout=min(remaining, 0.2))
            except TimeoutError:
                continue
            frame = parse_hub_frame(text)
            if frame is None:
                continue
            if frame["type"] == "welcome":
                welcome = frame
            else:
                self._handle(frame)
        self._on_welcome(welcome)
        self.connected = True
        self.welcomed.set()

        last_send = 0.0
        end_sent_at: float | None = None
        last_ack_at = time.monotonic()
        while True:
            now = time.monotonic()
            closing = self._closing
            if closing or now - last_send >= self.batch_interval:
                self._send_rows(ws)
                self._send_frames(ws)
                last_send = now
            if closing and end_sent_at is None and self._all_sent():
                assert self._end is not None
                ws.send(dumps(self._end))
                end_sent_at = time.monotonic()
            if end_sent_at is not None:
                with self._lock:
                    settled = not self._inflight and not self._pending
                # The hub flushes at most 250 ms apart; a row it refused is never acknowledged.
                quiet = time.monotonic() - max(end_sent_at, last_ack_at)
                if settled or quiet > 2.0:
                    self.end_delivered = True
                    return True
            if closing and time.monotonic() >= self._close_deadline:
                return True
            wait = self.batch_interval - (time.monotonic() - last_send)
            if closing:
                wait = min(wait, 0.05)
            try:
                text = ws.recv(timeout=max(0.005, wait))
            except TimeoutError:
                continue
            frame = parse_hub_frame(text)
            if frame is not None:
                if frame["type"] == "ack":
                    last_ack_at = time.monotonic()
                self._handle(frame)

    def _all_sent(self) -> bool:
        with self._lock:
            return not self._pending and not self._frames

    def _on_welcome(self, welcome: Mapping[str, Any]) -> None:
        run_id = welcome.get("runId")
        last_seq = welcome.get("lastSeq")
        last = last_seq if isinstance(last_seq, int) else None
        with self._lock:
            if isinstance(run_id, str) and self.run_id is None:
                self.run_id = run_id
            if self._base is None:
                # A run resumed from another process already holds seqs up to lastSeq: ours follow.
                self._base = 0 if last is None else last + 1
            base = self._base
            keep = collections.deque(e for e in (*self._inflight, *self._pending) if last is None or base + e.n > last)
            self._inflight.clear()
            self._pending = keep

    def _send_rows(self, ws: ClientConnection) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    return
                assert self._base is not None
                batch: list[QueuedRow] = []
                size = 0
                while self._pending and len(batch) < _ROWS_PER_FRAME:
                    entry = self._pending[0]
                    if batch and entry.n != batch[-1].n + 1:
                        break  # a dropped row leaves a gap: a frame carries consecutive seqs
                    enc = entry.encode()
                    if batch and size + len(enc) > _FRAME_BUDGET_BYTES:
                        break
                    size += len(enc) + 1
                    batch.append(self._pending.popleft())
                    self._inflight.append(entry)
                dropped = self._dropped_unreported
                self._dropped_unreported = 0
                seq = self._base + batch[0].n
            try:
                ws.send(scalars_frame_from_encoded(seq, dropped, [e.encoded or e.encode() for e in batch]))
            except BaseException:
                with self._lock:
                    self._dropped_unreported += dropped
                raise

    def _send_frames(self, ws: ClientConnection) -> None:
        while True:
            with self._lock:
                if not self._frames:
                    return
                frame = self._frames.popleft()
            try:
                ws.send(dumps(frame))
            except BaseException:
                with self._lock:
                    self._frames.appendleft(frame)
                raise

    def _handle(self, frame: Mapping[str, Any]) -> None:
        kind = frame.get("type")
        if kind == "ack":
            seq = frame.get("seq")
            if isinstance(seq, int):
                with self._lock:
                    if self._base is not None:
                        n = seq - self._base
                        while self._inflight and self._inflight[0].n <= n:
                            self._inflight.popleft()
        elif kind == "command":
            command = frame.get("command")
            if isinstance(command, str) and self._on_command is not None:
                try:
                    self._on_command(command)
                except Exception:
                    log.exception("lossradar: command handler failed")
        elif kind == "error":
            code = str(frame.get("code"))
            message = str(frame.get("message"))
            self._warn_once(code, f"the hub refused a frame ({code}): {message}")
            if code == "run-busy":
                raise _RetryLater(code)
            if code == "protocol-version":
                raise _GiveUp(f"the hub speaks another protocol version: {message}")
            if code == "bad-run-id":
                raise _RetryLater(code)

    def _warn_once(self, code: str, message: str) -> None:
        if code not in self._seen_errors:
            self._seen_errors.add(code)
            log.warning("lossradar: %s", message)


def rows_for_fallback(rows: Iterable[QueuedRow]) -> list[QueuedRow]:
    return sorted(rows, key=lambda r: r.n)
