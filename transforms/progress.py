"""Progress of long work as plain calls, so any front end can show it.

A stage calls `progress(stage, done, total)`: the stage's name (what is being done, in
words an analyst reads), how many items are done and of how many (`None` when the count is
not known). The command line renders these as a progress display or a line per stage;
nothing here knows about terminals, Prefect or `rich`.
"""

from __future__ import annotations

from collections.abc import Callable

#: `progress(stage, done, total)`; `total` is None when the count is not known.
Progress = Callable[[str, int, int | None], None]


def no_progress(stage: str, done: int, total: int | None) -> None:
    """The default: report nothing."""


#: The stage in which intake pre-flights and reads each workbook (counted in workbooks).
READING = "reading workbooks"

#: The stage in which intake runs the GX suites (counted in sheet types).
CHECKING = "checking sheets against the suites"
