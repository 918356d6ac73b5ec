"""Checking pending files, one path for all: batches, and one file is a batch of one.

A batch is checked in two halves. The first does not touch a store (pre-flight, parse and
one GX run per sheet type), so the pending files of many partnerships share it. The second
runs per partnership, in intake order, against `BatchPriorData` (the store, and the files
checked earlier in the batch as if they had been filed); the batch is then filed in groups
(`ledgering`) and answered (`answers`). If a batch fails as a whole, each of its files is
checked again as a batch of one; a file whose batch of one fails is kept for one more try,
then rejected saying why (`fail`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from transforms.findings import ParsedReturn
from transforms.intake.answers import Answering, record_feedback
from transforms.intake.archive import ArchiveError, archive_file, verified
from transforms.intake.arrival import Skipped
from transforms.intake.intake_run import Checker, IntakeRun, crash_point
from transforms.intake.ledgering import FILING_GROUP, file_group
from transforms.intake.prior import BatchPriorData, PriorData
from transforms.intake.results import Checked, Located, PendingFile
from transforms.progress import READING, Progress, no_progress
from transforms.store import ledger
from transforms.store.db import create_all

if TYPE_CHECKING:
    from transforms.intake.parse import Parsed
    from transforms.intake.reading import SandboxedReading
    from transforms.spec import Spec

log = logging.getLogger(__name__)

BATCH_SIZE = 500  # workbooks per GX run: amortises GX set-up (~1.5 s), bounds memory
LOST = "archived copy missing or damaged and no intact copy in the inbox"

Finish = Callable[[PriorData], ParsedReturn]  # the second half of one file's check


class Checking(Protocol):
    """How files are checked: the store-free first half for a batch, giving each file's
    second half (the rules that need prior data)."""

    def prepare(
        self, located: Sequence[Located], today: dt.date, progress: Progress
    ) -> list[Finish]:
        """Each file's second half, in the order given."""
        ...


class SuiteChecking:
    """The specification's checks: GX suites for the whole batch, then each file's rules.

    With `ahead`, what its children read while the files were archived is taken from it.
    """

    def __init__(self, spec: Spec | None, ahead: SandboxedReading | None = None) -> None:
        self.spec = spec
        self.ahead = ahead

    def prepare(
        self, located: Sequence[Located], today: dt.date, progress: Progress
    ) -> list[Finish]:
        """Pre-flight, parse and GX-check the archived copies (one GX run per sheet type)."""
        from transforms.intake.validate import INTAKE_SANDBOX, gx_checked_workbooks

        parsed = gx_checked_workbooks(
            [(loc.path, loc.file.original_name) for loc in located],
            spec=self.spec,
            today=today,
            progress=progress,
            sandbox=INTAKE_SANDBOX,
            ahead=self.ahead,
        )
        return [functools.partial(self._finished, p) for p in parsed]

    def _finished(self, parsed: Parsed, prior: PriorData) -> ParsedReturn:
        from transforms.intake.validate import rules_checked

        return rules_checked(parsed, spec=self.spec, prior=prior)


class WholeFileChecking:
    """A checker that checks one whole file at a call (`validate.check_workbook`'s shape)."""

    def __init__(self, checker: Checker, spec: Spec | None) -> None:
        self.checker, self.spec = checker, spec

    def prepare(
        self, located: Sequence[Located], today: dt.date, progress: Progress
    ) -> list[Finish]:
        """Nothing ahead: each file is checked whole when its prior data is known."""
        return [functools.partial(self._checked, loc, today) for loc in located]

    def _checked(self, loc: Located, today: dt.date, prior: PriorData) -> ParsedReturn:
        return self.checker(
            loc.path, spec=self.spec, today=today, prior=prior, original_name=loc.file.original_name
        )


