"""Reading untrusted workbooks in a child process, so no file can take the run down with it.

A reader that loops, blows up memory or aborts natively (a C extension) costs the file it
was reading, never the intake: the file gets a finding and every other file is filed. One
child reads the files of a batch one after another (forking per file cost about 35 ms a
file, three times the whole read); it runs under an address-space limit, and the parent
waits at most `timeout_s` for each answer. A child that overruns, runs out of memory or dies
is replaced by a fresh one, and the file is tried once more before it gets its finding.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)

MEMORY = "reading it needed more memory than a return can"


@dataclass(frozen=True)
class Sandbox:
    """Limits for reading files in a child: wall-clock time per file, address space.

    `memory_bytes` is the child's whole address-space limit; `extra_bytes`, when given,
    is instead a limit on what the child may add to the address space it starts with (a
    parent that has loaded GX and Prefect already maps gigabytes it does not use, so only
    a relative limit means the same everywhere). A file whose read times out, runs out of
    memory or kills the child is tried once more in a fresh child, then gets a finding.
    """

    timeout_s: float = 60.0
    memory_bytes: int | None = 2_000_000_000
    extra_bytes: int | None = None
    attempts: int = 2


# What intake and `datasummary check` use: no file may take the run down with it.
INTAKE_SANDBOX = Sandbox(timeout_s=60.0, memory_bytes=None, extra_bytes=1_000_000_000)


def address_space_bytes() -> int:
    """This process's current address space (Linux; 0 where unknown)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _limit_address_space(sandbox: Sandbox) -> None:
    import resource

    limit = sandbox.memory_bytes
    if sandbox.extra_bytes is not None:
        limit = address_space_bytes() + sandbox.extra_bytes
    if limit is not None:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)  # a cap set from outside still holds
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _child(conn: Any, read: Callable[..., Any], sandbox: Sandbox) -> None:
    """Read each (path, kwargs) sent until told to stop; answer each with one message."""
    _limit_address_space(sandbox)
    while True:
        job = conn.recv()
        if job is None:
            break
        path, kwargs = job
        try:
            conn.send(("done", read(path, **kwargs)))
        except MemoryError:
            conn.send(("memory", None))
            break  # a fresh child for the next file: this one's heap is not to be trusted
        except BaseException as exc:  # noqa: BLE001 - told to the parent, which files a finding
            conn.send(("failed", type(exc).__name__))
    conn.close()


