"""Pure work spread over the machine's cores in forked children: charts, documents, GX suites.

Drawing a report's charts is most of a quarterly run, each chart is independent and the
work is pure (series in, PNG bytes out), so it parallelises with no coordination. Plain
`os.fork` children are used rather than `multiprocessing`, which refuses children to
daemonic processes such as the Dask workers of the national run. The answer never depends
on the children: whatever a child does not deliver (it crashed, it was killed, its result
would not pickle) is computed again in this process, so the result is the same list, in the
same order, as `[fn(x) for x in items]`. (Feedback, a stream of batches to one child while
the intake goes on: `transforms.forked_stream`.)
"""

from __future__ import annotations

import copy
import logging
import os
import pickle
import signal
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


def _answer_and_exit(work: Callable[[], Any], write_fd: int) -> None:
    """In the child: `work()` and the log records it made, pickled to `write_fd`; exits."""
    code = 0
    try:
        kept = keep_records()
        answer = work()
        try:
            data = pickle.dumps((answer, kept.records), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a record that will not pickle: the answer still goes
            data = pickle.dumps((answer, []), protocol=pickle.HIGHEST_PROTOCOL)
        write_all(write_fd, data)
    except BaseException:  # noqa: BLE001 - the parent sees a short answer and redoes the work
        code = 1
    finally:
        os._exit(code)


class _KeptRecords(logging.Handler):
    """In a forked child, the root logger's only handler: each record that reaches it is
    kept, made portable, for the parent to handle as if it had been logged there."""

    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        kept = copy.copy(record)
        kept.msg, kept.args = record.getMessage(), None  # the arguments may not pickle
        if record.exc_info:
            kept.exc_text = record.exc_text or logging.Formatter().formatException(record.exc_info)
        kept.exc_info = None
        self.records.append(kept)


def keep_records() -> _KeptRecords:
    """Route the child's log records to a keeper instead of the handlers it inherited: the
    console would show them twice, and a handler that sends from a thread of the parent
    (Prefect's log) has no thread here."""
    root = logging.getLogger()
    keeper = _KeptRecords()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(keeper)
    return keeper


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


class Ahead(Generic[T, R]):
    """`fn(x)` computed in a child forked before `x` is known, so that the child spends the
    wait on `prepare()` (importing what `fn` needs) while this process works `x` out.

    The quarterly run forks one while it computes the measures: the child loads matplotlib
    and the document writers on the other core, then draws and renders. `send(x)` hands `x`
    over, `result()` waits for the answer; whatever the child does not deliver is computed
    here, as in `forked_map`. With `fork=False` or one available core nothing is forked and
    `result()` computes `fn(x)` here. `close()`, also on leaving a `with` block, ends a child
    whose answer was not taken.
    """

    def __init__(
        self, prepare: Callable[[], object], fn: Callable[[T], R], *, fork: bool = True
    ) -> None:
        self._fn = fn
        self._x: list[T] = []
        self._child: tuple[int, int, int] | None = None  # pid, its input's and answer's pipes
        if not fork or available_cores() <= 1:
            return
        in_read, in_write = os.pipe()
        out_read, out_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:  # no process to spare (a limit, memory): computed here instead
            for fd in (in_read, in_write, out_read, out_write):
                os.close(fd)
            log.warning("could not fork ahead; the work will be done in this process")
            return
        if pid == 0:
            os.close(in_write)
            os.close(out_read)
            _answer_when_sent(prepare, fn, in_read, out_write)
        os.close(in_read)
        os.close(out_write)
        self._child = (pid, in_write, out_read)

    def send(self, x: T) -> None:
        """Hand `x` to the child (once); it starts on it when `prepare()` is done."""
        if self._x:
            raise RuntimeError("Ahead.send called twice")
        self._x.append(x)
        if self._child is None:
            return
        _, in_write, _ = self._child
        try:
            write_all(in_write, pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL))
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass  # the child gets a short input and delivers nothing: computed here
        finally:
            os.close(in_write)
            self._child = (self._child[0], -1, self._child[2])

    def result(self) -> R:
        """`fn(x)` for the `x` sent."""
        if not self._x:
            raise RuntimeError("Ahead.result called before send")
        answer = None
        if self._child is not None:
            pid, _, out_read = self._child
            self._child = None
            answer = _collected(pid, out_read)
            if answer is None or len(answer) != 1:
                log.warning("a forked child did not deliver its answer; computing it here")
                answer = None
        return answer[0] if answer is not None else self._fn(self._x[0])

    def close(self) -> None:
        """End the child if its answer was not taken (nothing sent, or the caller failed)."""
        if self._child is None:
            return
        pid, in_write, out_read = self._child
        self._child = None
        os.kill(pid, signal.SIGKILL)  # its answer is not wanted (any more)
        for fd in (in_write, out_read):
            if fd >= 0:
                os.close(fd)
        os.waitpid(pid, 0)

    def __enter__(self) -> Ahead[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _answer_when_sent(
    prepare: Callable[[], object], fn: Callable[[T], R], in_fd: int, out_fd: int
) -> None:
    """In the child: prepare, wait for the input, answer `[fn(x)]`; never returns."""

    def work() -> list[R]:
        prepare()
        data = _read_all(in_fd)
        return [fn(pickle.loads(data))] if data else []

    _answer_and_exit(work, out_fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _collected(pid: int, read_fd: int) -> list[Any] | None:
    """A child's pickled list once it has exited, or None when it failed to deliver one.

    The log records the child made are handled here, by the loggers they were made on, as
    if the work had been done in this process (so Prefect's log and the console get them).
    """
    try:
        data = _read_all(read_fd)
    finally:
        os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    try:
        answer, records = pickle.loads(data)
    except Exception:  # noqa: BLE001 - a short or corrupt answer: the work is redone
        return None
    for record in records:
        logging.getLogger(record.name).handle(record)
    return answer if isinstance(answer, list) else None