def checking_for(
    checker: Checker | None, spec: Spec | None, ahead: SandboxedReading | None = None
) -> Checking:
    """The caller's checker, else the specification's checks (loaded only when there is work)."""
    if checker is not None:
        return WholeFileChecking(checker, spec)
    try:
        from transforms.intake.validate import INTAKE_SANDBOX, gx_checked_workbooks  # noqa: F401
    except ImportError:  # a stand-in validate module (tests) has only `check_workbook`
        from transforms.intake.validate import check_workbook

        return WholeFileChecking(check_workbook, spec)
    return SuiteChecking(spec, ahead)


class ReadingAhead:
    """New files read from when they are archived, for the batch that checks them.

    Nothing starts until the first file is offered, so an intake with nothing new forks and
    imports nothing; with a caller's own checker nothing is read ahead. At most `limit`
    files (a batch) are read ahead and not yet taken. Use as a context manager: the
    children are stopped on exit.
    """

    def __init__(self, checker: Checker | None, spec: Spec | None, limit: int) -> None:
        self.checker, self.spec, self.limit = checker, spec, limit
        self.reading: SandboxedReading | None = None
        self.started = False

    def __enter__(self) -> ReadingAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.reading is not None:
            self.reading.__exit__(None, None, None)
            self.reading = None

    def offer(self, today: Callable[[], dt.date], path: Path, name: str) -> None:
        """Start reading one archived copy (the children are forked at the first).

        If the children cannot be forked, nothing is read ahead: the batch reads its files.
        """
        if not self.started:
            self.started = True
            if isinstance(checking_for(self.checker, self.spec), SuiteChecking):
                from transforms.intake.validate import read_ahead

                reading = read_ahead(self.spec, today(), limit=self.limit)
                try:
                    self.reading = reading.__enter__()
                except OSError as exc:  # a fork refused: children already forked are stopped
                    reading.__exit__(None, None, None)
                    log.warning("intake: reading ahead not started (%s)", type(exc).__name__)
        if self.reading is not None:
            self.reading.offer(path, name)


# ---------------------------------------------------------------- the path
def check_pending(
    runs: list[IntakeRun],
    batch_size: int,
    progress: Progress = no_progress,
    ahead: ReadingAhead | None = None,
) -> None:
    """Check and file every run's pending files, `batch_size` at a time across runs; what
    `ahead` read of them while they were archived is not read again."""
    work = [(run, row) for run in runs for row in pending(run)]
    if not work:
        return
    reading = ahead.reading if ahead is not None else None
    checking = checking_for(runs[0].checker, runs[0].spec, reading)
    today = runs[0].today()
    for start in range(0, len(work), batch_size):
        chunk = work[start : start + batch_size]
        batch = [
            (run, loc) for run in runs for loc in located(run, [f for r, f in chunk if r is run])
        ]
        if batch:
            check_batch(batch, checking, today, _overall(progress, start, len(work)))


def _overall(progress: Progress, start: int, total: int) -> Progress:
    """Workbooks read counted over all batches, not within this one."""

    def report(stage: str, done: int, of: int | None) -> None:
        if stage == READING:
            progress(stage, start + done, total)
        else:
            progress(stage, done, of)

    return report


def check_batch(
    batch: list[tuple[IntakeRun, Located]], checking: Checking, today: dt.date, progress: Progress
) -> None:
    """Check one batch (of one or many runs), file it in groups and answer it, run by run."""
    try:
        finishes = checking.prepare([loc for _, loc in batch], today, progress)
    except Exception as exc:  # the checker should never raise
        one_by_one(batch, checking, today, exc)
        return
    answering = Answering()  # each group's feedback is written while the next is filed
    try:
        for run in dict.fromkeys(run for run, _ in batch):
            mine = [(loc, fin) for (r, loc), fin in zip(batch, finishes, strict=True) if r is run]
            try:
                checked = finished(run, mine)
            except Exception as exc:  # the checker should never raise
                answering.collect()
                one_by_one([(run, loc) for loc, _ in mine], checking, today, exc)
                continue
            for start in range(0, len(checked), FILING_GROUP):
                file_and_answer(run, checked[start : start + FILING_GROUP], answering)
    finally:
        answering.collect()


