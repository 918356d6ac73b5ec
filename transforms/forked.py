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
from collections.abc import Callable, Sequence
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
    """In the child: compute its share and write the pickled list; never returns."""
    code = 0
    try:
        data = pickle.dumps([fn(x) for x in items], protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(data)
        while view:
            view = view[os.write(write_fd, view) :]
    except BaseException:  # noqa: BLE001 - the parent sees a short answer and redoes the share
        code = 1
    finally:
        os._exit(code)


def forked_map(fn: Callable[[T], R], items: Sequence[T], processes: int | None = None) -> list[R]:
    """`[fn(x) for x in items]`, computed by up to `processes` forked children at once.

    `processes` defaults to the available cores; with one process, or one item, nothing is
    forked. `fn` must be pure: a share a child fails to deliver is computed here instead.
    """
    n = min(processes or available_cores(), len(items))
    if n <= 1:
        return [fn(x) for x in items]
    shares = [list(range(k, len(items), n)) for k in range(n)]  # interleaved: even loads
    children: list[tuple[int, int, list[int]]] = []
    for share in shares[1:]:
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _run_child(fn, [items[i] for i in share], write_fd)
        os.close(write_fd)
        children.append((pid, read_fd, share))
    results: list[R | None] = [None] * len(items)
    try:
        for i in shares[0]:  # this process takes the first share itself
            results[i] = fn(items[i])
    finally:
        answers = [_collected(pid, read_fd, len(share)) for pid, read_fd, share in children]
    for (_, _, share), answer in zip(children, answers, strict=True):
        if answer is None:
            log.warning("a forked child did not deliver its share; computing it here")
            answer = [fn(items[i]) for i in share]
        for i, value in zip(share, answer, strict=True):
            results[i] = value
    return results  # type: ignore[return-value]  # every slot is filled above


class Forked(Generic[R]):
    """`[fn(x) for x in items]` computed in one forked child while this process goes on.

    `result()` waits for it. Intake writes a group's feedback this way while it files the
    next group. With `fork=False`, one available core or nothing to do, the work is done at
    once, here;
    whatever the child does not deliver is computed here, as in `forked_map`.
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
            answer = _collected(pid, read_fd, self._expected)
            if answer is None:
                log.warning("a forked child did not deliver its share; computing it here")
                answer = self._redo()
            self._done = answer
        return self._done


def _collected(pid: int, read_fd: int, expected: int) -> list[Any] | None:
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
    except Exception:  # noqa: BLE001 - a short or corrupt answer: the share is redone
        return None
    return answer if isinstance(answer, list) and len(answer) == expected else None
