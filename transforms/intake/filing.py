"""Filing returns safely: arrival, safe keeping, checking, statuses and feedback.

The order of work is what makes a run safe to kill at any point and re-run:

1. every stable new file is copied into the content-addressed archive and ledgered in its
   own committed transaction (nothing is parsed before the copy is safe);
2. every ledgered file without a submission row — new now, or left by an interrupted run —
   is checked from its archived copy; its status, findings and accepted rows are written in
   one transaction, so a crash leaves either all of them or none;
3. feedback is written next to the lead's file; a submission whose feedback was never
   written gets it on the next run.

Plain Python: the Prefect flow wraps `run_intake`. Nothing here logs child-level values.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from transforms.atomic import atomic_write, sync_to_disk
from transforms.faults import OperatorError
from transforms.findings import (
    IN_FORCE,
    STATUS_ACCEPTED,
    STATUS_REJECTED,
    STATUS_SUPERSEDED,
    STATUS_WARNINGS,
    Cover,
    Finding,
    ParsedReturn,
)
from transforms.intake.archive import ArchiveError, archive_file, archive_relpath, verified
from transforms.intake.arrival import Candidate, Skipped, sha256_file, stable_files, unchanged_since
from transforms.intake.feedback_place import (
    FEEDBACK_DIR,  # noqa: F401 - part of this module's interface
    feedback_folder_problem,
    feedback_paths,
    inside_feedback,
)
from transforms.progress import READING, Progress, no_progress
from transforms.quarters import LONDON, due_date, is_late, previous_quarter
from transforms.store import accepted as accepted_store
from transforms.store import ledger
from transforms.store.db import create_all

if TYPE_CHECKING:
    from transforms.spec import ReturnSpec

log = logging.getLogger(__name__)

CRASH_ENV = "DATASUMMARY_INTAKE_CRASH_AT"  # test hook: kill the process at a named point

Checker = Callable[..., ParsedReturn]
BATCH_SIZE = 500  # workbooks per GX run: amortises GX set-up (~1.5 s), bounds memory
FeedbackWriter = Callable[..., Path]
FeedbackText = Callable[..., str]


# ---------------------------------------------------------------- prior data
class PriorData(Protocol):
    """What the cross-quarter checks need from earlier accepted returns."""

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None: ...

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]: ...


class StorePriorData:
    """PriorData read from the store: the in-force return of the quarter before `quarter_end`.

    `quarter_end` is the quarter of the workbook being checked; the look-up is for the
    previous quarter. Each call queries afresh, so data accepted earlier in the same intake
    is seen.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        """The item's value last quarter; None when no accepted return or value not available."""
        table = accepted_store.tables().get(sheet)
        if table is None or "item" not in table.c:
            return None
        query = (
            sa.select(table.c.value)
            .join(ledger.submissions, ledger.submissions.c.sha256 == table.c.sha256)
            .where(
                ledger.submissions.c.status.in_(IN_FORCE),
                table.c.submitter == submitter,
                table.c.quarter_end == previous_quarter(quarter_end),
                table.c.item == item,
            )
            .order_by(ledger.submissions.c.seq.desc())
        )
        value = self._conn.execute(query).scalars().first()
        return None if value is None else int(value)

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        """action_id -> status in the lead's in-force Progress return of last quarter."""
        table = accepted_store.tables().get("Progress")
        if table is None:
            return {}
        query = (
            sa.select(table.c.action_id, table.c.status)
            .join(ledger.submissions, ledger.submissions.c.sha256 == table.c.sha256)
            .where(
                ledger.submissions.c.status.in_(IN_FORCE),
                table.c.submitter == submitter,
                table.c.quarter_end == previous_quarter(quarter_end),
            )
            .order_by(table.c.excel_row)
        )
        return {a: s for a, s in self._conn.execute(query) if a is not None and s is not None}


