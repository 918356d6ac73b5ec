"""A submission's status, decided from what is known of it: pure, no store, no files.

Filing gathers the facts (the checked workbook, the returns in force for its lead and
quarter, the quarters already reported, the deadline) and `decide` says what becomes of
it: its status, which returns it supersedes or is superseded by, whether it is late or a
revision, and the line its lead reads on top of the feedback.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from transforms.findings import IN_FORCE, STATUS_REJECTED, STATUS_SUPERSEDED
from transforms.quarters import LONDON, due_date, is_late


@dataclass(frozen=True)
class Live:
    """A submission in force: what supersession and the feedback line need of it."""

    sha256: str
    seq: int
    first_seen_at: dt.datetime


@dataclass(frozen=True)
class Submission:
    """What is known of one checked workbook when it is filed (no child-level values)."""

    sha256: str
    seq: int
    original_name: str
    first_seen_at: dt.datetime
    submitter: str | None
    quarter_end: dt.date | None
    checked_status: str  # what its findings give
    errors: int
    warnings: int

    @property
    def cover_read(self) -> bool:
        """Whether the Cover gave both the submitter code and the quarter end."""
        return bool(self.submitter and self.quarter_end)


@dataclass(frozen=True)
class Outcome:
    """What filing does with a submission, and what its lead is told."""

    status: str
    errors: int
    warnings: int
    late: bool
    revision: bool  # accepted for a quarter whose report was already issued
    line: str  # the line on top of the feedback
    cover_missing: bool = False  # the INTAKE-COVER error is added to its findings
    keeps_rows: bool = False  # its sheet rows are stored (accepted, even if born superseded)
    superseded_by: str | None = None  # a later return in force, when born superseded
    supersedes: tuple[str, ...] = ()  # earlier returns in force that this one replaces

    @property
    def in_force(self) -> bool:
        """Whether this submission is now the one in force for its lead and quarter."""
        return self.status in IN_FORCE


def decide(
    sub: Submission,
    in_force: Collection[Live],
    issued: Collection[dt.date],
    deadline_days: int,
) -> Outcome:
    """The status and feedback line of `sub`, given the returns in force for its lead and
    quarter (in intake order) and the quarter ends already issued.

    A workbook that passes its checks without a readable Cover is rejected (it cannot be
    placed). An accepted return replaces the earlier ones in force; one received before a
    return already in force is filed as superseded. A late or revised return is flagged.
    """
    cover_missing = sub.checked_status in IN_FORCE and not sub.cover_read
    status = STATUS_REJECTED if cover_missing else sub.checked_status
    accepted = status in IN_FORCE
    errors = sub.errors + int(cover_missing)
    late = sub.quarter_end is not None and is_late(
        sub.quarter_end, utc(sub.first_seen_at), deadline_days
    )
    revision = accepted and sub.quarter_end in issued
    place = _Place()
    if sub.cover_read:
        place = _placed(sub.seq, accepted, in_force)
    if place.superseded_by is not None:
        status = STATUS_SUPERSEDED
    line = status_line(
        original_name=sub.original_name,
        submitter=sub.submitter,
        quarter_end=sub.quarter_end,
        status=status,
        errors=errors,
        warnings=sub.warnings,
        late=late,
        revision=revision,
        deadline_days=deadline_days,
        earlier_in_force=place.earlier_in_force,
        replaced=place.replaced,
    )
    return Outcome(
        status=status,
        errors=errors,
        warnings=sub.warnings,
        late=late,
        revision=revision,
        line=line,
        cover_missing=cover_missing,
        keeps_rows=accepted,
        superseded_by=place.superseded_by,
        supersedes=place.supersedes,
    )


@dataclass(frozen=True)
class _Place:
    """Where a return stands among the returns in force for its lead and quarter."""

    superseded_by: str | None = None  # a later return in force: this one is born superseded
    supersedes: tuple[str, ...] = ()  # the earlier returns in force it replaces
    replaced: dt.datetime | None = None  # when the return it replaces was received
    earlier_in_force: dt.datetime | None = None  # rejected: when the one left in force came


def _placed(seq: int, accepted: bool, in_force: Collection[Live]) -> _Place:
    """An accepted return replaces the earlier ones in force, unless a later one is in
    force; a rejected one leaves the earlier one in force."""
    earlier = [r for r in in_force if r.seq < seq]
    later = [r for r in in_force if r.seq > seq]
    if accepted and later:
        return _Place(superseded_by=later[-1].sha256)
    if accepted:
        replaced = earlier[-1].first_seen_at if earlier else None
        return _Place(supersedes=tuple(r.sha256 for r in earlier), replaced=replaced)
    return _Place(earlier_in_force=earlier[-1].first_seen_at if earlier else None)


def utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC datetime (SQLite hands back naive datetimes, stored as UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _when(at: dt.datetime) -> str:
    return utc(at).astimezone(LONDON).strftime("%d %b %Y %H:%M")


def status_line(
    *,
    original_name: str,
    submitter: str | None,
    quarter_end: dt.date | None,
    status: str,
    errors: int,
    warnings: int,
    late: bool,
    revision: bool,
    deadline_days: int,
    earlier_in_force: dt.datetime | None = None,
    replaced: dt.datetime | None = None,
) -> str:
    """The one line on top of the feedback: outcome, counts, and what is now in force.

    `earlier_in_force`: when the earlier accepted return left in force (rejected
    resubmission) was received; `replaced`: when the return this one supersedes was received.
    """
    head = f"{submitter} {quarter_end.isoformat()}" if submitter and quarter_end else original_name
    line = f"{head}: {status} — {_plural(errors, 'error')}, {_plural(warnings, 'warning')}."
    if status == STATUS_REJECTED:
        if earlier_in_force is not None:
            line += (
                f" Your earlier accepted return (received {_when(earlier_in_force)}) "
                "stays in force."
            )
        else:
            line += " Nothing from this workbook is used: please correct it and send it again."
        if not (submitter and quarter_end):
            line += " The Cover sheet could not be read (submitter code and quarter end)."
    elif status == STATUS_SUPERSEDED:
        line += " A later return you sent for this quarter is in force instead."
    elif replaced is not None:
        line += f" It replaces your earlier return (received {_when(replaced)})."
    if late and quarter_end:
        line += f" Received after the due date ({due_date(quarter_end, deadline_days):%d %b %Y})."
    if revision:
        line += (
            " The report for this quarter was already issued: the next report will show "
            "the revised figures."
        )
    return line


def copy_line(original_name: str, earlier: str, status: str | None, received: dt.datetime) -> str:
    """The feedback line for a byte-identical copy of a file already received."""
    what = f"which is {status}" if status else "which is waiting to be checked"
    return (
        f"{original_name} is the same file as {earlier} (received {_when(received)}), {what}. "
        "It was not filed again: its feedback is under the earlier name."
    )
