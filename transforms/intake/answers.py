"""Answering the leads: feedback files next to their workbooks, and where they are ledgered.

Feedback is written atomically inside `INBOX/feedback/`, made durable in one sync per batch,
and only then ledgered; a run that dies in between leaves submissions without a recorded
feedback path, whose feedback the next run writes again (`catch_up_feedback`).
"""

from __future__ import annotations

import collections
import functools
import logging
import os
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa

from transforms import atomic
from transforms.findings import (
    IN_FORCE,
    STATUS_REJECTED,
    STATUS_SUPERSEDED,
    Cover,
    Finding,
    ParsedReturn,
)
from transforms.forked_stream import Stream
from transforms.intake.decision import Outcome, copy_line, status_line
from transforms.intake.feedback_place import feedback_paths, inside_feedback
from transforms.intake.intake_run import FeedbackText, FeedbackWriter, IntakeRun
from transforms.intake.results import Checked, ProcessedSubmission, Unrecorded
from transforms.store import ledger
from transforms.store.ledger import LedgerRow

log = logging.getLogger(__name__)


def write_feedback(
    run: IntakeRun, sha256: str, parsed: ParsedReturn, line: str, name: str
) -> str | None:
    """Write a filed workbook's feedback and queue its place for the ledger.

    The feedback file's name; None (written by a later run) when it could not be written.
    """
    written = write_answer(run, parsed, line, name)
    if written is None:
        return None
    run.unrecorded.append(Unrecorded(sha256, written[0], written))
    return written[0].name


def write_answer(run: IntakeRun, parsed: ParsedReturn, line: str, name: str) -> list[Path] | None:
    """Write `<name>.feedback.xlsx` (and `.txt`) inside `feedback/`; None if not written."""
    place = answer_place(run, name)
    if place is None:
        return None  # written by a later intake, once feedback/ is put right
    writer, texter = run.writers()
    return write_files(writer, texter, AnswerJob(parsed, line, name, *place))


def answer_place(run: IntakeRun, name: str) -> tuple[Path, Path] | None:
    """Where a workbook's feedback goes, (xlsx, txt); None while feedback/ cannot be used."""
    return answer_places(run, [name])[0]


def answer_places(run: IntakeRun, names: list[str]) -> list[tuple[Path, Path] | None]:
    """`answer_place` of each name, with `feedback/` looked at once for them all."""
    usable = bool(names) and run.feedback_usable()
    inside: dict[Path, bool] = {}  # by folder: `inside_feedback` depends on nothing else
    places: list[tuple[Path, Path] | None] = []
    for name in names:
        xlsx, txt = feedback_paths(run.inbox, name)
        if xlsx.parent not in inside:
            inside[xlsx.parent] = inside_feedback(run.inbox, xlsx)
        places.append((xlsx, txt) if usable and inside[xlsx.parent] else None)
    return places


class AnswerJob(NamedTuple):
    """One feedback to write: what to say, and where."""

    parsed: ParsedReturn
    line: str
    name: str
    xlsx: Path
    txt: Path


def write_files(
    writer: FeedbackWriter, texter: FeedbackText | None, job: AnswerJob
) -> list[Path] | None:
    """Write one feedback's files atomically; the paths written, None if it failed.

    Touches nothing but those files, so a forked child may run it (`Answering`).
    """
    try:
        atomic.atomic_write(
            job.xlsx,
            lambda tmp: writer(job.parsed, tmp, status_line=job.line),
            suffix=".xlsx",
            durable=False,
        )
        written = [job.xlsx]
        if texter is not None:
            text = texter(job.parsed, status_line=job.line)
            atomic.atomic_write(
                job.txt,
                lambda tmp: tmp.write_text(text, encoding="utf-8"),
                suffix=".txt",
                durable=False,
            )
            written.append(job.txt)
    except Exception as exc:
        log.error("intake: feedback for %s not written: %s", job.name, type(exc).__name__)
        return None
    return written


Planned = tuple[Checked, Outcome, bool]  # a filed workbook, and whether it gets feedback