class BatchPriorData:
    """Store prior data seen through the workbooks checked earlier in the same batch.

    Intake checks pending files in batches (one GX run per sheet type) but must give each file
    the answer it would get if every earlier file had been filed first. `add` is called as
    each file's check completes; an in-batch return in force wins over the store's when it is
    later in intake order (a later in-force return supersedes an earlier one).

    The store does not change while a batch is checked (its files are filed afterwards), so
    the store's side is read once per sheet item, once for progress and once per return,
    not once per file: per-file queries were a large part of checking.
    """

    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn
        self._batch: dict[tuple[str, dt.date], tuple[int, ParsedReturn]] = {}
        self._store_seqs: dict[tuple[str, dt.date], list[int]] = {}
        self._items: dict[tuple[str, str], dict[tuple[str, dt.date], Any]] = {}
        self._progress: dict[tuple[str, dt.date], dict[str, str]] | None = None

    def add(self, seq: int, parsed: ParsedReturn) -> None:
        """Record a checked workbook; only one that will be in force can be prior data."""
        cover = parsed.cover
        if parsed.status in IN_FORCE and cover.submitter and cover.quarter_end:
            key = (cover.submitter, cover.quarter_end)
            if key not in self._batch or self._batch[key][0] < seq:
                self._batch[key] = (seq, parsed)

    def _in_batch(self, submitter: str, quarter_end: dt.date) -> ParsedReturn | None:
        key = (submitter, previous_quarter(quarter_end))
        found = self._batch.get(key)
        if found is None:
            return None
        seq, parsed = found
        if key not in self._store_seqs:
            self._store_seqs[key] = [
                r.seq for r in ledger.same_return(self._conn, submitter, key[1], IN_FORCE)
            ]
        return None if any(s > seq for s in self._store_seqs[key]) else parsed

    def _store_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        """As `StorePriorData.previous_item`, from one query per (sheet, item)."""
        table = accepted_store.tables().get(sheet)
        if table is None or "item" not in table.c:
            return None
        if (sheet, item) not in self._items:
            subs = ledger.submissions
            query = (
                sa.select(table.c.submitter, table.c.quarter_end, table.c.value)
                .join(subs, subs.c.sha256 == table.c.sha256)
                .where(subs.c.status.in_(IN_FORCE), table.c.item == item)
                .order_by(subs.c.seq.desc())
            )
            latest: dict[tuple[str, dt.date], Any] = {}
            for submitter_, quarter, value in self._conn.execute(query):
                latest.setdefault((submitter_, quarter), value)
            self._items[(sheet, item)] = latest
        value = self._items[(sheet, item)].get((submitter, previous_quarter(quarter_end)))
        return None if value is None else int(value)

    def _store_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        """As `StorePriorData.previous_progress`, from one query for the whole store."""
        table = accepted_store.tables().get("Progress")
        if table is None:
            return {}
        if self._progress is None:
            subs = ledger.submissions
            query = (
                sa.select(table.c.submitter, table.c.quarter_end, table.c.action_id, table.c.status)
                .join(subs, subs.c.sha256 == table.c.sha256)
                .where(subs.c.status.in_(IN_FORCE))
                .order_by(table.c.excel_row)
            )
            self._progress = {}
            for submitter_, quarter, action, status in self._conn.execute(query):
                if action is not None and status is not None:
                    self._progress.setdefault((submitter_, quarter), {})[action] = status
        return dict(self._progress.get((submitter, previous_quarter(quarter_end)), {}))

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        """As `StorePriorData.previous_item`, earlier files of this batch included."""
        parsed = self._in_batch(submitter, quarter_end)
        if parsed is None:
            return self._store_item(submitter, sheet, item, quarter_end)
        frame = parsed.sheets.get(sheet)
        if frame is None or "item" not in frame.columns:
            return None
        items = frame["item"].tolist()
        if item not in items:
            return None
        value = frame["value"].iloc[items.index(item)]  # the first row of that item
        return None if _missing(value) else int(value)

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        """As `StorePriorData.previous_progress`, earlier files of this batch included."""
        parsed = self._in_batch(submitter, quarter_end)
        if parsed is None:
            return self._store_progress(submitter, quarter_end)
        frame = parsed.sheets.get("Progress")
        if frame is None:
            return {}
        rows = sorted(
            zip(
                frame["excel_row"].tolist(),
                frame["action_id"].tolist(),
                frame["status"].tolist(),
                strict=True,
            ),
            key=lambda r: r[0],
        )
        return {a: s for _, a, s in rows if not _missing(a) and not _missing(s)}


def _missing(value: Any) -> bool:
    import pandas as pd  # only checking needs it; a re-run with nothing new must not

    if value is None or value is pd.NA:  # pd.NA first: comparing it gives NA, not a bool
        return True
    return not isinstance(value, str) and bool(value != value)


def store_prior_data(conn: sa.Connection) -> PriorData:
    """The PriorData the checker uses during intake, backed by the store."""
    return StorePriorData(conn)


# ---------------------------------------------------------------- results
@dataclass(frozen=True)
class ProcessedSubmission:
    """One workbook checked in this intake (no child-level values: fit for an artifact)."""

    sha256: str
    original_name: str
    submitter: str | None
    quarter_end: dt.date | None
    status: str
    errors: int
    warnings: int
    late: bool
    revision: bool
    seq: int
    feedback: str | None = None  # feedback file name in INBOX/feedback/

    def as_row(self) -> dict[str, Any]:
        """JSON-safe row for a Prefect table artifact."""
        row = asdict(self)
        row["quarter_end"] = self.quarter_end.isoformat() if self.quarter_end else None
        return row


@dataclass
class IntakeResult:
    """What one intake did: checked submissions, files left alone, and failures."""

    processed: list[ProcessedSubmission] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    unchanged: int = 0
    archived: int = 0
    feedback_rewritten: int = 0
    feedback_problem: str | None = None  # feedback/ unusable: the operator must put it right

    def passed_over(self) -> list[dict[str, str]]:
        """Every file left alone, not checked or answered as a copy, and why (for summaries).

        File names and reasons only: fit for the CLI and a Prefect artifact.
        """
        return [{"file": s.name, "reason": s.reason} for s in (*self.skipped, *self.failed)]

    def raise_for_operator(self) -> None:
        """Raise `OperatorError` when the run could not do all its work (feedback/ unusable)."""
        if self.feedback_problem:
            filed = len(self.processed)
            raise OperatorError(f"intake filed {filed} workbook(s) but {self.feedback_problem}")

    @property
    def counts(self) -> dict[str, int]:
        """Headline numbers for the run summary."""
        out = {
            "processed": len(self.processed),
            "archived": self.archived,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "feedback_rewritten": self.feedback_rewritten,
        }
        for status in (STATUS_ACCEPTED, STATUS_WARNINGS, STATUS_REJECTED, STATUS_SUPERSEDED):
            out[status] = sum(p.status == status for p in self.processed)
        out["late"] = sum(p.late for p in self.processed)
        out["revision"] = sum(p.revision for p in self.processed)
        return out


