"""Batches of pure work handed, one after another, to one long-lived forked child.

Intake writes each filed group's feedback while it files the next group. A child forked
per group cost the intake process a fork of all its memory (about 480 MiB) each time, and
a wait whenever the child of one group was still writing when the next was filed. One
child, forked at the first batch and fed later batches through a pipe as they come, costs
one fork, and this process waits only for what is still being written when it asks. As in
`transforms.forked`, the answer never depends on the child: whatever it does not deliver
(it crashed, was killed, an answer would not pickle) is computed again in this process.
"""

from __future__ import annotations

import collections
import logging
import os
import pickle
import select
import signal
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from transforms.forked import available_cores, keep_records, write_all

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

_LENGTH = 8  # each message is its length (8 bytes, little-endian) then a pickle


def _framed(payload: bytes) -> bytes:
    return len(payload).to_bytes(_LENGTH, "little") + payload


def _read_exactly(fd: int, n: int) -> bytes | None:
    """`n` bytes from a blocking `fd`; None at its end (or a short message)."""
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _waiting(fd: int, timeout_ms: int) -> bool:
    """Whether `fd` has something to read (or its end), within `timeout_ms`."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(timeout_ms))


def _serve(fn: Callable[[Any], Any], in_fd: int, out_fd: int) -> None:
    """In the child: answer each batch read from `in_fd` until it closes; never returns."""
    code = 0
    try:
        kept = keep_records()
        while (head := _read_exactly(in_fd, _LENGTH)) is not None:
            data = _read_exactly(in_fd, int.from_bytes(head, "little"))
            if data is None:
                break
            answer = [fn(x) for x in pickle.loads(data)]
            records, kept.records = kept.records, []
            try:
                payload = pickle.dumps((answer, records), protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - a record that will not pickle: the answer goes
                payload = pickle.dumps((answer, []), protocol=pickle.HIGHEST_PROTOCOL)
            write_all(out_fd, _framed(payload))
    except BaseException:  # noqa: BLE001 - this process computes what was not delivered
        code = 1
    finally:
        os._exit(code)


class Stream(Generic[T, R]):
    """`[fn(x) for x in batch]` for each batch sent, computed in one forked child.

    `send(batch)` returns a ticket at once; `ready(ticket)` says, without waiting, whether
    its answer has come; `take(ticket)` waits for it. The child is forked at the first batch
    worth sending. With `fork=False` or one available core, each batch is computed as it is
    sent, here. `close()` (after the last `take`) lets the child finish and reaps it; on an
    error, `close(kill=True)` ends it at once.
    """

    def __init__(self, fn: Callable[[T], R], *, fork: bool = True) -> None:
        self._fn = fn
        self._fork = fork and available_cores() > 1
        self._child: tuple[int, int, int] | None = None  # pid, its input's and answer's pipes
        self._items: dict[int, Sequence[T]] = {}  # sent to the child, not yet answered
        self._flying: collections.deque[int] = collections.deque()  # their tickets, in order
        self._answers: dict[int, list[R]] = {}
        self._buffer = bytearray()
        self._tickets = 0

    def send(self, batch: Sequence[T]) -> int:
        """Hand `batch` over (to the child, when there is one); its ticket."""
        ticket, self._tickets = self._tickets, self._tickets + 1
        if batch and self._fork and self._child is None:
            self._start()
        if not batch or self._child is None:
            self._answers[ticket] = [self._fn(x) for x in batch]
            return ticket
        try:
            frame = _framed(pickle.dumps(list(batch), protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, TypeError, AttributeError):
            self._answers[ticket] = [self._fn(x) for x in batch]
            return ticket
        self._items[ticket] = batch
        self._flying.append(ticket)
        self._write(frame)
        return ticket

    def ready(self, ticket: int) -> bool:
        """Whether `take(ticket)` would return without waiting for the child."""
        if ticket in self._flying and self._child is not None and _waiting(self._child[2], 0):
            self._read_some()
        return ticket not in self._flying

    def take(self, ticket: int) -> list[R]:
        """The answer to the batch sent with `ticket`, in order (waiting for it)."""
        while ticket in self._flying and self._child is not None:
            self._read_some()
        if ticket in self._answers:
            self._items.pop(ticket, None)
            return self._answers.pop(ticket)
        log.warning("a forked child did not deliver its share; computing it here")
        if ticket in self._flying:
            self._flying.remove(ticket)
        return [self._fn(x) for x in self._items.pop(ticket)]

    def close(self, *, kill: bool = False) -> None:
        """End the child: at once with `kill`, else once it has answered what it was sent."""
        if self._child is None:
            return
        pid, in_fd, out_fd = self._child
        if in_fd >= 0:
            os.close(in_fd)
            self._child = (pid, -1, out_fd)
        if kill:
            os.kill(pid, signal.SIGKILL)
        else:
            while self._child is not None:
                self._read_some()
        self._stop()

    # ------------------------------------------------------------ the child's pipes
    def _start(self) -> None:
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to spare: the batches are computed here instead
            for fd in (in_read, in_write, out_read, out_write):
                os.close(fd)
            log.warning("could not fork a child; the work will be done in this process")
            self._fork = False
            return
        if pid == 0:
            os.close(in_write)
            os.close(out_read)
            _serve(self._fn, in_read, out_write)
        os.close(in_read)
        os.close(out_write)
        os.set_blocking(in_write, False)  # so that a full pipe never holds up this process
        self._child = (pid, in_write, out_read)

    def _write(self, frame: bytes) -> None:
        """Write `frame` to the child, taking its answers meanwhile (neither pipe may fill
        while the other waits)."""
        view = memoryview(frame)
        while view and self._child is not None:
            _, in_fd, out_fd = self._child
            poller = select.poll()
            poller.register(out_fd, select.POLLIN)
            poller.register(in_fd, select.POLLOUT)
            events = dict(poller.poll())
            if out_fd in events:
                self._read_some()
            elif in_fd in events:
                try:
                    view = view[os.write(in_fd, view) :]
                except BlockingIOError:
                    continue
                except OSError:  # the child has gone: what it was sent is computed here
                    self._stop(kill=True)

    def _read_some(self) -> None:
        """Read what the child has written (waiting for some) and take its whole answers."""
        assert self._child is not None
        data = os.read(self._child[2], 1 << 20)
        if not data:
            self._stop()
            return
        self._buffer += data
        while len(self._buffer) >= _LENGTH:
            end = _LENGTH + int.from_bytes(self._buffer[:_LENGTH], "little")
            if len(self._buffer) < end:
                return
            payload = bytes(self._buffer[_LENGTH:end])
            del self._buffer[:end]
            self._answered(payload)

    def _answered(self, payload: bytes) -> None:
        ticket = self._flying[0]
        try:
            answer, records = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a corrupt answer: the rest is computed here
            self._stop(kill=True)
            return
        if not isinstance(answer, list) or len(answer) != len(self._items[ticket]):
            self._stop(kill=True)
            return
        for record in records:
            logging.getLogger(record.name).handle(record)
        self._flying.popleft()
        self._answers[ticket] = answer

    def _stop(self, *, kill: bool = False) -> None:
        """Reap the child and close its pipes; what it did not answer is computed here."""
        if self._child is None:
            return
        pid, in_fd, out_fd = self._child
        self._child = None
        self._fork = False  # one child per stream: a second would fork this process again
        if kill:
            os.kill(pid, signal.SIGKILL)
        for fd in (in_fd, out_fd):
            if fd >= 0:
                os.close(fd)
        os.waitpid(pid, 0)
        self._buffer.clear()
