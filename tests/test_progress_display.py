"""How the command line shows progress: a line per stage off a terminal, nothing when quiet."""

from __future__ import annotations

import io
import re

from datasummary.progress import LiveDisplay, StageLines, progress_display
from transforms.progress import no_progress


def _calls(progress) -> None:
    progress("reading workbooks", 0, 3)
    for n in (1, 2, 3):
        progress("reading workbooks", n, 3)
    progress("computing the measures", 0, None)


def test_off_a_terminal_each_stage_is_one_timed_line():
    out = io.StringIO()  # not a terminal
    with progress_display(quiet=False, verbose=False, stream=out) as progress:
        assert isinstance(progress, StageLines)
        _calls(progress)
    lines = out.getvalue().splitlines()
    assert [re.sub(r"^\d\d:\d\d:\d\d ", "", line) for line in lines] == [
        "reading workbooks (3)",
        "computing the measures",
    ]
    assert all(re.match(r"^\d\d:\d\d:\d\d ", line) for line in lines)


def test_quiet_shows_nothing():
    with progress_display(quiet=True, verbose=False, stream=io.StringIO()) as progress:
        assert progress is no_progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_a_live_display_unless_verbose():
    with progress_display(quiet=False, verbose=False, stream=_Terminal()) as progress:
        assert isinstance(progress, LiveDisplay)
        _calls(progress)
    rows = [(t.description, t.completed, t.total) for t in progress.display.tasks]
    # The first stage finished full when the next began; the last when the display closed.
    assert rows == [("reading workbooks", 3, 3), ("computing the measures", 1, 1)]
    with progress_display(quiet=False, verbose=True, stream=_Terminal()) as progress:
        assert isinstance(progress, StageLines)  # log lines would tear a live display
