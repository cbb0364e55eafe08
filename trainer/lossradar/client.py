"""The hub client: one background thread speaking wire protocol v1 over a WebSocket.

Built on ``websockets.sync.client.connect`` (threaded, pure Python when its C speed-ups are
absent, so the VSIX can vendor it). The training thread only appends to a bounded queue; everything
else happens here:

* the run id is the SDK's own, sent in ``hello.runId`` (the hub creates the run with it or resumes
  it), so it is known before the hub answers; a ``welcome`` naming another run is a protocol error;
* rows are sent in ``scalars`` frames at most ``batch_interval`` (100 ms) apart, each frame a run of
  consecutive sequence numbers (``seq`` of ``rows[0]``; ``rows[i]`` has ``seq + i``), at most
  1 000 rows and about 512 KiB;
* a row stays in memory until the hub acknowledges it (``{"type":"ack","seq":n}``): after a
  reconnect the client re-sends every row whose seq is above ``welcome.lastSeq``; the hub drops
  what it already has, so a hub restart loses and duplicates nothing;
* when the queue is full the oldest row is evicted (a row carrying a non-finite value is kept while
  any finite one can go instead). A row never sent is then lost for sure and counted as dropped. A
  row sent but not yet acknowledged is most likely on the hub's disk: it is only *uncertain* until an
  ack covers it (stored) or the next ``welcome`` says (stored when ``lastSeq`` reaches it, dropped
  otherwise). The count of dropped rows travels in the next frame's ``dropped``, so the hub's
  ``droppedRows`` is the number of rows missing from its run;
* reconnects back off exponentially (0.1 s doubling to 5 s, with jitter; the delay starts over once
  a connection got an ack); ``run-busy`` and ``backpressure`` (close 4507: the hub's store cannot
  keep up) are retried the same way, the unacknowledged rows kept;
* every frame from the hub is validated (:func:`~lossradar.encoding.parse_hub_frame`): a malformed
  ``welcome`` makes the client give up on that hub (the rows go to the local store at the end), any
  other malformed frame is ignored; ``command`` frames (validated, with their arguments) go to a
  callback; problems are logged once per code.

The training thread never waits behind the network: it appends to a deque under a lock that only
other logging threads take; the queue lock is taken only to evict from a full queue, and the
network thread holds it for a slice of deque operations at a time, never while encoding or sending.
Encoding is row by row, so that the interpreter can switch threads between rows, and the network
thread sleeps briefly between slices of a long backlog to hand the GIL back.

Standard library + ``websockets`` only (no torch).
"""

from __future__ import annotations

import bisect
import collections
import functools
import inspect
import itertools
import logging
import math
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI
from websockets.sync.client import ClientConnection, connect

from .encoding import (
    MAX_ROWS_PER_FRAME,
    HubProtocolError,
    capabilities_frame,
    dumps,
    encode_values,
    end_frame,
    hello_frame,
    parse_hub_frame,
    scalars_frame_from_encoded,
    valid_run_id,
)
from .local import new_run_id

log = logging.getLogger("lossradar")

#: Encoded size of one ``scalars`` frame's rows before the client starts a new frame (the hub's
#: limit is 4 MiB per frame).
_FRAME_BUDGET_BYTES = 512 * 1024
_ROWS_PER_FRAME = MAX_ROWS_PER_FRAME

#: How far the drop-oldest policy looks for a finite row to drop instead of a non-finite one.
_PRECIOUS_SCAN = 256
#: Rows the network thread moves per hold of the queue lock (a few microseconds of deque work).
_SLICE = 256
#: Rows encoded between two short sleeps of the network thread while it works through a backlog:
#: a thread waiting for the GIL would otherwise wait for the interpreter's 5 ms switch interval.
_YIELD_EVERY = 64
_YIELD_SECONDS = 0.0001

#: The hub closes with this code after an ``error`` of code ``backpressure``.
CLOSE_BACKPRESSURE = 4507

_SUPPORTS_PROXY = "proxy" in inspect.signature(connect).parameters


@functools.lru_cache(maxsize=1024)
@functools.lru_cache(maxsize=1024)
def _source_json(source: tuple[str, int]) -> str:
    # A training loop logs from a handful of lines: each one's JSON is built once.
    return ',"source":' + dumps({"file": source[0], "line": source[1]})


