"""Pure work spread over the machine's cores in forked children: charts, documents, feedback.

Drawing a report's charts is most of a quarterly run, each chart is independent and the
work is pure (series in, PNG bytes out), so it parallelises with no coordination. Plain
`os.fork` children are used rather than `multiprocessing`, which refuses children to
daemonic processes such as the Dask workers of the national run. The answer never depends
on the children: whatever a child does not deliver (it crashed, it was killed, its result
would not pickle) is computed again in this process, so the result is the same list, in the
same order, as `[fn(x) for x in items]`.
"""

from __future__ import annotations

import logging
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


#: An operator's cap on the cores one run may use (the national run sets 1 in its workers).
PROCESSES_ENV = "DATASUMMARY_PROCESSES"


def available_cores() -> int:
    """The cores this process may run on (the affinity mask, not the machine's count),
    at most `DATASUMMARY_PROCESSES` when that is set to a whole number."""
    try:
        cores = max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        cores = max(os.cpu_count() or 1, 1)
    cap = os.environ.get(PROCESSES_ENV, "").strip()
    return max(min(cores, int(cap)), 1) if cap.isdigit() else cores


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _run_child(fn: Callable[[T], R], items: Sequence[T], write_fd: int) -> None:
    """In the child: compute `items` and write the pickled list; never returns."""
    _answer_and_exit(lambda: [fn(x) for x in items], write_fd)


def _answer_and_exit(work: Callable[[], Any], write_fd: int) -> None:
    code = 0
    try:
        data = pickle.dumps(work(), protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:  # noqa: BLE001 - the parent sees a short answer and redoes the work
        code = 1
    finally:
        os._exit(code)


#: Chunks in the shared queue at most: their indices fill a pipe's buffer (64 KiB) halfway.
_QUEUE_SLOTS = 8192


def _claimed(tasks_fd: int, count: int, chunk: int) -> Iterator[int]:
    """The item indices this process takes from the shared queue, one chunk at a time.

    The queue is a pipe holding every chunk's first index as 4 bytes, all written before
    any process reads: a 4-byte read of a pipe is one atomic step, so each chunk goes to
    exactly one process, whichever is free first.
    """
    while len(first := os.read(tasks_fd, 4)) == 4:
        start = int.from_bytes(first, "little")
        yield from range(start, min(start + chunk, count))


def forked_map(fn: Callable[[T], R], items: Sequence[T], processes: int | None = None) -> list[R]:
    """`[fn(x) for x in items]`, computed by up to `processes` forked children at once.

    `processes` defaults to the available cores; with one process, or one item, nothing is
    forked. Items are taken in order from a shared queue by whichever process is free
    (this one too), so one long item does not hold up a fixed share of short ones: put the
    longest first. `fn` must be pure: what a child fails to deliver is computed here.
    """
    n = min(processes or available_cores(), len(items))
    if n <= 1:
        return [fn(x) for x in items]
    chunk = -(-len(items) // _QUEUE_SLOTS)  # more items than slots: chunks of several
    tasks_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, b"".join(i.to_bytes(4, "little") for i in range(0, len(items), chunk)))
    finally:
        os.close(write_fd)
    results: dict[int, R] = {}
    try:
        children = [_forked_claimer(fn, items, tasks_fd, chunk) for _ in range(n - 1)]
        try:
            for i in _claimed(tasks_fd, len(items), chunk):  # this process takes items too
                results[i] = fn(items[i])
        finally:
            answers = [_collected(pid, read_fd) for pid, read_fd in children]
    finally:
        os.close(tasks_fd)
    for answer in answers:
        results.update(answer or [])
    missing = [i for i in range(len(items)) if i not in results]
    if missing:
        log.warning("a forked child did not deliver its share; computing it here")
        results.update((i, fn(items[i])) for i in missing)
    return [results[i] for i in range(len(items))]


def _forked_claimer(
    fn: Callable[[T], R], items: Sequence[T], tasks_fd: int, chunk: int
) -> tuple[int, int]:
    """A child computing the items it claims from the queue; (pid, its answer's pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _answer_and_exit(
            lambda: [(i, fn(items[i])) for i in _claimed(tasks_fd, len(items), chunk)], write_fd
        )
    os.close(write_fd)
    return pid, read_fd


class Forked(Generic[R]):
    """`[fn(x) for x in items]` computed in one forked child while this process goes on.

    `result()` waits for it. Intake writes a group's feedback this way while it files the
    next group. With `fork=False`, one available core or nothing to do, the work is done at
    once, here; whatever the child does not deliver is computed here, as in `forked_map`.
    """

    def __init__(self, fn: Callable[[T], R], items: Sequence[T], *, fork: bool = True) -> None:
        self._redo: Callable[[], list[R]] = lambda: [fn(x) for x in items]
        self._expected = len(items)
        self._child: tuple[int, int] | None = None
        self._done: list[R] | None = None
        if not fork or not items or available_cores() <= 1:
            self._done = self._redo()
            return
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _run_child(fn, items, write_fd)
        os.close(write_fd)
        self._child = (pid, read_fd)

    def result(self) -> list[R]:
        """The list, in order; the second call gives the same list without waiting."""
        if self._done is None:
            assert self._child is not None
            pid, read_fd = self._child
            self._child = None
            answer = _collected(pid, read_fd)
            if answer is not None and len(answer) != self._expected:
                answer = None
            if answer is None:
                log.warning("a forked child did not deliver its share; computing it here")
                answer = self._redo()
            self._done = answer
        return self._done


def _collected(pid: int, read_fd: int) -> list[Any] | None:
    """A child's pickled list once it has exited, or None when it failed to deliver one."""
    try:
        data = _read_all(read_fd)
    finally:
        os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        answer = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a short or corrupt answer: the work is redone
        return None
    return answer if isinstance(answer, list) else None