class Answering:
    """Each filed group's feedback written in a forked child while the next group is filed.

    Writing feedback workbooks is a good share of an intake and needs nothing from the
    store, so it runs beside the filing, on another core: one child for all the groups
    (`transforms.forked_stream`), sent each group's findings as it is filed. Its answers
    are taken in filing order, as they come and by `collect` at the end, which adds each
    group's processed submissions in order and ledgers where the feedback is, with one sync
    for them all. A caller's own feedback writers run here, in this process: they may keep
    state.
    """

    def __init__(self) -> None:
        self._streams: dict[tuple[Any, Any], Stream[AnswerJob, list[Path] | None]] = {}
        self._out: collections.deque[tuple[IntakeRun, list[Planned], Stream[Any, Any], int]]
        self._out = collections.deque()
        self._runs: dict[int, IntakeRun] = {}  # whose feedback is taken, not yet ledgered

    def submit(self, run: IntakeRun, filed: list[tuple[Checked, Outcome]]) -> None:
        """Start writing the feedback of a group just filed (taking what has been written)."""
        jobs: list[AnswerJob] = []
        plan = []
        places = answer_places(run, [c.file.original_name for c, _ in filed])
        for (c, outcome), place in zip(filed, places, strict=True):
            if place is not None:
                jobs.append(AnswerJob(c.parsed, outcome.line, c.file.original_name, *place))
            plan.append((c, outcome, place is not None))
        stream, own = self._stream(run)
        ticket = stream.send(jobs if own else [lean(job) for job in jobs])
        self._out.append((run, plan, stream, ticket))
        while self._out and self._out[0][2].ready(self._out[0][3]):
            self._take()

    def collect(self) -> None:
        """Wait for every group out, record them, and ledger where their feedback is."""
        try:
            while self._out:
                self._take()
        finally:
            for stream in self._streams.values():
                stream.close()
            self._streams.clear()
            runs, self._runs = list(self._runs.values()), {}
            record_feedbacks(runs)

    def _stream(self, run: IntakeRun) -> tuple[Stream[AnswerJob, list[Path] | None], bool]:
        """The stream writing with `run`'s writers, and whether they are a caller's own
        (run here, not forked, and given the whole parsed workbook)."""
        writer, texter = run.writers()
        own = writer is not _default_writer() or texter not in (None, _default_texter())
        if (writer, texter) not in self._streams:
            work = functools.partial(write_files, writer, texter)
            self._streams[(writer, texter)] = Stream(work, fork=not own)
        return self._streams[(writer, texter)], own

    def _take(self) -> None:
        run, plan, stream, ticket = self._out.popleft()
        written = iter(stream.take(ticket))
        for c, outcome, placed in plan:
            paths = next(written) if placed else None
            if paths:
                run.unrecorded.append(Unrecorded(c.file.sha256, paths[0], paths))
            run.result.processed.append(processed(c, outcome, paths[0].name if paths else None))
            run.progress("filing and writing feedback", len(run.result.processed), run.to_file)
        self._runs[id(run)] = run


def lean(job: AnswerJob) -> AnswerJob:
    """The job with only what a feedback file says (findings, sheet order), not the frames:
    what is sent to a child is pickled."""
    p = job.parsed
    slim = ParsedReturn(p.file_name, findings=p.findings, sheet_order=p.sheet_order)
    return job._replace(parsed=slim)


def _default_writer() -> FeedbackWriter:
    from transforms.intake.feedback import write_feedback_workbook

    return write_feedback_workbook


def _default_texter() -> FeedbackText:
    from transforms.intake.feedback import feedback_text

    return feedback_text


def processed(c: Checked, outcome: Outcome, feedback: str | None) -> ProcessedSubmission:
    """What the run reports of one filed workbook."""
    row, cover = c.file, c.parsed.cover
    return ProcessedSubmission(
        sha256=row.sha256,
        original_name=row.original_name,
        submitter=cover.submitter,
        quarter_end=cover.quarter_end,
        status=outcome.status,
        errors=outcome.errors,
        warnings=outcome.warnings,
        late=outcome.late,
        revision=outcome.revision,
        seq=row.seq,
        feedback=feedback,
    )


def record_feedback(run: IntakeRun) -> None:
    """Make the feedback written so far durable in one sync, then ledger where it is."""
    record_feedbacks([run])


def record_feedbacks(runs: list[IntakeRun]) -> None:
    """`record_feedback` for many runs, with one sync for all their files."""
    runs = [run for run in runs if run.unrecorded]
    if not runs:
        return
    atomic.sync_to_disk([p for run in runs for u in run.unrecorded for p in u.written])
    for run in runs:
        _ledger_feedback(run)
        run.unrecorded.clear()