# ---------------------------------------------------------------- helpers
def _crash_point(name: str) -> None:
    """Test hook: die abruptly here when CRASH_ENV names this point (proves re-runnability)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _returns_spec(spec: Any) -> ReturnSpec:
    if spec is None:
        from transforms.spec import default_spec

        return default_spec().returns
    return spec.returns if hasattr(spec, "returns") else spec


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC datetime (SQLite hands back naive datetimes, stored as UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _when(at: dt.datetime) -> str:
    return _utc(at).astimezone(LONDON).strftime("%d %b %Y %H:%M")


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


def _default_checker() -> Checker:
    """`check_workbook`, in the intake sandbox (a file that crashes its reader costs itself)."""
    from transforms.intake.validate import check_workbook

    try:
        from transforms.intake.validate import INTAKE_SANDBOX
    except ImportError:  # a stand-in validate module (tests) has no sandbox
        return check_workbook
    return functools.partial(check_workbook, sandbox=INTAKE_SANDBOX)


def gx_stage_of(
    located: list[tuple[sa.Row, Path]],
    spec: Any,
    today: dt.date,
    progress: Progress = no_progress,
) -> list[Any]:
    """Pre-flight, parse and GX-check the archived copies (one GX run per sheet type)."""
    from transforms.intake.validate import INTAKE_SANDBOX, gx_checked_workbooks

    return gx_checked_workbooks(
        [(path, row.original_name) for row, path in located],
        spec=spec,
        today=today,
        progress=progress,
        sandbox=INTAKE_SANDBOX,
    )


def _default_writers() -> tuple[FeedbackWriter, FeedbackText]:
    from transforms.intake.feedback import feedback_text, write_feedback_workbook

    return write_feedback_workbook, feedback_text


# ---------------------------------------------------------------- filing a group
FILING_GROUP = 500  # files per filing transaction (bounds its size and its IN lists)


@dataclass(frozen=True)
class _Live:
    """A submission in force: what supersession and the feedback line need of it."""

    sha256: str
    seq: int
    first_seen_at: dt.datetime


class _InForce:
    """The returns in force per (submitter, quarter), kept current while a group is filed."""

    def __init__(self, rows: list[sa.Row]) -> None:
        self._by_key: dict[tuple[str, dt.date], list[_Live]] = {}
        for r in rows:  # in intake order
            self._by_key.setdefault((r.submitter, r.quarter_end), []).append(
                _Live(r.sha256, r.seq, r.first_seen_at)
            )

    def of(self, submitter: str, quarter_end: dt.date) -> list[_Live]:
        """In force for this return, in intake order (normally one)."""
        return self._by_key.get((submitter, quarter_end), [])

    def replace(self, submitter: str, quarter_end: dt.date, live: _Live) -> None:
        """`live` is now the one in force: the earlier ones were superseded by it."""
        self._by_key[(submitter, quarter_end)] = [live]


@dataclass
class _Filing:
    """The rows of a group of filed workbooks, written with one statement per table."""

    submissions: dict[str, dict[str, Any]] = field(default_factory=dict)
    superseded: list[dict[str, Any]] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def submission(self, values: dict[str, Any]) -> None:
        self.submissions[values["sha256"]] = values

    def supersede(self, old: str, new: str, at: dt.datetime) -> None:
        """Mark `old` superseded by `new`, whether it is in the store or in this group."""
        if old in self.submissions:
            self.submissions[old].update(status=STATUS_SUPERSEDED, superseded_by=new)
        else:
            self.superseded.append({"old": old, "new": new})
        self.events.append(ledger.event_row(old, "superseded", at, f"by {new}"))

    def accepted(self, sha256: str, parsed: ParsedReturn) -> int:
        """Queue an accepted workbook's sheet rows; how many."""
        written = 0
        for sheet, params in accepted_store.accepted_rows(sha256, parsed).items():
            self.rows.setdefault(sheet, []).extend(params)
            written += len(params)
        return written

    def execute(self, conn: sa.Connection) -> None:
        """Supersessions, submissions, findings, accepted rows, then events (in order)."""
        subs = ledger.submissions
        if self.superseded:
            conn.execute(
                subs.update()
                .where(subs.c.sha256 == sa.bindparam("old"))
                .values(status=STATUS_SUPERSEDED, superseded_by=sa.bindparam("new")),
                self.superseded,
            )
        if self.submissions:
            conn.execute(subs.insert(), list(self.submissions.values()))
        if self.findings:
            conn.execute(ledger.findings.insert(), self.findings)
        accepted_store.save_rows(conn, self.rows)
        ledger.record_events(conn, self.events)


