"""Watch an inbox and run intake as soon as a workbook lands, instead of waiting for a schedule.

Plain Python (no Prefect server needed): `run_intake` is called directly, once at start-up
(anything that arrived while nobody watched) and again after each burst of changes. A file
still being copied is left by intake's stability check; the watcher then looks again after
`retry_s` even if no further change event comes, so a slow copy is never forgotten.
Feedback written into `INBOX/feedback/` does not wake the watcher.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from transforms.intake.arrival import is_ignored

log = logging.getLogger(__name__)

_RETRY = (
    "still being written",
    "arrived during",
    "changed while being read",
    "left for the next intake",
)


def _relevant(inbox: Path) -> Callable[[Any, str], bool]:
    """Top-level, non-ignored inbox files only (not feedback, not lock files)."""
    top = inbox.resolve()

    def accept(_change: Any, path: str) -> bool:
        p = Path(path)
        return p.parent.resolve() == top and not is_ignored(p.name)

    return accept


def needs_retry(result: Any) -> bool:
    """Whether intake left a file for later (still arriving), so the watcher must look again."""
    return any(any(word in s.reason for word in _RETRY) for s in result.skipped)


def watch_inbox(
    inbox: Path,
    output: Path,
    *,
    db_url: str | None = None,
    stable_wait: float = 1.0,
    retry_s: float = 2.0,
    stop_event: threading.Event | None = None,
    on_result: Callable[[Any], None] | None = None,
    max_runs: int | None = None,
) -> int:
    """Run intake at start and whenever the inbox changes; returns the number of intakes run.

    FolderProblem (a ValueError) when the inbox is not a readable folder.
    `stop_event` ends the watch (tests, services); `max_runs` stops after that many intakes.
    """
    import watchfiles

    from datasummary.settings import Settings
    from flows.common import engine_for
    from transforms.folders import check_inbox, check_output
    from transforms.intake.filing import run_intake

    inbox, output = Path(inbox).resolve(), Path(output).resolve()
    check_inbox(inbox)  # a mistyped inbox is an error, never a new empty folder
    check_output(output)
    engine = engine_for(Settings(inbox=inbox, output=output, db_url=db_url))
    runs = 0

    def intake() -> bool:
        nonlocal runs
        result = run_intake(inbox, output, engine, stable_wait=stable_wait)
        runs += 1
        counts = result.counts
        log.info("watch: intake filed %d, skipped %d", counts["processed"], counts["skipped"])
        if on_result is not None:
            on_result(result)
        return needs_retry(result)

    try:
        retry = intake()
        if max_runs is not None and runs >= max_runs:
            return runs
        for changes in watchfiles.watch(
            inbox,
            watch_filter=_relevant(inbox),
            recursive=False,
            stop_event=stop_event,
            debounce=200,
            rust_timeout=int(retry_s * 1000),
            yield_on_timeout=True,
        ):
            if not changes and not retry:
                continue
            retry = intake()
            if max_runs is not None and runs >= max_runs:
                break
    finally:
        engine.dispose()
    return runs