def _float_json(x: float) -> str:
    if not math.isfinite(x):
        raise ValueError(f"row time {x!r} is not finite")
    return repr(float(x))


#: A queued row: ``(n, step, time, names, values, source, rank, precious)``. ``n`` is the client's
#: own row counter (the wire seq is ``base + n``, ``base`` fixed by the first ``welcome``);
#: ``names`` and ``values`` are tuples (consecutive rows share one tuple of names); ``precious``
#: marks a row carrying a non-finite value. Nothing but tuples of atomic values, never a dict or an
#: object: the cyclic GC stops tracking such a tuple the first time it sees it, so that a full queue
#: costs the user's collections nothing, where 20 000 tracked rows made every full collection of
#: the training process some 20 ms longer.
Row = tuple[int, int, float, tuple[str, ...], tuple[float, ...], "tuple[str, int] | None", "int | None", bool]
_N: Final = 0
_STEP: Final = 1
_TIME: Final = 2
_NAMES: Final = 3
_VALUES: Final = 4
_SOURCE: Final = 5
_RANK: Final = 6
_PRECIOUS: Final = 7


def encode_row(row: Row) -> str:
    """The row as JSON (rows are encoded on the network thread, each time they are sent)."""
    values = dict(zip(row[_NAMES], row[_VALUES], strict=True))
    # A row of finite floats is JSON as it is; only a non-finite value needs its string.
    text = f'{{"step":{row[_STEP]},"time":{_float_json(row[_TIME])},"values":'
    text += dumps(encode_values(values) if row[_PRECIOUS] else values)
    source = row[_SOURCE]
    if source is not None:
        text += _source_json(source)
    if row[_RANK] is not None:
        text += f',"rank":{row[_RANK]}'
    return text + "}"


@dataclass(slots=True)
class QueuedRow:
    """A row the hub did not acknowledge, as :meth:`HubClient.undelivered` hands it over."""

    n: int
    step: int
    time: float
    values: dict[str, float]
    source: tuple[str, int] | None
    rank: int | None


