"""Fewer garbage-collector passes while a stage builds many objects it keeps.

CPython looks for reference cycles after every 700 net new container objects (a young
pass), and every tenth of those passes also scans the older ones. A cold intake keeps every
parsed workbook of a batch (frames, cells, findings) alive until it is filed, so each pass
scans objects that are not garbage: in a cold intake of the benchmark's 32 folders the
parent spent 3.9–4.6 s of its CPU in the collector (about 2,600 young passes and 11 full
ones of about 0.3 s each). With young passes every 20,000 objects it spent 1.3–1.6 s, and
peak memory stayed at 484–486 MiB: there is little cyclic garbage to wait for. Reference
counting still frees everything else at once; only cycles wait longer.

The threshold is process-wide, so `fewer_collections` counts who is inside it: the first
to enter raises it, the last to leave puts back what it found (intakes may run in threads
of one Dask worker).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_PASS_EVERY = 20_000  # new container objects between young passes (CPython: 700)

_lock = threading.Lock()
_inside = 0
_found: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections(young: int = YOUNG_PASS_EVERY) -> Iterator[None]:
    """Run the block with young passes at most every `young` new objects, then restore.

    A collector switched off by threshold 0 stays off, and a threshold already higher
    than `young` is kept.
    """
    global _inside, _found
    with _lock:
        if _inside == 0:
            _found = gc.get_threshold()
            first, *older = _found
            if first != 0:
                gc.set_threshold(max(first, young), *older)
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _found is not None:
                gc.set_threshold(*_found)
                _found = None