class SandboxedReader:
    """`read(path, **kwargs)` run in a child process within a `Sandbox`'s limits.

    Use as a context manager (the child is stopped on exit). `__call__` gives the result,
    or None and a plain-words reason when every attempt failed. The child is a plain
    `os.fork` (multiprocessing refuses children to daemonic processes such as Dask workers,
    where the national run's intake runs).
    """

    def __init__(self, read: Callable[..., Any], sandbox: Sandbox) -> None:
        self.read = read
        self.sandbox = sandbox
        #: Called before each fork: a caller running a thread (an import) makes it finish
        #: first, so no child starts with a lock that thread holds.
        self.before_fork: Callable[[], None] | None = None
        self._pid: int | None = None
        self._conn: Any = None

    def __enter__(self) -> SandboxedReader:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __call__(self, path: Path, **kwargs: Any) -> tuple[Any, str]:
        detail = ""
        for _ in range(max(self.sandbox.attempts, 1)):
            result, detail = self._attempt(path, kwargs)
            if not detail:
                return result, ""
            log.warning("intake: a sandboxed read ended early: %s", detail)
        return None, detail

    def _attempt(self, path: Path, kwargs: dict[str, Any]) -> tuple[Any, str]:
        try:
            self.send(path, kwargs)
        except OSError:
            return self.answer()
        if not self._conn.poll(self.sandbox.timeout_s):
            return self.overran()
        return self.answer()

    def send(self, path: Path, kwargs: dict[str, Any]) -> None:
        """Hand the child (started if need be) one file to read; answer with `answer`."""
        if self._pid is None:
            self._start()
        self._conn.send((path, kwargs))

    @property
    def running(self) -> bool:
        """Whether the child is up (it is stopped after a crash, an overrun or no memory)."""
        return self._pid is not None

    @property
    def connection(self) -> Any:
        """The pipe the child answers on (to wait on several children at once)."""
        return self._conn

    def answer(self) -> tuple[Any, str]:
        """The child's answer to the file sent last: (result, "") or (None, what went wrong)."""
        try:
            kind, payload = self._conn.recv()
        except (EOFError, OSError):  # the child died without a word: a native abort or a kill
            code = self._stop(kill=True)
            return None, MEMORY if code in (-6, -9) else f"the reader crashed (signal {-code})"
        if kind == "done":
            return payload, ""
        if kind == "memory":
            self._stop(kill=False)
            return None, MEMORY
        return None, f"the reader failed ({payload})"

    def overran(self) -> tuple[None, str]:
        """Kill a child that has not answered within the time allowed for one file."""
        self._stop(kill=True)
        return None, f"reading it took longer than {self.sandbox.timeout_s:g} seconds"

    def start(self) -> None:
        """Fork the child now (before the caller starts any thread)."""
        if self._pid is None:
            self._start()

    def _start(self) -> None:
        import openpyxl  # noqa: F401 - imported before the fork, not in every child
        import python_calamine  # noqa: F401

        if self.before_fork is not None:
            self.before_fork()

        parent_end, child_end = multiprocessing.Pipe(duplex=True)
        pid = os.fork()
        if pid == 0:  # the child: read until told to stop, then leave without cleanup
            code = 0
            try:
                parent_end.close()
                _child(child_end, self.read, self.sandbox)
            except BaseException:  # noqa: BLE001 - the parent sees the pipe close
                code = 1
            finally:
                os._exit(code)
        child_end.close()
        self._pid, self._conn = pid, parent_end

    def _stop(self, *, kill: bool) -> int:
        """Stop the child (asking first unless `kill`); its exit code (negative: a signal)."""
        pid, conn = self._pid, self._conn
        self._pid = self._conn = None
        if pid is None:
            return 0
        if not kill:
            with contextlib.suppress(OSError):
                conn.send(None)
            status = _wait(pid, timeout_s=5.0)
            if status is not None:
                conn.close()
                return os.waitstatus_to_exitcode(status)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        conn.close()
        return os.waitstatus_to_exitcode(status)

    def close(self) -> None:
        """Stop the child, if one is running."""
        self._stop(kill=False)


def _wait(pid: int, timeout_s: float) -> int | None:
    """The child's wait status once it has exited, or None if it is still running."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            return None
        time.sleep(0.01)


#: Files handed to each child at once: the one it reads and those it reads next while
#: this process is busy (unpickling an answer, importing GX on a thread, which holds the
#: interpreter for up to its switch interval of 5 ms, or, while intake archives, ledgering
#: one folder and hashing the next: a tenth of a second and more). A file takes a child
#: 3-7 ms; with 8 ahead the child reading during arrival sat idle about a third of it.
AHEAD = 64


class _Flight:
    """The files handed to one child, oldest first, and when it could start the oldest."""

    def __init__(self, child: SandboxedReader) -> None:
        self.child = child
        self.jobs: collections.deque[tuple[int, int]] = collections.deque()
        self.started = 0.0

    def hand(self, i: int, attempt: int, jobs: list[tuple[Path, dict[str, Any]]]) -> None:
        """Send job `i` (started if the child is idle)."""
        with contextlib.suppress(OSError):  # a dead child: its `answer` says so
            self.child.send(*jobs[i])
        if not self.jobs:
            self.started = time.monotonic()
        self.jobs.append((i, attempt))

    def landed(self, now: float, queue: collections.deque[tuple[int, int]]) -> tuple[int, int]:
        """The oldest job, answered (or lost); a stopped child's other jobs go back first."""
        job = self.jobs.popleft()
        if not self.child.running:
            queue.extendleft(reversed(self.jobs))
            self.jobs.clear()
        self.started = now
        return job


def _deal(
    flights: list[_Flight], queue: collections.deque[tuple[int, int]], jobs: list[Any]
) -> None:
    """Hand queued jobs to the children one at a time in turn, up to `AHEAD` each, so that
    a short list is shared among them rather than filling the first child."""
    while queue:
        open_ = [f for f in flights if len(f.jobs) < AHEAD]
        if not open_:
            return
        for flight in open_:
            if not queue:
                return
            flight.hand(*queue.popleft(), jobs)


