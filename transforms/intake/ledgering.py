"""Filing a group of checked workbooks: statuses, supersessions, findings, accepted rows.

A group (up to `FILING_GROUP` files) is written in one transaction with one statement per
table: per-file statements were most of the cost of filing. Which return is in force is
followed in memory (`InForce`), so each file is filed exactly as if the ones before it had
been committed first, and a crash leaves each file wholly filed or still pending.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field

import sqlalchemy as sa

from transforms.findings import IN_FORCE, STATUS_SUPERSEDED, Finding, ParsedReturn
from transforms.intake.decision import Live, Outcome, Submission, decide
from transforms.intake.intake_run import IntakeRun, crash_point
from transforms.intake.results import Checked, PendingFile
from transforms.store import accepted as accepted_store
from transforms.store import ledger
from transforms.store.ledger import LedgerRow

log = logging.getLogger(__name__)

FILING_GROUP = 500  # files per filing transaction (bounds its size and its IN lists)

COVER_FINDING = Finding(
    "error",
    "INTAKE-COVER",
    "The Cover sheet must give the submitter code and the quarter end date.",
    sheet="Cover",
)


class InForce:
    """The returns in force per (submitter, quarter), kept current while a group is filed."""

    def __init__(self, rows: list[LedgerRow]) -> None:
        self._by_key: dict[tuple[str, dt.date], list[Live]] = {}
        for r in rows:  # in intake order
            self._by_key.setdefault((r.submitter, r.quarter_end), []).append(
                Live(r.sha256, r.seq, r.first_seen_at)
            )

    def of(self, submitter: str | None, quarter_end: dt.date | None) -> list[Live]:
        """In force for this return, in intake order (normally one; none without a Cover)."""
        if submitter is None or quarter_end is None:
            return []
        return self._by_key.get((submitter, quarter_end), [])

    def replace(self, submitter: str, quarter_end: dt.date, live: Live) -> None:
        """`live` is now the one in force: the earlier ones were superseded by it."""
        self._by_key[(submitter, quarter_end)] = [live]


@dataclass
class SubmissionRow:
    """The ledger's row for a filed workbook (`ledger.submissions`)."""

    sha256: str
    seq: int
    submitter: str | None
    quarter_end: dt.date | None
    date_completed: dt.date | None
    status: str
    errors: int
    warnings: int
    late: bool
    revision: bool
    processed_at: dt.datetime
    superseded_by: str | None
    feedback_path: str | None = None


@dataclass
class GroupRows:
    """The rows of a group of filed workbooks, written with one statement per table."""

    submissions: dict[str, SubmissionRow] = field(default_factory=dict)
    superseded: list[tuple[str, str]] = field(default_factory=list)  # (old, new) in the store
    findings: list[tuple[str, Finding]] = field(default_factory=list)
    accepted_workbooks: list[tuple[str, ParsedReturn]] = field(default_factory=list)
    events: list[dict[str, object]] = field(default_factory=list)

    def supersede(self, old: str, new: str, at: dt.datetime) -> None:
        """Mark `old` superseded by `new`, whether it is in the store or in this group."""
        if old in self.submissions:
            self.submissions[old].status = STATUS_SUPERSEDED
            self.submissions[old].superseded_by = new
        else:
            self.superseded.append((old, new))
        self.events.append(ledger.event_row(old, "superseded", at, f"by {new}"))

    def accepted(self, sha256: str, parsed: ParsedReturn) -> int:
        """Queue an accepted workbook's sheet rows (converted together at `execute`); how many."""
        self.accepted_workbooks.append((sha256, parsed))
        return sum(len(frame) for frame in parsed.sheets.values())

    def execute(self, conn: sa.Connection) -> None:
        """Supersessions, submissions, findings, accepted rows, then events (in order)."""
        subs = ledger.submissions
        if self.superseded:
            conn.execute(
                subs.update()
                .where(subs.c.sha256 == sa.bindparam("old"))
                .values(status=STATUS_SUPERSEDED, superseded_by=sa.bindparam("new")),
                [{"old": old, "new": new} for old, new in self.superseded],
            )
        if self.submissions:
            conn.execute(subs.insert(), [ledger.row_of(s) for s in self.submissions.values()])
        if self.findings:
            conn.execute(ledger.findings.insert(), [_finding_row(*f) for f in self.findings])
        accepted_store.save_rows(conn, accepted_store.accepted_rows_of(self.accepted_workbooks))
        ledger.record_events(conn, self.events)


