"""The state of one partnership's intake, shared by its steps (receiving, checking, filing,
answering), and the test hook that kills a run at a named point."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from transforms.findings import ParsedReturn
from transforms.intake.arrival import Candidate
from transforms.intake.decision import utc
from transforms.intake.feedback_place import feedback_folder_problem
from transforms.intake.results import IntakeResult, Unrecorded
from transforms.progress import Progress, no_progress
from transforms.quarters import london_date
from transforms.store import ledger

if TYPE_CHECKING:
    from transforms.spec import ReturnSpec, Spec

log = logging.getLogger(__name__)

CRASH_ENV = "DATASUMMARY_INTAKE_CRASH_AT"  # test hook: kill the process at a named point

Checker = Callable[..., ParsedReturn]  # a whole-file checker, as `validate.check_workbook`
FeedbackWriter = Callable[..., Path]
FeedbackText = Callable[..., str]


def crash_point(name: str) -> None:
    """Test hook: die abruptly here when CRASH_ENV names this point (proves re-runnability)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


class IntakeRun:
    """One partnership's intake in progress: its folders, store, clock and what it found."""

    progress: Progress = no_progress  # told of each workbook filed
    to_file = 0  # workbooks pending at the last look (the total `progress` is told)

    def __init__(
        self,
        inbox: Path,
        output: Path,
        engine: sa.Engine,
        *,
        spec: Spec | None,
        now: dt.datetime | None,
        checker: Checker | None,
        feedback_writer: FeedbackWriter | None,
        feedback_text: FeedbackText | None,
    ) -> None:
        self.inbox, self.output, self.engine = Path(inbox), Path(output), engine
        self.spec = spec
        self.fixed_now = utc(now) if now is not None else None
        self.checker = checker
        self.feedback_writer, self.feedback_text = feedback_writer, feedback_text
        self.result = IntakeResult()
        self.sources: dict[str, Candidate] = {}  # sha256 -> inbox file seen this run
        self.copied: set[str] = set()  # archived (and verified) by this run: not re-read
        # What the ledger said at arrival; until then, assume there may be work.
        self.may_have_pending = self.may_lack_feedback = True
        self.sheet_tables = False  # the accepted-data tables made sure of this run
        self.unrecorded: list[Unrecorded] = []  # feedback written, not yet ledgered
        self.copies: list[tuple[Candidate, str]] = []  # same bytes as a file under another name
        self.names: dict[str, str] = {}  # sha256 -> name the ledger knows it by (at arrival)
        with engine.connect() as conn:  # path -> (size, mtime_ns, sha256)
            self.hashes = ledger.cached_hashes(conn, str(self.inbox))

    @functools.cached_property
    def rspec(self) -> ReturnSpec:
        """The return specification, loaded when a file is filed (a re-run needs none)."""
        if self.spec is None:
            from transforms.spec import default_spec

            return default_spec().returns
        return self.spec.returns

    def now(self) -> dt.datetime:
        """The run's clock: fixed when the caller gave `now`."""
        return self.fixed_now or dt.datetime.now(dt.UTC)

    def today(self) -> dt.date:
        """Today in Europe/London, by the run's clock."""
        return london_date(self.now())

    def known(self, cand: Candidate) -> bool:
        """Whether this file was hashed before with the same size and mtime."""
        cached = self.hashes.get(cand.location)
        return cached is not None and cached[:2] == (cand.size, cand.mtime_ns)

    def feedback_usable(self) -> bool:
        """Whether `INBOX/feedback/` is a real folder in the inbox now (checked each write)."""
        problem = feedback_folder_problem(self.inbox)
        if problem and not self.result.feedback_problem:
            log.error("intake: %s", problem)
            self.result.feedback_problem = problem
        return problem is None

    def writers(self) -> tuple[FeedbackWriter, FeedbackText | None]:
        """The feedback writers: the caller's, else the feedback module's (loaded when used)."""
        if self.feedback_writer is None:
            from transforms.intake.feedback import feedback_text, write_feedback_workbook

            self.feedback_writer = write_feedback_workbook
            if self.feedback_text is None:
                self.feedback_text = feedback_text
        return self.feedback_writer, self.feedback_text