class _Counters:
    """A set of row counters kept as sorted, disjoint, inclusive ranges: the rows evicted while
    unacknowledged go in mostly in order, so a full queue's worth costs a few ranges."""

    __slots__ = ("_ranges", "count")

    def __init__(self) -> None:
        self._ranges: list[list[int]] = []
        self.count = 0

    def add(self, n: int) -> None:
        ranges = self._ranges
        if ranges and ranges[-1][1] + 1 == n:
            ranges[-1][1] = n
        elif not ranges or n > ranges[-1][1]:
            ranges.append([n, n])
        else:
            i = bisect.bisect_right(ranges, n, key=lambda r: r[0])
            if i > 0 and ranges[i - 1][1] >= n:
                return  # already there
            joins_left = i > 0 and ranges[i - 1][1] + 1 == n
            joins_right = i < len(ranges) and ranges[i][0] - 1 == n
            if joins_left and joins_right:
                ranges[i - 1][1] = ranges[i][1]
                del ranges[i]
            elif joins_left:
                ranges[i - 1][1] = n
            elif joins_right:
                ranges[i][0] = n
            else:
                ranges.insert(i, [n, n])
        self.count += 1

    def remove_through(self, n: int) -> int:
        """Forgets every counter ≤ ``n``; returns how many there were."""
        ranges = self._ranges
        removed = 0
        k = 0
        while k < len(ranges) and ranges[k][1] <= n:
            removed += ranges[k][1] - ranges[k][0] + 1
            k += 1
        del ranges[:k]
        if ranges and ranges[0][0] <= n:
            removed += n - ranges[0][0] + 1
            ranges[0][0] = n + 1
        self.count -= removed
        return removed

    def clear(self) -> int:
        removed = self.count
        self._ranges.clear()
        self.count = 0
        return removed


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
        on_command: Callable[[Mapping[str, Any]], None] | None = None,
        tags: Sequence[str] = (),
    ) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be ≥ 1")
        if run_id is not None and not valid_run_id(run_id):
            raise ValueError(f"run_id {run_id!r} must match ^[A-Za-z0-9][A-Za-z0-9._-]{{0,127}}$")
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
        self._tags = list(tags)

        #: Orders rows between logging threads (only they take it).
        self._submit_lock = threading.Lock()
        #: Guards the queues' heads and the counters below; held for short slices only.
        self._lock = threading.Lock()
        #: Guards _frames (one deque operation at a time).
        self._frames_lock = threading.Lock()
        self._trainer_waiting = False
        self._wake = threading.Event()
        # Rows sent on some connection and not acknowledged, then rows to send; every n in
        # _inflight is below every n in _pending. Logging threads append to _pending without _lock
        # (deque appends are atomic); everything else holds it.
        self._pending: collections.deque[Row] = collections.deque()
        self._inflight: collections.deque[Row] = collections.deque()
        self._frames: collections.deque[dict[str, Any]] = collections.deque()
        self._next_n = 0
        self._names: tuple[str, ...] = ()
        #: Every row with ``n`` up to this is on the hub's disk (acknowledged or below lastSeq).
        self._stored_n = -1
        #: The highest ``n`` ever sent: rows go out in order, so a queued row above it never went.
        self._sent_hi = -1
        #: Set from a welcome until the rows of the connections before it are queued to go again:
        #: meanwhile _inflight holds rows the new connection has not carried.
        self._requeueing = False
        #: Rows evicted while unacknowledged: neither known stored nor known lost.
        self._uncertain = _Counters()
        self._dropped_unreported = 0
        self.dropped_total = 0
        self._base: int | None = None
        #: The run's id, chosen here when the caller gave none (the hub's own shape).
        self.run_id: str = run_id if run_id is not None else new_run_id(name)
        self.welcomed = threading.Event()
        self.connected = False
        self.connections = 0
        self.gave_up: str | None = None
        self._seen_errors: set[str] = set()
        self._warned_unreachable = False
        self._progress = False
        self._end: dict[str, Any] | None = None
        self._closing = False
        self._close_deadline = 0.0
        self.end_delivered = False
        self._thread = threading.Thread(target=self._main, name="lossradar-client", daemon=True)
        #: Guards the thread's start and the configuration the hello carries.
        self._start_lock = threading.Lock()
        self._hello_sent = False
        self._capabilities: dict[str, Any] | None = None
        #: Set by ``start(lazy=True)`` until the first row, frame or close starts the thread.
        self._lazy = False

    # ---------------------------------------------------------------- training-thread side

    def start(self, *, lazy: bool = False) -> None:
        """Starts the network thread now, or (``lazy``) with the first row, frame or :meth:`close`:
        until then :meth:`update_config` changes what the hello carries."""
        if lazy:
            self._lazy = True
            return
        self._start_now()

    def _start_now(self) -> None:
        with self._start_lock:
            self._lazy = False
            if self._thread.ident is None:  # never started
                self._thread.start()

    def set_capabilities(self, capabilities: Mapping[str, Any]) -> None:
        """What the run can do when asked, for this and every later hello; sent at once in a
        ``capabilities`` frame when the hello has gone (docs/protocol.md)."""
        with self._start_lock:
            self._capabilities = dict(capabilities)
            sent = self._hello_sent
        if sent:
            self.submit_frame(capabilities_frame(capabilities))

    def update_config(self, config: Mapping[str, Any] | None) -> bool:
        """The configuration later hellos carry; ``True`` when no hello has gone yet, so that the
        hub creates the run with it (a resumed run keeps the configuration it was created with)."""
        with self._start_lock:
            self._config = config
            return not self._hello_sent

    def submit_row(
        self,
        step: int,
        t: float,
        values: dict[str, float],
        source: tuple[str, int] | None,
        rank: int | None,
    ) -> None:
        if self._lazy:
            self._start_now()
        names = tuple(values)
        numbers = tuple(values.values())
        # A sum is non-finite when a term is (or, harmlessly, when finite terms overflow).
        precious = not math.isfinite(sum(numbers))
        with self._submit_lock:
            if self._closing and self._end is not None and not self._thread.is_alive():
                return
            if names == self._names:
                names = self._names
            else:
                self._names = names
            if len(self._pending) + len(self._inflight) >= self.max_queue:
                self._make_room()
            self._pending.append((self._next_n, step, t, names, numbers, source, rank, precious))
            self._next_n += 1

    def submit_frame(self, frame: dict[str, Any]) -> None:
        if self._lazy:
            self._start_now()
        with self._frames_lock:
            while len(self._frames) >= self.max_frames:
                self._frames.popleft()
            self._frames.append(frame)

    def _make_room(self) -> None:
        if not self._lock.acquire(blocking=False):
            # Said so that the network thread hands the GIL over as soon as it lets go of the lock:
            # else this thread, woken with the lock, would wait the interpreter's 5 ms switch interval.
            self._trainer_waiting = True
            self._lock.acquire()
        try:
            while len(self._pending) + len(self._inflight) >= self.max_queue:
                self._evict_locked()
        finally:
            self._lock.release()

    def _evict_locked(self) -> None:
        # The oldest go first: those sent and unacknowledged, which the hub most likely has already.
        for queue in (self._inflight, self._pending):
            for i, row in enumerate(itertools.islice(queue, _PRECIOUS_SCAN)):
                if not row[_PRECIOUS]:
                    del queue[i]
                    self._forget_locked(row[_N], queue is self._inflight)
                    return
        # Only rows with non-finite values near the head: the oldest goes all the same.
        queue = self._inflight or self._pending
        self._forget_locked(queue.popleft()[_N], queue is self._inflight)

    def _forget_locked(self, n: int, in_flight: bool) -> None:
        if n <= self._stored_n:
            return  # on the hub's disk already
        if in_flight and not self._requeueing:
            self._uncertain.add(n)  # sent on this connection: the hub may well have it
        else:
            self._count_drops_locked(1)

    def _count_drops_locked(self, n: int) -> None:
        self._dropped_unreported += n
        self.dropped_total += n

    def close(self, status: str, error: str | None, timeout: float) -> bool:
        """Sends what is queued and the ``end`` frame; ``True`` when the hub acknowledged every row."""
        end = end_frame(status, error)
        with self._lock:
            self._end = end
            self._closing = True
            self._close_deadline = time.monotonic() + max(0.0, timeout)
        if self._lazy:  # a run that logged nothing is still recorded, with how it ended
            self._start_now()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout + 3.0)
        with self._lock:
            return self.end_delivered and not self._pending and not self._inflight

    def undelivered(self) -> tuple[list[QueuedRow], list[dict[str, Any]], int]:
        """Rows not acknowledged, frames not sent and drops not reported (for the local fallback).
        Rows evicted while unacknowledged and never settled are not counted: the hub most likely
        has them."""
        rows: list[QueuedRow] = []
        for queue in (self._inflight, self._pending):
            while True:
                with self._lock:
                    for _ in range(min(_SLICE, len(queue))):
                        row = queue.popleft()
                        if row[_N] > self._stored_n:
                            values = dict(zip(row[_NAMES], row[_VALUES], strict=True))
                            rows.append(QueuedRow(row[_N], row[_STEP], row[_TIME], values, row[_SOURCE], row[_RANK]))
                    if not queue:
                        break
        with self._frames_lock:
            frames = list(self._frames)
            self._frames.clear()
        with self._lock:
            dropped = self._dropped_unreported
            self._dropped_unreported = 0
        return rows, frames, dropped

    @property
    def queued_rows(self) -> int:
        return len(self._pending) + len(self._inflight)

    @property
    def uncertain_rows(self) -> int:
        """Rows evicted before the hub acknowledged them and not yet known stored or lost."""
        return self._uncertain.count

    # ---------------------------------------------------------------- background thread

    def _main(self) -> None:
        attempt = 0
        while True:
            if self._closing and time.monotonic() >= self._close_deadline:
                return
            self._progress = False
            try:
                if self._attempt():
                    return
            except _GiveUp as e:
                # Said before it is set: whoever sees gave_up can count on the warning being out.
                log.warning("lossradar: giving up on the hub at %s: %s", self.url, e)
                self.gave_up = str(e)
                return
            except _RetryLater:
                pass
            finally:
                self.connected = False
            if self._closing and self._end_settled():
                return
            # A connection that got an ack worked: the next outage starts its backoff afresh. One
            # that the hub refuses again and again (backpressure, run-busy) backs off further.
            attempt = 0 if self._progress else attempt
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
        except ConnectionClosed as e:
            if e.rcvd is not None and e.rcvd.code == CLOSE_BACKPRESSURE:
                self._warn_backpressure(e.rcvd.reason)
            elif not entered:
                self._warn_unreachable(e)
            raise _RetryLater from e
        except (OSError, TimeoutError, InvalidHandshake) as e:
            if not entered:
                self._warn_unreachable(e)
            raise _RetryLater from e

    def _warn_unreachable(self, e: BaseException) -> None:
        if not self._warned_unreachable:
            self._warned_unreachable = True
            log.warning(
                "lossradar: cannot reach the hub at %s (%s); retrying in the background, rows are kept", self.url, e
            )

    def _warn_backpressure(self, message: str) -> None:
        self._warn_once(
            "backpressure",
            f"the hub's store cannot keep up ({message or 'backpressure'}); unacknowledged rows are kept "
            f"(up to max_queue={self.max_queue}) and re-sent after reconnecting",
        )

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
        with self._start_lock:
            self._hello_sent = True
            config = self._config
            capabilities = self._capabilities
        return hello_frame(
            name=self._name,
            config=config,
            run_id=self.run_id,
            host=socket.gethostname(),
            pid=os.getpid(),
            device=self._device,
            rank=self._rank,
            sdk_version=self._sdk_version,
            capabilities=capabilities,
            tags=self._tags,
        )

    def _parse(self, text: str | bytes) -> dict[str, Any] | None:
        try:
            return parse_hub_frame(text)
        except HubProtocolError as e:
            self._warn_once("protocol", f"the hub at {self.url} sent a malformed frame, ignored: {e}")
            return None

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
            try:
                frame = parse_hub_frame(text)
            except HubProtocolError as e:
                if e.kind == "welcome":
                    # Nothing of it is used (its run id never becomes a path): not a hub to talk to.
                    raise _GiveUp(f"the hub sent an invalid welcome: {e}") from e
                self._warn_once("protocol", f"the hub at {self.url} sent a malformed frame, ignored: {e}")
                continue
            if frame is None:
                continue
            if frame["type"] == "welcome":
                welcome = frame
            else:
                self._handle(frame)
        if welcome["runId"] != self.run_id:
            raise _GiveUp(f"the hub welcomed run {welcome['runId']!r} in answer to a hello for {self.run_id!r}")
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
            frame = self._parse(text)
            if frame is not None:
                if frame["type"] == "ack":
                    last_ack_at = time.monotonic()
                self._handle(frame)

    def _all_sent(self) -> bool:
        return not self._pending and not self._frames and not self._dropped_unreported

    def _yield_gil(self) -> None:
        # A logging thread blocked on the lock now waits for the GIL: give it over at once.
        if self._trainer_waiting:
            self._trainer_waiting = False
            time.sleep(_YIELD_SECONDS)

    def _on_welcome(self, welcome: Mapping[str, Any]) -> None:
        last: int | None = welcome["lastSeq"]
        with self._lock:
            if self._base is None:
                # A run resumed from another process already holds seqs up to lastSeq: ours follow.
                self._base = 0 if last is None else last + 1
            last_n = -1 if last is None else last - self._base
            self._requeueing = True
            # What the hub has is settled; what it was sent and lost is dropped for sure now.
            self._uncertain.remove_through(last_n)
            self._count_drops_locked(self._uncertain.clear())
            self._stored_n = max(self._stored_n, last_n)
        self._discard_stored()
        # Rows sent on an earlier connection and not on the hub's disk go out again first.
        while True:
            with self._lock:
                for _ in range(min(_SLICE, len(self._inflight))):
                    self._pending.appendleft(self._inflight.pop())
                done = not self._inflight
                self._requeueing = not done
            self._yield_gil()
            if done:
                break
        self._discard_stored()

    def _discard_stored(self) -> None:
        """Forgets the rows at the head of the queue that the hub has, a slice at a time."""
        while True:
            with self._lock:
                k = 0
                while k < _SLICE:
                    queue = self._inflight or self._pending
                    if not queue or queue[0][_N] > self._stored_n:
                        break
                    self._discarded_locked(queue.popleft()[_N])
                    k += 1
            self._yield_gil()
            if k < _SLICE:
                return

    def _discarded_locked(self, n: int) -> None:
        if n > self._sent_hi:
            # Never sent, yet the hub has its seq: another process wrote to the run meanwhile.
            self._count_drops_locked(1)

    def _take_rows(self, limit: int) -> list[Row]:
        """Up to ``limit`` (≤ one slice) rows of consecutive counters, moved to the in-flight queue."""
        with self._lock:
            pending = self._pending
            chunk: list[Row] = []
            looked = 0
            while pending and len(chunk) < limit and looked < _SLICE:
                looked += 1
                n = pending[0][_N]
                if n <= self._stored_n:
                    self._discarded_locked(pending.popleft()[_N])  # the hub has it already
                    continue
                if chunk and n != chunk[-1][_N] + 1:
                    break  # a dropped row leaves a gap: a frame carries consecutive seqs
                row = pending.popleft()
                self._inflight.append(row)
                chunk.append(row)
            if chunk:
                self._sent_hi = max(self._sent_hi, chunk[-1][_N])
        self._yield_gil()
        return chunk

    def _send_rows(self, ws: ClientConnection) -> None:
        assert self._base is not None
        base = self._base
        rows: list[str] = []
        first = 0
        size = 0
        encoded = 0

        def flush() -> None:
            nonlocal size
            with self._lock:
                dropped = self._dropped_unreported
                self._dropped_unreported = 0
            self._yield_gil()
            try:
                if rows:
                    ws.send(scalars_frame_from_encoded(base + first, dropped, rows))
                elif dropped:
                    # Drops settled with nothing left to send still have to reach the hub.
                    ws.send(scalars_frame_from_encoded(None, dropped, []))
            except BaseException:
                with self._lock:
                    self._dropped_unreported += dropped
                raise
            rows.clear()
            size = 0

        while True:
            chunk = self._take_rows(min(_SLICE, _ROWS_PER_FRAME - len(rows)) if rows else _SLICE)
            if not chunk:
                pending = self._pending
                if pending and pending[0][_N] <= self._stored_n:
                    continue  # a slice of rows the hub has was skipped: more may follow
                flush()
                return
            if rows and chunk[0][_N] != first + len(rows):
                flush()
            for row in chunk:
                text = encode_row(row)
                if rows and (len(rows) >= _ROWS_PER_FRAME or size + len(text) + 1 > _FRAME_BUDGET_BYTES):
                    flush()
                if not rows:
                    first = row[_N]
                rows.append(text)
                size += len(text) + 1
                encoded += 1
                if encoded % _YIELD_EVERY == 0:
                    time.sleep(_YIELD_SECONDS)
            if len(rows) >= _ROWS_PER_FRAME:
                flush()

    def _send_frames(self, ws: ClientConnection) -> None:
        while True:
            with self._frames_lock:
                if not self._frames:
                    return
                frame = self._frames.popleft()
            try:
                ws.send(dumps(frame))
            except BaseException:
                with self._frames_lock:
                    self._frames.appendleft(frame)
                raise

    def _on_ack(self, seq: int) -> None:
        with self._lock:
            if self._base is None:
                return
            n = seq - self._base
            if n > self._sent_hi:
                self._warn_once("ack", f"the hub at {self.url} acknowledged seq {seq}, never sent; ignored")
                return
            if n <= self._stored_n:
                return
            self._stored_n = n
            self._uncertain.remove_through(n)
        self._yield_gil()
        self._progress = True
        self._discard_stored()

    def _handle(self, frame: Mapping[str, Any]) -> None:
        kind = frame["type"]
        if kind == "ack":
            self._on_ack(frame["seq"])
        elif kind == "command":
            if self._on_command is not None:
                try:
                    self._on_command(frame)
                except Exception:
                    log.exception("lossradar: command handler failed")
        elif kind == "error":
            code: str = frame["code"]
            message: str = frame["message"]
            if code == "backpressure":
                self._warn_backpressure(message)
                raise _RetryLater(code)
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