def _finding_row(sha256: str, f: Finding) -> dict[str, object]:
    return {
        "sha256": sha256,
        "severity": f.severity,
        "rule": f.rule,
        "sheet": f.sheet,
        "cell": f.cell,
        "row": f.row,
        "column": f.column,
        "message": f.message,
        "expected": f.expected,
        "value": None if f.value is None else str(f.value),
    }


def file_group(run: IntakeRun, checked: list[Checked]) -> list[Outcome | None]:
    """Status, findings and accepted rows of each workbook, all in one transaction.

    One outcome per workbook, None if it was already filed (by another intake).
    """
    from transforms.store.history import issued_quarters

    shas = [c.file.sha256 for c in checked]
    subs = ledger.submissions
    with run.engine.begin() as conn:
        done = set(conn.execute(sa.select(subs.c.sha256).where(subs.c.sha256.in_(shas))).scalars())
        issued = issued_quarters(conn)
        submitters = {c.parsed.cover.submitter for c in checked if c.parsed.cover.submitter}
        in_force = InForce(ledger.returns_of(conn, submitters, IN_FORCE))
        group = GroupRows()
        outcomes = [
            None if c.file.sha256 in done else file_one(run, c, issued, in_force, group)
            for c in checked
        ]
        group.execute(conn)
        crash_point("before_status_commit")
    for c, outcome in zip(checked, outcomes, strict=True):
        if outcome is not None:
            cover = c.parsed.cover
            log.info(
                "intake: %s %s %s: %s",
                c.file.sha256[:12],
                cover.submitter or "-",
                cover.quarter_end or "-",
                outcome.status,
            )
    return outcomes


def file_one(
    run: IntakeRun, c: Checked, issued: Collection[dt.date], in_force: InForce, group: GroupRows
) -> Outcome:
    """One workbook's status and rows, added to `group`; its outcome (`decision.decide`)."""
    row, parsed, cover = c.file, c.parsed, c.parsed.cover
    current = in_force.of(cover.submitter, cover.quarter_end)
    outcome = decide(submission_of(c), current, issued, run.rspec.periods.deadline_days)
    if outcome.cover_missing:
        parsed.findings.append(COVER_FINDING)
    for old in outcome.supersedes:
        group.supersede(old, row.sha256, run.now())
    if outcome.in_force and cover.submitter and cover.quarter_end:
        live = Live(row.sha256, row.seq, row.first_seen_at)
        in_force.replace(cover.submitter, cover.quarter_end, live)
    group.submissions[row.sha256] = submission_row(run, row, parsed, outcome)
    group.findings.extend((row.sha256, f) for f in parsed.findings)
    rows = group.accepted(row.sha256, parsed) if outcome.keeps_rows else 0
    detail = (
        f"{outcome.status}; {outcome.errors} errors, {outcome.warnings} warnings; "
        f"{rows} rows stored"
    )
    group.events.append(ledger.event_row(row.sha256, "checked", run.now(), detail))
    return outcome


def submission_of(c: Checked) -> Submission:
    """What `decide` needs to know of a checked workbook."""
    cover = c.parsed.cover
    return Submission(
        sha256=c.file.sha256,
        seq=c.file.seq,
        original_name=c.file.original_name,
        first_seen_at=c.file.first_seen_at,
        submitter=cover.submitter,
        quarter_end=cover.quarter_end,
        checked_status=c.parsed.status,
        errors=c.parsed.errors,
        warnings=c.parsed.warnings,
    )


def submission_row(
    run: IntakeRun, row: PendingFile, parsed: ParsedReturn, outcome: Outcome
) -> SubmissionRow:
    """The submissions row of a workbook filed with `outcome`."""
    return SubmissionRow(
        sha256=row.sha256,
        seq=row.seq,
        submitter=parsed.cover.submitter,
        quarter_end=parsed.cover.quarter_end,
        date_completed=parsed.cover.date_completed,
        status=outcome.status,
        errors=outcome.errors,
        warnings=outcome.warnings,
        late=outcome.late,
        revision=outcome.revision,
        processed_at=run.now(),
        superseded_by=outcome.superseded_by,
    )