class SandboxedReaders:
    """`read` over many files by up to `processes` sandboxed children at once.

    Each child reads one file at a time within the `Sandbox`'s limits, exactly as one
    `SandboxedReader` does (time per file, memory, a second attempt in a fresh child), and
    the answers come back in the files' order whatever order the children finish in.
    """

    def __init__(self, read: Callable[..., Any], sandbox: Sandbox, processes: int) -> None:
        self.sandbox = sandbox
        self.children = [SandboxedReader(read, sandbox) for _ in range(max(processes, 1))]

    def __enter__(self) -> SandboxedReaders:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for child in self.children:
            child.close()

    def start(self, before_fork: Callable[[], None] | None = None) -> None:
        """Fork every child now; `before_fork` runs before any later fork (a restart)."""
        for child in self.children:
            child.start()
            child.before_fork = before_fork

    def read_all(
        self, jobs: list[tuple[Path, dict[str, Any]]], done: Callable[[int], None] | None = None
    ) -> list[tuple[Any, str]]:
        """(result, "") or (None, what went wrong) for each job, in order; `done(n)` is told
        how many are answered as they come."""
        reading = Reading(self, done)
        for path, kwargs in jobs:
            reading.add(path, kwargs)
        return reading.finish()


class Reading:
    """Jobs read by `SandboxedReaders` as they are added; their answers kept in order.

    Each child has up to `AHEAD` files handed to it, so it starts the next as soon as it
    answers one, however long this process takes to read that answer (it may be busy:
    importing GX, filing the batch before, or archiving the files still to be added). A
    file's time limit runs from when the child could start it; a child that dies or overruns
    takes its place, and the files queued behind it, back to the queue.
    """

    def __init__(self, readers: SandboxedReaders, done: Callable[[int], None] | None = None):
        self.sandbox = readers.sandbox
        self.done = done
        self.jobs: list[tuple[Path, dict[str, Any]]] = []
        self.answers: list[tuple[Any, str] | None] = []
        self.queue: collections.deque[tuple[int, int]] = collections.deque()
        self.flights = [_Flight(c) for c in readers.children]
        self.answered = 0
        self.landed: list[int] = []  # indices answered since `take_landed`

    def add(self, path: Path, kwargs: dict[str, Any]) -> int:
        """Queue one file (handed out by the next `pump`); its index in `answers`."""
        self.jobs.append((path, kwargs))
        self.answers.append(None)
        self.queue.append((len(self.jobs) - 1, 1))
        return len(self.jobs) - 1

    @property
    def waiting(self) -> bool:
        """Whether any file is queued or being read."""
        return bool(self.queue) or any(f.jobs for f in self.flights)

    def pump(self, wait_s: float = 0.0, children: int | None = None) -> None:
        """Hand out queued files (to the first `children` only, if given) and take every
        answer that has come, waiting up to `wait_s` (never past a time limit) for one."""
        from multiprocessing.connection import wait

        _deal(self.flights[:children], self.queue, self.jobs)
        busy = [f for f in self.flights if f.jobs]
        if not busy:
            return
        now = time.monotonic()
        first_deadline = min(f.started + self.sandbox.timeout_s for f in busy)
        ready = wait([f.child.connection for f in busy], max(min(first_deadline - now, wait_s), 0))
        now = time.monotonic()
        for flight in busy:
            if flight.child.connection in ready:
                result, detail = flight.child.answer()
            elif now - flight.started >= self.sandbox.timeout_s:
                result, detail = flight.child.overran()
            else:
                continue
            self._landed(flight, now, result, detail)

    def _landed(self, flight: _Flight, now: float, result: Any, detail: str) -> None:
        i, attempt = flight.landed(now, self.queue)
        if detail:
            log.warning("intake: a sandboxed read ended early: %s", detail)
            if attempt < max(self.sandbox.attempts, 1):
                self.queue.appendleft((i, attempt + 1))
                return
        self.answers[i] = (result, detail)
        self.answered += 1
        self.landed.append(i)
        if self.done is not None:
            self.done(self.answered)

    def take_landed(self) -> list[int]:
        """The indices answered since the last call."""
        landed, self.landed = self.landed, []
        return landed

    def finish(self) -> list[tuple[Any, str]]:
        """Every file's answer, in the order added, once all are read."""
        while self.waiting:
            self.pump(math.inf)
        return [a if a is not None else (None, "the reader gave no answer") for a in self.answers]