# ---------------------------------------------------------------- the run
class _Intake:
    """State of one run; `run_intake` is the public entry point."""

    progress: Progress = no_progress  # told of each workbook filed
    to_file = 0  # workbooks pending at the last look (the total `progress` is told)

    def __init__(
        self,
        inbox: Path,
        output: Path,
        engine: sa.Engine,
        *,
        spec: Any,
        now: dt.datetime | None,
        checker: Checker | None,
        feedback_writer: FeedbackWriter | None,
        feedback_text: FeedbackText | None,
    ) -> None:
        self.inbox, self.output, self.engine = Path(inbox), Path(output), engine
        self.spec = spec
        self.fixed_now = _utc(now) if now is not None else None
        self.checker = checker
        self.feedback_writer, self.feedback_text = feedback_writer, feedback_text
        self.result = IntakeResult()
        self.sources: dict[str, Candidate] = {}  # sha256 -> inbox file seen this run
        self.copied: set[str] = set()  # archived (and verified) by this run: not re-read
        # What the ledger said at arrival; until then, assume there may be work.
        self.may_have_pending = self.may_lack_feedback = True
        self.sheet_tables = False  # the accepted-data tables made sure of this run
        self.unrecorded: list[tuple[str, Path, list[Path]]] = []  # feedback not ledgered
        self.copies: list[tuple[Candidate, str]] = []  # same bytes as a file under another name
        self._names: dict[str, str] | None = None  # sha256 -> name the ledger knows it by
        with engine.connect() as conn:  # path -> (size, mtime_ns, sha256)
            self.hashes = ledger.cached_hashes(conn, str(self.inbox))

    @functools.cached_property
    def rspec(self) -> ReturnSpec:
        """The return specification, loaded when a file is filed (a re-run needs none)."""
        return _returns_spec(self.spec)

    def now(self) -> dt.datetime:
        return self.fixed_now or dt.datetime.now(dt.UTC)

    # -- 1. arrival and safe keeping
    def known(self, cand: Candidate) -> bool:
        """Whether this file was hashed before with the same size and mtime."""
        cached = self.hashes.get(cand.location)
        return cached is not None and cached[:2] == (cand.size, cand.mtime_ns)

    def arrive(self, ready: list[Candidate]) -> None:
        """Archive every new file, make the copies durable together, then ledger each.

        Nothing is ledgered before its archived copy is on disk; one sync for all the copies
        replaces an fsync per file and per folder.
        """
        with self.engine.connect() as conn:
            state = ledger.ledger_state(conn)
        states = dict(state.checked)
        self.may_lack_feedback = state.without_feedback > 0
        self.may_have_pending = state.unchecked
        seen_at = self.now()  # one "first seen" time per intake
        fresh: list[dict[str, Any]] = []
        try:
            new = [
                (cand, sha)
                for cand in ready
                if (sha := self.sha_of(cand, fresh)) is not None and self.is_new(cand, sha, states)
            ]
            kept = [
                (cand, sha, path)
                for cand, sha in new
                if (path := self.archive(cand, sha, states)) is not None
            ]
            sync_to_disk([path for _, _, path in kept])
            self.may_have_pending = self.may_have_pending or bool(kept)
            _crash_point("after_archive")
            self.ledger_arrivals([(cand, sha) for cand, sha, _ in kept], seen_at)
        finally:
            with self.engine.begin() as conn:
                ledger.remember_hashes(conn, fresh)

    def sha_of(self, cand: Candidate, fresh: list[dict[str, Any]]) -> str | None:
        """The file's SHA-256: cached when path, size and mtime are unchanged, else read."""
        if self.known(cand):
            return self.hashes[cand.location][2]
        try:
            sha = sha256_file(cand.path)
        except OSError as exc:
            self.result.skipped.append(Skipped(cand.name, f"could not be read ({exc.strerror})"))
            return None
        if not unchanged_since(cand):
            self.result.skipped.append(
                Skipped(cand.name, "changed while being read; left for the next intake")
            )
            return None
        fresh.append(
            {"path": cand.location, "size": cand.size, "mtime_ns": cand.mtime_ns, "sha256": sha}
        )
        return sha

    def is_new(self, cand: Candidate, sha: str, states: dict[str, bool]) -> bool:
        """Whether a hashed file is new content to keep (not a duplicate, not known).

        A copy under another name is answered (`answer_copies`), except that bytes rejected
        for their name alone are checked afresh under a `.xlsx` name (`recheck_for_name`).
        """
        if sha in self.sources and not states.get(sha, False):
            self.result.skipped.append(
                Skipped(cand.name, f"same content as {self.sources[sha].name}; filed once")
            )
            self.copies.append((cand, sha))
            return False
        self.sources.setdefault(sha, cand)
        if sha in states:  # ledgered before: filed (unchanged) or waiting to be checked
            known_as = self.known_names().get(sha)
            if known_as is not None and known_as != cand.name:
                if self.recheck_for_name(cand, sha, known_as, states):
                    return False
                self.copies.append((cand, sha))
            self.result.unchanged += states[sha]
            return False
        states[sha] = False
        return True

    def known_names(self) -> dict[str, str]:
        """sha256 -> the name each ledgered file was received under (read once a run)."""
        if self._names is None:
            files = ledger.files
            with self.engine.connect() as conn:
                self._names = dict(
                    conn.execute(sa.select(files.c.sha256, files.c.original_name)).all()
                )
        return self._names

    def recheck_for_name(
        self, cand: Candidate, sha: str, known_as: str, states: dict[str, bool]
    ) -> bool:
        """Check afresh bytes rejected for their name alone, now sent under a `.xlsx` name.

        The rejection belonged to the name (returns.md §3): its submission and findings are
        removed (the events keep the history) and the file is ledgered again under the new
        name, as received now, so it is checked by this intake like any new file.
        """
        if not (states.get(sha) and cand.name.lower().endswith(".xlsx")):
            return False
        if known_as.lower().endswith(".xlsx"):
            return False
        found = ledger.findings
        with self.engine.begin() as conn:
            named = conn.execute(
                sa.select(sa.func.count()).where(
                    found.c.sha256 == sha, found.c.rule == "P-EXTENSION"
                )
            ).scalar()
            if not named:
                return False
            conn.execute(found.delete().where(found.c.sha256 == sha))
            conn.execute(ledger.submissions.delete().where(ledger.submissions.c.sha256 == sha))
            conn.execute(
                ledger.files.update()
                .where(ledger.files.c.sha256 == sha)
                .values(
                    original_name=cand.name, seq=ledger.next_seq(conn), first_seen_at=self.now()
                )
            )
            ledger.record_event(
                conn,
                sha,
                "renamed",
                self.now(),
                f"sent again as {cand.name}; checked afresh (rejected for its name as {known_as})",
            )
        self.known_names()[sha] = cand.name
        states[sha] = False
        self.may_have_pending = True
        return True

    def answer_copies(self) -> None:
        """Feedback for each byte-identical copy: which earlier file it repeats, and its status.

        Written once per name (an existing answer is left alone); not ledgered, as the copy
        is not a submission of its own.
        """
        if not self.copies or not self.feedback_usable():
            return
        subs, files = ledger.submissions, ledger.files
        with self.engine.connect() as conn:
            for cand, sha in self.copies:
                xlsx, _ = feedback_paths(self.inbox, cand.name)
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
                same = ParsedReturn(file_name=cand.name, findings=self.stored_findings(conn, sha))
                if self.write_answer(same, line, cand.name):
                    log.info("intake: %s answered as a copy", sha[:12])

    def archive(self, cand: Candidate, sha: str, states: dict[str, bool]) -> Path | None:
        """The archived copy (not yet synced); None, and the file left, if it failed."""
        try:
            path = archive_file(cand.path, sha, self.output, durable=False)
            self.copied.add(sha)
            return path
        except (ArchiveError, OSError) as exc:
            reason = str(exc) if isinstance(exc, ArchiveError) else "could not be archived"
            self.result.skipped.append(Skipped(cand.name, f"{reason}; left for the next intake"))
            log.warning("intake: %s not archived: %s", sha[:12], type(exc).__name__)
            del self.sources[sha]
            del states[sha]
            return None

    def ledger_arrivals(self, kept: list[tuple[Candidate, str]], seen_at: dt.datetime) -> None:
        """Ledger archived files in one transaction, in the order given (their `seq`).

        If another intake ledgered one of them first, each is ledgered on its own instead.
        """
        if not kept:
            return
        try:
            with self.engine.begin() as conn:
                ledger.record_files(conn, [self.file_row(cand, sha, seen_at) for cand, sha in kept])
                ledger.record_events(conn, [self.arrival_event(cand, sha) for cand, sha in kept])
        except sa.exc.IntegrityError:
            for cand, sha in kept:
                self.ledger_arrival(cand, sha, seen_at)
            return
        self.result.archived += len(kept)
        for cand, sha in kept:
            log.info("intake: archived %s (%d bytes)", sha[:12], cand.size)

    def ledger_arrival(self, cand: Candidate, sha: str, seen_at: dt.datetime) -> None:
        """Ledger one archived file in its own transaction."""
        try:
            with self.engine.begin() as conn:
                ledger.record_files(conn, [self.file_row(cand, sha, seen_at)])
                ledger.record_events(conn, [self.arrival_event(cand, sha)])
        except sa.exc.IntegrityError:  # another intake ledgered it first
            return
        self.result.archived += 1
        log.info("intake: archived %s (%d bytes)", sha[:12], cand.size)

    def file_row(self, cand: Candidate, sha: str, seen_at: dt.datetime) -> dict[str, Any]:
        return {
            "sha256": sha,
            "size": cand.size,
            "original_name": cand.name,
            "first_seen_at": seen_at,
            "mtime": cand.mtime,
            "archive_path": archive_relpath(sha).as_posix(),
            "inbox": str(self.inbox),
        }

    def arrival_event(self, cand: Candidate, sha: str) -> dict[str, Any]:
        return ledger.event_row(
            sha, "archived", self.now(), f"{cand.size} bytes, first seen as {cand.name}"
        )

    # -- 2. checking and statuses
    def pending(self) -> list[sa.Row]:
        """Ledgered files not yet checked, in intake order."""
        if not self.may_have_pending:
            return []
        with self.engine.connect() as conn:
            rows = list(ledger.unchecked_files(conn))
        self.to_file = len(rows)
        if rows and not self.sheet_tables:
            create_all(self.engine)  # checking reads them, filing writes them
            self.sheet_tables = True
        return rows

    def check_pending(self) -> None:
        """Check and file pending files one at a time (a custom checker, or no batching)."""
        for row in self.pending():
            self.check_one(row)
        self.record_feedback()

    def today(self) -> dt.date:
        return self.now().astimezone(LONDON).date()

    def located(self, rows: list[sa.Row]) -> list[tuple[sa.Row, Path]]:
        """Each row with its verified archived copy; a file with none fails (kept pending)."""
        found = []
        for row in rows:
            path = self.archived_copy(row)
            if path is None:
                self.fail(row, "archived copy missing or damaged and no intact copy in the inbox")
            else:
                found.append((row, path))
        return found

    def finish_and_file(self, located: list[tuple[sa.Row, Path]], prepared: list[Any]) -> None:
        """The store-dependent rules for GX-checked files, then filing, in intake order.

        Filing is one transaction per group of up to `FILING_GROUP` files, so a crash
        leaves each file either wholly filed or still pending. The cross-quarter rules see
        earlier files of the batch as if each had been filed before the next was checked
        (`BatchPriorData`). If the rules fail as a whole, each
        file is checked alone so one file cannot hold the others back.
        """
        from transforms.intake.validate import rules_checked

        try:
            results = []
            with self.engine.connect() as conn:
                prior = BatchPriorData(conn)
                for (row, _), parsed in zip(located, prepared, strict=True):
                    results.append(rules_checked(parsed, spec=self.spec, prior=prior))
                    prior.add(row.seq, results[-1])
        except Exception as exc:  # the checker should never raise: fall back to one by one
            log.error("intake: batch check failed (%s); checking one by one", type(exc).__name__)
            for row, _ in located:
                self.check_one(row)
            self.record_feedback()
            return
        checked = [(row, parsed) for (row, _), parsed in zip(located, results, strict=True)]
        for start in range(0, len(checked), FILING_GROUP):
            self.file_and_answer(checked[start : start + FILING_GROUP])
        self.record_feedback()

    def archived_copy(self, row: sa.Row) -> Path | None:
        """The verified archived copy, re-made from the inbox if it was lost or damaged.

        A copy this run made was verified against its hash as it was made.
        """
        path = self.output / row.archive_path
        if (row.sha256 in self.copied and path.exists()) or verified(path, row.sha256):
            return path
        cand = self.sources.get(row.sha256)
        if cand is not None:
            with contextlib.suppress(ArchiveError, OSError):
                path.unlink(missing_ok=True)
                archive_file(cand.path, row.sha256, self.output)
                if verified(path, row.sha256):
                    return path
        return None

    def check_one(self, row: sa.Row) -> None:
        path = self.archived_copy(row)
        if path is None:
            self.fail(row, "archived copy missing or damaged and no intact copy in the inbox")
            return
        today = self.now().astimezone(LONDON).date()
        try:
            if self.checker is None:
                self.checker = _default_checker()
            with self.engine.connect() as conn:
                parsed = self.checker(
                    path,
                    spec=self.spec,
                    today=today,
                    prior=store_prior_data(conn),
                    original_name=row.original_name,
                )
        except Exception as exc:  # the checker should never raise; keep the file pending
            self.fail(row, f"the checker failed ({type(exc).__name__})")
            return
        self.file_and_answer([(row, parsed)])

    def file_and_answer(self, checked: list[tuple[sa.Row, ParsedReturn]]) -> None:
        """File checked workbooks (status, findings, rows) together, then write feedback."""
        outcomes = self.file_submissions(checked)
        _crash_point("after_status")
        for (row, parsed), outcome in zip(checked, outcomes, strict=True):
            if outcome is None:
                continue
            feedback = self.write_feedback(parsed, outcome, row.original_name)
            self.result.processed.append(
                ProcessedSubmission(
                    sha256=row.sha256,
                    original_name=row.original_name,
                    submitter=parsed.cover.submitter,
                    quarter_end=parsed.cover.quarter_end,
                    status=outcome["status"],
                    errors=outcome["errors"],
                    warnings=outcome["warnings"],
                    late=outcome["late"],
                    revision=outcome["revision"],
                    seq=row.seq,
                    feedback=feedback,
                )
            )
            self.progress("filing and writing feedback", len(self.result.processed), self.to_file)

    def fail(self, row: sa.Row, reason: str) -> None:
        """A file that could not be checked: kept for one more try, then rejected saying why.

        A file whose check fails (or takes the checker down) must not hold intake up for
        ever (returns.md §3): the first failure leaves it pending for the next intake; the
        second files it as rejected with a finding saying it could not be checked and why,
        and its lead is told. Only new bytes (a new file) are checked again.
        """
        with self.engine.begin() as conn:
            earlier = ledger.event_count(conn, row.sha256, "check_failed")
            ledger.record_event(conn, row.sha256, "check_failed", self.now(), reason)
        log.error("intake: %s not checked: %s", row.sha256[:12], reason)
        if earlier < 1:
            self.result.failed.append(
                Skipped(row.original_name, f"{reason}; will retry next intake")
            )
            return
        from transforms.catalogue import make_finding  # loads the spec: only when needed

        finding = make_finding(
            "P-UNREADABLE",
            detail=f"it could not be checked, twice: {reason}. Please send it again",
        )
        self.file_and_answer([(row, ParsedReturn(file_name=row.original_name, findings=[finding]))])

    def file_submissions(
        self, checked: list[tuple[sa.Row, ParsedReturn]]
    ) -> list[dict[str, Any] | None]:
        """Status, findings and accepted rows of each workbook, all in one transaction.

        One outcome per workbook, None if it was already filed. The rows are collected in
        intake order and inserted with one statement per table: per-file statements were
        most of the cost of filing. Which return is in force is followed in memory
        (`_InForce`), so each file is filed exactly as if the ones before it had been
        committed first.
        """
        from transforms.store.history import issued_quarters

        shas = [row.sha256 for row, _ in checked]
        subs = ledger.submissions
        with self.engine.begin() as conn:
            done = set(
                conn.execute(sa.select(subs.c.sha256).where(subs.c.sha256.in_(shas))).scalars()
            )
            issued = issued_quarters(conn)
            submitters = {p.cover.submitter for _, p in checked if p.cover.submitter}
            in_force = _InForce(ledger.returns_of(conn, submitters, IN_FORCE))
            filing = _Filing()
            outcomes = [
                None if row.sha256 in done else self.file_one(row, parsed, issued, in_force, filing)
                for row, parsed in checked
            ]
            filing.execute(conn)
            _crash_point("before_status_commit")
        for (row, parsed), outcome in zip(checked, outcomes, strict=True):
            if outcome is not None:
                log.info(
                    "intake: %s %s %s: %s",
                    row.sha256[:12],
                    parsed.cover.submitter or "-",
                    parsed.cover.quarter_end or "-",
                    outcome["status"],
                )
        return outcomes

    def file_one(
        self,
        row: sa.Row,
        parsed: ParsedReturn,
        issued: set[dt.date],
        in_force: _InForce,
        filing: _Filing,
    ) -> dict[str, Any]:
        """One workbook's status and rows, added to `filing`; its feedback outcome."""
        cover = parsed.cover
        if parsed.status in IN_FORCE and not (cover.submitter and cover.quarter_end):
            parsed.findings.append(
                Finding(
                    "error",
                    "INTAKE-COVER",
                    "The Cover sheet must give the submitter code and the quarter end date.",
                    sheet="Cover",
                )
            )
        status = parsed.status
        accepted = status in IN_FORCE
        first_seen = _utc(row.first_seen_at)
        late = bool(cover.quarter_end) and is_late(
            cover.quarter_end, first_seen, self.rspec.periods.deadline_days
        )
        outcome: dict[str, Any] = {
            "sha": row.sha256,
            "errors": parsed.errors,
            "warnings": parsed.warnings,
            "late": late,
            "earlier_in_force": None,
            "replaced": None,
        }
        revision = accepted and cover.quarter_end in issued
        superseded_by = None
        if cover.submitter and cover.quarter_end:
            current = in_force.of(cover.submitter, cover.quarter_end)
            earlier = [r for r in current if r.seq < row.seq]
            later = [r for r in current if r.seq > row.seq]
            if accepted and later:
                status, superseded_by = STATUS_SUPERSEDED, later[-1].sha256
            elif accepted:
                for old in earlier:
                    filing.supersede(old.sha256, row.sha256, self.now())
                outcome["replaced"] = earlier[-1].first_seen_at if earlier else None
                in_force.replace(
                    cover.submitter,
                    cover.quarter_end,
                    _Live(row.sha256, row.seq, row.first_seen_at),
                )
            elif earlier:
                outcome["earlier_in_force"] = earlier[-1].first_seen_at
        outcome.update(status=status, revision=revision)
        filing.submission(
            {
                "sha256": row.sha256,
                "seq": row.seq,
                "submitter": cover.submitter,
                "quarter_end": cover.quarter_end,
                "date_completed": cover.date_completed,
                "status": status,
                "errors": parsed.errors,
                "warnings": parsed.warnings,
                "late": late,
                "revision": revision,
                "processed_at": self.now(),
                "superseded_by": superseded_by,
                "feedback_path": None,
            }
        )
        filing.findings.extend(
            {
                "sha256": row.sha256,
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
            for f in parsed.findings
        )
        rows = filing.accepted(row.sha256, parsed) if accepted else 0
        filing.events.append(
            ledger.event_row(
                row.sha256,
                "checked",
                self.now(),
                f"{status}; {parsed.errors} errors, {parsed.warnings} warnings; {rows} rows stored",
            )
        )
        return outcome

    # -- 3. feedback
    def writers(self) -> tuple[FeedbackWriter, FeedbackText | None]:
        if self.feedback_writer is None:
            self.feedback_writer, default_text = _default_writers()
            if self.feedback_text is None:
                self.feedback_text = default_text
        return self.feedback_writer, self.feedback_text

    def write_feedback(
        self, parsed: ParsedReturn, outcome: dict[str, Any], original_name: str
    ) -> str | None:
        """Write the feedback files and record where; None (retried next run) on failure."""
        cover = parsed.cover
        line = status_line(
            original_name=original_name,
            submitter=cover.submitter,
            quarter_end=cover.quarter_end,
            status=outcome["status"],
            errors=outcome["errors"],
            warnings=outcome["warnings"],
            late=outcome["late"],
            revision=outcome["revision"],
            deadline_days=self.rspec.periods.deadline_days,
            earlier_in_force=outcome["earlier_in_force"],
            replaced=outcome["replaced"],
        )
        written = self.write_answer(parsed, line, original_name)
        if written is None:
            return None
        self.unrecorded.append((outcome["sha"], written[0], written))
        return written[0].name

    def write_answer(
        self, parsed: ParsedReturn, line: str, original_name: str
    ) -> list[Path] | None:
        """Write `<name>.feedback.xlsx` (and `.txt`) inside `feedback/`; None if not written."""
        xlsx, txt = feedback_paths(self.inbox, original_name)
        if not self.feedback_usable() or not inside_feedback(self.inbox, xlsx):
            return None  # written by a later intake, once feedback/ is put right
        try:
            writer, texter = self.writers()
            atomic_write(
                xlsx,
                lambda tmp: writer(parsed, tmp, status_line=line),
                suffix=".xlsx",
                durable=False,
            )
            written = [xlsx]
            if texter is not None:
                text = texter(parsed, status_line=line)
                atomic_write(
                    txt,
                    lambda tmp: tmp.write_text(text, encoding="utf-8"),
                    suffix=".txt",
                    durable=False,
                )
                written.append(txt)
        except Exception as exc:
            log.error("intake: feedback for %s not written: %s", original_name, type(exc).__name__)
            return None
        return written

    def record_feedback(self) -> None:
        """Make the feedback written so far durable in one sync, then ledger where it is.

        A run that dies before this leaves those submissions without a recorded feedback
        path, and the next run writes their feedback again (`catch_up_feedback`).
        """
        if not self.unrecorded:
            return
        sync_to_disk([p for _, _, paths in self.unrecorded for p in paths])
        subs = ledger.submissions
        with self.engine.begin() as conn:
            conn.execute(
                subs.update()
                .where(subs.c.sha256 == sa.bindparam("sha"))
                .values(feedback_path=sa.bindparam("path")),
                [{"sha": sha, "path": str(xlsx)} for sha, xlsx, _ in self.unrecorded],
            )
            conn.execute(
                ledger.events.insert(),
                [
                    {"sha256": sha, "at": self.now(), "event": "feedback", "detail": xlsx.name}
                    for sha, xlsx, _ in self.unrecorded
                ],
            )
        self.unrecorded.clear()

    def feedback_usable(self) -> bool:
        """Whether `INBOX/feedback/` is a real folder in the inbox now (checked each write)."""
        problem = feedback_folder_problem(self.inbox)
        if problem and not self.result.feedback_problem:
            log.error("intake: %s", problem)
            self.result.feedback_problem = problem
        return problem is None

    def catch_up_feedback(self) -> None:
        """Feedback for submissions filed by an earlier run that died before writing it.

        Also the feedback held back while `feedback/` was not a real folder.
        """
        if not self.may_lack_feedback or not self.feedback_usable():
            return
        with self.engine.connect() as conn:
            rows = ledger.submissions_without_feedback(conn)
            found = {r.sha256: self.stored_findings(conn, r.sha256) for r in rows}
            outcomes = {r.sha256: self.stored_outcome(conn, r) for r in rows}
        for r in rows:
            parsed = ParsedReturn(
                file_name=r.original_name,
                cover=Cover(
                    submitter=r.submitter,
                    quarter_end=r.quarter_end,
                    date_completed=r.date_completed,
                ),
                findings=found[r.sha256],
            )
            if self.write_feedback(parsed, outcomes[r.sha256], r.original_name):
                self.result.feedback_rewritten += 1
        self.record_feedback()

    @staticmethod
    def stored_findings(conn: sa.Connection, sha: str) -> list[Finding]:
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

    @staticmethod
    def stored_outcome(conn: sa.Connection, r: sa.Row) -> dict[str, Any]:
        outcome = {
            "sha": r.sha256,
            "status": r.status,
            "errors": r.errors,
            "warnings": r.warnings,
            "late": r.late,
            "revision": r.revision,
            "earlier_in_force": None,
            "replaced": None,
        }
        if r.submitter and r.quarter_end:
            others = ledger.same_return(
                conn, r.submitter, r.quarter_end, (*IN_FORCE, STATUS_SUPERSEDED)
            )
            earlier = [o for o in others if o.seq < r.seq]
            if r.status == STATUS_REJECTED:
                live = [o for o in earlier if o.status in IN_FORCE]
                outcome["earlier_in_force"] = live[-1].first_seen_at if live else None
            elif r.status in IN_FORCE:
                replaced = [o for o in earlier if o.superseded_by == r.sha256]
                outcome["replaced"] = replaced[-1].first_seen_at if replaced else None
        return outcome

    # -- the end: final statuses (a workbook may be superseded later in the same run)
    def final_statuses(self) -> None:
        if not self.result.processed:
            return
        shas = [p.sha256 for p in self.result.processed]
        with self.engine.connect() as conn:
            current = dict(
                conn.execute(
                    sa.select(ledger.submissions.c.sha256, ledger.submissions.c.status).where(
                        ledger.submissions.c.sha256.in_(shas)
                    )
                ).all()
            )
        self.result.processed = [
            ProcessedSubmission(**{**asdict(p), "status": current.get(p.sha256, p.status)})
            for p in self.result.processed
        ]


@dataclass(frozen=True)
class IntakeFolder:
    """One partnership's intake: its inbox, its output folder and its store."""

    inbox: Path
    output: Path
    engine: sa.Engine


def run_intake(
    inbox: Path,
    output: Path,
    engine: sa.Engine,
    *,
    spec: Any = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    checker: Checker | None = None,
    feedback_writer: FeedbackWriter | None = None,
    feedback_text: FeedbackText | None = None,
    sleep: Callable[[float], None] = time.sleep,
    batch_size: int = BATCH_SIZE,
    progress: Progress = no_progress,
) -> IntakeResult:
    """File every new or changed workbook in `inbox` and write feedback; safe to re-run.

    `checker` defaults to `transforms.intake.validate.check_workbook`, `feedback_writer` to
    `transforms.intake.feedback.write_feedback_workbook` and `feedback_text` to
    `transforms.intake.feedback.feedback_text` (pass `feedback_writer` alone for no `.txt`).
    `now` fixes the clock (first seen, late, processed times). With the default checker,
    pending files are checked `batch_size` at a time (one GX run per sheet type per batch,
    `transforms.intake.validate.gx_checked_workbooks`); each is still filed in its own transaction.
    `progress(stage, done, total)` is told of each stage and workbook (`transforms.progress`).
    """
    return run_intakes(
        [IntakeFolder(Path(inbox), Path(output), engine)],
        spec=spec,
        now=now,
        stable_wait=stable_wait,
        checker=checker,
        feedback_writer=feedback_writer,
        feedback_text=feedback_text,
        sleep=sleep,
        batch_size=batch_size,
        progress=progress,
    )[0]


def run_intakes(
    folders: list[IntakeFolder],
    *,
    spec: Any = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    checker: Checker | None = None,
    feedback_writer: FeedbackWriter | None = None,
    feedback_text: FeedbackText | None = None,
    sleep: Callable[[float], None] = time.sleep,
    batch_size: int = BATCH_SIZE,
    progress: Progress = no_progress,
) -> list[IntakeResult]:
    """`run_intake` for many partnerships in one process; one result per folder, in order.

    Each folder keeps its own archive, ledger, store and feedback, and every file is filed
    exactly as `run_intake` would file it. What is shared is the checking that does not
    depend on a store: pending files of all folders are pre-flighted, parsed and put through
    the GX suites `batch_size` at a time, so a national collection pays for one GX run per
    sheet type per batch rather than per folder. The store-dependent rules and the filing
    then run folder by folder, in intake order.
    """
    runs = []
    for n, folder in enumerate(folders):
        progress("looking for new workbooks", n, len(folders) if len(folders) > 1 else None)
        create_all(folder.engine, sheets=False)  # the sheets' tables: when there is work
        run = _Intake(
            folder.inbox,
            folder.output,
            folder.engine,
            spec=spec,
            now=now,
            checker=checker,
            feedback_writer=feedback_writer,
            feedback_text=feedback_text,
        )
        run.progress = progress
        run.feedback_usable()  # made if missing; a file or link there is reported, not used
        ready, skipped = stable_files(folder.inbox, stable_wait, sleep, known=run.known)
        run.result.skipped.extend(skipped)
        run.arrive(ready)
        run.catch_up_feedback()
        runs.append(run)
    if checker is not None or batch_size <= 1:
        for run in runs:
            run.check_pending()
    else:
        _check_across(runs, batch_size, progress)
    for run in runs:
        run.record_feedback()  # feedback of files rejected outside a batch (could not check)
        run.answer_copies()
        run.final_statuses()
        log.info("intake: %s", run.result.counts)
    return [run.result for run in runs]


def _check_across(runs: list[_Intake], batch_size: int, progress: Progress = no_progress) -> None:
    """Check every run's pending files in shared GX batches, then file them run by run."""
    work = [(run, row) for run in runs for row in run.pending()]

    def overall(start: int) -> Progress:
        """Workbooks read counted over all batches, not within this one."""

        def report(stage: str, done: int, total: int | None) -> None:
            if stage == READING:
                progress(stage, start + done, len(work))
            else:
                progress(stage, done, total)

        return report

    for start in range(0, len(work), batch_size):
        chunk = work[start : start + batch_size]
        located = [
            (run, found)
            for run in runs
            for found in run.located([row for r, row in chunk if r is run])
        ]
        if not located:
            continue
        try:
            prepared = gx_stage_of(
                [found for _, found in located], runs[0].spec, runs[0].today(), overall(start)
            )
        except Exception as exc:  # the checker should never raise: fall back to one by one
            log.error("intake: batch check failed (%s); checking one by one", type(exc).__name__)
            for run, (row, _) in located:
                run.check_one(row)
            for run in runs:
                run.record_feedback()
            continue
        for run in runs:
            mine = [i for i, (r, _) in enumerate(located) if r is run]
            if mine:
                run.finish_and_file([located[i][1] for i in mine], [prepared[i] for i in mine])
