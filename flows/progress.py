"""Where this process's flows report progress: to the command line that started them.

A callable cannot be a flow parameter (parameters are stored with the run), so the command
line sets the reporter for the process (`reporting_to`) and the flows, which run in the same
process in local mode, read it (`reporter`). Under a deployment nothing sets it and progress
goes nowhere; the run's own logs and task states tell the operator how far it got.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from transforms.progress import Progress, no_progress

_current: Progress = no_progress


def reporter() -> Progress:
    """The progress callable of this process (a no-op unless the command line set one)."""
    return _current


@contextlib.contextmanager
def reporting_to(progress: Progress) -> Iterator[Progress]:
    """Send this process's flow progress to `progress` for the duration of the block."""
    global _current
    previous, _current = _current, progress
    try:
        yield progress
    finally:
        _current = previous