def finished(run: IntakeRun, mine: list[tuple[Located, Finish]]) -> list[Checked]:
    """Each file's second half, in intake order, each seeing the earlier ones as filed."""
    checked = []
    with run.engine.connect() as conn:
        prior = BatchPriorData(conn)
        for loc, finish in mine:
            checked.append(Checked(loc.file, finish(prior)))
            prior.add(loc.file.seq, checked[-1].parsed)
    return checked


def one_by_one(
    batch: list[tuple[IntakeRun, Located]], checking: Checking, today: dt.date, exc: Exception
) -> None:
    """The one fallback: each file of a failed batch as a batch of one; a batch of one that
    fails is a file that could not be checked."""
    if len(batch) == 1:
        run, loc = batch[0]
        fail(run, loc.file, f"the checker failed ({type(exc).__name__})")
        record_feedback(run)
        return
    log.error("intake: batch check failed (%s); checking one by one", type(exc).__name__)
    for item in batch:
        check_batch([item], checking, today, no_progress)


# ---------------------------------------------------------------- files
def pending(run: IntakeRun) -> list[PendingFile]:
    """Ledgered files not yet checked, in intake order."""
    if not run.may_have_pending:
        return []
    with run.engine.connect() as conn:
        rows = [PendingFile.of(r) for r in ledger.unchecked_files(conn)]
    run.to_file = len(rows)
    if rows and not run.sheet_tables:
        create_all(run.engine)  # checking reads them, filing writes them
        run.sheet_tables = True
    return rows


def located(run: IntakeRun, rows: list[PendingFile]) -> list[Located]:
    """Each file with its verified archived copy; a file with none fails (kept pending)."""
    found = []
    for row in rows:
        path = archived_copy(run, row)
        if path is None:
            fail(run, row, LOST)
        else:
            found.append(Located(row, path))
    return found


def archived_copy(run: IntakeRun, row: PendingFile) -> Path | None:
    """The verified archived copy, re-made from the inbox if it was lost or damaged.

    A copy this run made was verified against its hash as it was made.
    """
    path = run.output / row.archive_path
    if (row.sha256 in run.copied and path.exists()) or verified(path, row.sha256):
        return path
    cand = run.sources.get(row.sha256)
    if cand is not None:
        with contextlib.suppress(ArchiveError, OSError):
            path.unlink(missing_ok=True)
            archive_file(cand.path, row.sha256, run.output)
            if verified(path, row.sha256):
                return path
    return None


def file_and_answer(
    run: IntakeRun, checked: list[Checked], answering: Answering | None = None
) -> None:
    """File checked workbooks (status, findings, rows) together, then answer them.

    With `answering`, the feedback is written beside whatever the caller files next (it
    collects it); without, it is written and recorded before this returns.
    """
    outcomes = file_group(run, checked)
    crash_point("after_status")
    filed = [(c, o) for c, o in zip(checked, outcomes, strict=True) if o is not None]
    if answering is not None:
        answering.submit(run, filed)
        return
    now = Answering()
    now.submit(run, filed)
    now.collect()


def fail(run: IntakeRun, row: PendingFile, reason: str) -> None:
    """A file that could not be checked: kept for one more try, then rejected saying why.

    A file whose check fails (or takes the checker down) must not hold intake up for
    ever (returns.md §3): the first failure leaves it pending for the next intake; the
    second files it as rejected with a finding saying it could not be checked and why,
    and its lead is told. Only new bytes (a new file) are checked again.
    """
    with run.engine.begin() as conn:
        earlier = ledger.event_count(conn, row.sha256, "check_failed")
        ledger.record_event(conn, row.sha256, "check_failed", run.now(), reason)
    log.error("intake: %s not checked: %s", row.sha256[:12], reason)
    if earlier < 1:
        run.result.failed.append(Skipped(row.original_name, f"{reason}; will retry next intake"))
        return
    from transforms.catalogue import make_finding  # loads the spec: only when needed

    finding = make_finding(
        "P-UNREADABLE",
        detail=f"it could not be checked, twice: {reason}. Please send it again",
    )
    file_and_answer(
        run, [Checked(row, ParsedReturn(file_name=row.original_name, findings=[finding]))]
    )
