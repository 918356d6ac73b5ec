"""How the command line shows progress: a live display, a line per stage, or nothing.

Long work reports progress as plain calls, `progress(stage, done, total)`
(`transforms.progress`). On a terminal they drive a `rich` display (imported only then);
anywhere else (cron, CI, a Prefect worker's log) each new stage is one plain line, so a log
says what ran and when without a line per file. Both go to stderr: stdout keeps the summary.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
from collections.abc import Iterator
from typing import Any, TextIO

from transforms.progress import Progress, no_progress


class StageLines:
    """One line per new stage: `HH:MM:SS stage (total)`."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.stage: str | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage == self.stage:
            return
        self.stage = stage
        count = f" ({total})" if total else ""
        at = dt.datetime.now().strftime("%H:%M:%S")
        print(f"{at} {stage}{count}", file=self.stream or sys.stderr, flush=True)


class LiveDisplay:
    """A `rich` progress display: one row per stage with its bar and counts."""

    def __init__(self, stream: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.display = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
            console=Console(file=stream) if stream else Console(stderr=True),
        )
        self.stage: str | None = None
        self.task: Any = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if stage != self.stage:
            self.finish()
            self.stage = stage
            self.task = self.display.add_task(stage, total=total, count="")
        count = f"{done}/{total}" if total else ""
        self.display.update(self.task, completed=done, total=total, count=count)

    def finish(self) -> None:
        """Show the current stage as done (its bar full, its count final)."""
        if self.task is not None:
            task = next(t for t in self.display.tasks if t.id == self.task)
            if task.total:
                final = max(int(task.completed), int(task.total))
                self.display.update(
                    self.task, completed=final, total=final, count=f"{final}/{final}"
                )
            else:
                self.display.update(self.task, completed=1, total=1)

    def __enter__(self) -> LiveDisplay:
        self.display.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.finish()
        self.display.stop()


@contextlib.contextmanager
def progress_display(
    quiet: bool, verbose: bool, stream: TextIO | None = None
) -> Iterator[Progress]:
    """The display for this command: none with --quiet; live on a terminal; else lines.

    With --verbose the log lines would tear a live display, so stages are plain lines.
    """
    out = stream or sys.stderr
    if quiet:
        yield no_progress
    elif out.isatty() and not verbose:
        with LiveDisplay(stream) as live:
            yield live
    else:
        yield StageLines(stream)