def _ledger_feedback(run: IntakeRun) -> None:
    """Where each unrecorded feedback is, in the ledger (its files already durable)."""
    subs = ledger.submissions
    with run.engine.begin() as conn:
        conn.execute(
            subs.update()
            .where(subs.c.sha256 == sa.bindparam("sha"))
            .values(feedback_path=sa.bindparam("path")),
            [{"sha": u.sha256, "path": str(u.xlsx)} for u in run.unrecorded],
        )
        conn.execute(
            ledger.events.insert(),
            [
                {"sha256": u.sha256, "at": run.now(), "event": "feedback", "detail": u.xlsx.name}
                for u in run.unrecorded
            ],
        )


def catch_up_feedback(run: IntakeRun) -> None:
    """Feedback for submissions filed by an earlier run that died before writing it.

    Also the feedback held back while `feedback/` was not a real folder.
    """
    if not run.may_lack_feedback or not run.feedback_usable():
        return
    with run.engine.connect() as conn:
        rows = ledger.submissions_without_feedback(conn)
        if not rows:
            return
        days = run.rspec.periods.deadline_days
        found = {r.sha256: stored_findings(conn, r.sha256) for r in rows}
        lines = {r.sha256: stored_line(conn, r, days) for r in rows}
    for r in rows:
        cover = Cover(
            submitter=r.submitter, quarter_end=r.quarter_end, date_completed=r.date_completed
        )
        parsed = ParsedReturn(file_name=r.original_name, cover=cover, findings=found[r.sha256])
        if write_feedback(run, r.sha256, parsed, lines[r.sha256], r.original_name):
            run.result.feedback_rewritten += 1
    record_feedback(run)


def stored_findings(conn: sa.Connection, sha: str) -> list[Finding]:
    """A filed workbook's findings, as filed (in order)."""
    f = ledger.findings
    rows = conn.execute(sa.select(f).where(f.c.sha256 == sha).order_by(f.c.id))
    return [
        Finding(
            severity=r.severity,
            rule=r.rule,
            message=r.message,
            sheet=r.sheet,
            cell=r.cell,
            row=r.row,
            column=r.column,
            value=r.value,
            expected=r.expected,
        )
        for r in rows
    ]


def stored_line(conn: sa.Connection, r: LedgerRow, deadline_days: int) -> str:
    """The status line of a filed submission, from the ledger (what is in force now)."""
    earlier_in_force = replaced = None
    if r.submitter and r.quarter_end:
        others = ledger.same_return(
            conn, r.submitter, r.quarter_end, (*IN_FORCE, STATUS_SUPERSEDED)
        )
        earlier = [o for o in others if o.seq < r.seq]
        if r.status == STATUS_REJECTED:
            live = [o for o in earlier if o.status in IN_FORCE]
            earlier_in_force = live[-1].first_seen_at if live else None
        elif r.status in IN_FORCE:
            gone = [o for o in earlier if o.superseded_by == r.sha256]
            replaced = gone[-1].first_seen_at if gone else None
    line: str = status_line(
        original_name=r.original_name,
        submitter=r.submitter,
        quarter_end=r.quarter_end,
        status=r.status,
        errors=r.errors,
        warnings=r.warnings,
        late=r.late,
        revision=r.revision,
        deadline_days=deadline_days,
        earlier_in_force=earlier_in_force,
        replaced=replaced,
    )
    return line


def answer_copies(run: IntakeRun) -> None:
    """Feedback for each byte-identical copy: which earlier file it repeats, and its status.

    Written once per name (an existing answer is left alone); not ledgered, as the copy
    is not a submission of its own.
    """
    if not run.copies or not run.feedback_usable():
        return
    subs, files = ledger.submissions, ledger.files
    with run.engine.connect() as conn:
        for cand, sha in run.copies:
            xlsx, _ = feedback_paths(run.inbox, cand.name)
            if os.path.lexists(xlsx):
                continue
            row = conn.execute(
                sa.select(files.c.original_name, files.c.first_seen_at, subs.c.status)
                .outerjoin(subs, subs.c.sha256 == files.c.sha256)
                .where(files.c.sha256 == sha)
            ).first()
            if row is None or row.original_name == cand.name:
                continue
            line = copy_line(cand.name, row.original_name, row.status, row.first_seen_at)
            same = ParsedReturn(file_name=cand.name, findings=stored_findings(conn, sha))
            if write_answer(run, same, line, cand.name):
                log.info("intake: %s answered as a copy", sha[:12])
