"""Which returns came in, with what outcome: returns.csv and the expected-returns table.

Read from the ledger only, so the report, the reminders (chase flow) and the data-quality
annex agree with what intake recorded.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import sqlalchemy as sa

from transforms.atomic import atomic_write
from transforms.findings import (
    IN_FORCE,
    STATUS_ACCEPTED,
    STATUS_REJECTED,
    STATUS_SUPERSEDED,
    STATUS_WARNINGS,
)
from transforms.quarters import LONDON, due_date, london_date
from transforms.safe_text import csv_cell
from transforms.spec import ReturnSpec, Spec, default_spec
from transforms.store.ledger import files, submissions

RETURNS_COLUMNS = [
    "file",
    "sha256",
    "submitter",
    "quarter_end",
    "status",
    "errors",
    "warnings",
    "late",
    "revision",
    "received_at",
]
EXPECTED_COLUMNS = ["code", "name", "kind", "status", "late", "received_at", "due_date", "overdue"]
STATUS_MISSING = "missing"


def _returns_spec(spec: Spec | ReturnSpec | None) -> ReturnSpec:
    """The return specification, from the whole spec or as given (the default when None)."""
    if spec is None:
        return default_spec().returns
    return spec.returns if isinstance(spec, Spec) else spec


def _aware(value: dt.datetime) -> dt.datetime:
    """UTC-aware (SQLite returns the stored UTC time as naive)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _received_text(value: dt.datetime) -> str:
    """ISO 8601 in Europe/London with its offset, to the second."""
    return _aware(value).astimezone(LONDON).isoformat(timespec="seconds")


def _ledger_rows(conn: sa.Connection) -> list[sa.Row[Any]]:
    query = (
        sa.select(submissions, files.c.original_name, files.c.first_seen_at)
        .join(files, files.c.sha256 == submissions.c.sha256)
        .order_by(submissions.c.seq, submissions.c.sha256)
    )
    return list(conn.execute(query))


def returns_frame(conn: sa.Connection, up_to: dt.date | None = None) -> pd.DataFrame:
    """Every checked workbook, in intake order, with the columns of returns.csv.

    `up_to` keeps returns for quarters up to that quarter end, plus those whose Cover could not
    be read (no quarter). Files ledgered but not yet checked (an interrupted intake) are left
    out: they are checked by the next intake. `late` and `revision` are bool here;
    `write_returns_csv` writes them as `true`/`false`.
    """
    records = []
    for r in _ledger_rows(conn):
        if up_to is not None and r.quarter_end is not None and r.quarter_end > up_to:
            continue
        records.append(
            {
                "file": r.original_name,
                "sha256": r.sha256,
                "submitter": r.submitter,
                "quarter_end": r.quarter_end.isoformat() if r.quarter_end else None,
                "status": r.status,
                "errors": int(r.errors),
                "warnings": int(r.warnings),
                "late": bool(r.late),
                "revision": bool(r.revision),
                "received_at": _received_text(r.first_seen_at),
            }
        )
    frame = pd.DataFrame.from_records(records, columns=RETURNS_COLUMNS)
    return frame.astype(
        {"errors": "int64", "warnings": "int64", "late": "bool", "revision": "bool"}
    )


def write_csv_atomic(frame: pd.DataFrame, path: Path) -> Path:
    """Write `frame` as UTF-8 CSV, every cell neutralised, atomically."""

    def write(tmp: Path) -> None:
        with tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([csv_cell(c) for c in frame.columns])
            for row in frame.itertuples(index=False, name=None):
                writer.writerow([csv_cell(v) for v in row])

    return atomic_write(Path(path), write)


def write_returns_csv(frame: pd.DataFrame, path: Path) -> Path:
    """returns.csv: the returns frame's columns, late/revision as true/false, blanks empty."""
    return write_csv_atomic(frame[RETURNS_COLUMNS], path)


def _as_received(row: sa.Row[Any]) -> str:
    """The status a workbook was given on receipt (superseded ones were accepted)."""
    if row.status != STATUS_SUPERSEDED:
        return str(row.status)
    return STATUS_WARNINGS if row.warnings else STATUS_ACCEPTED


def expected_returns(
    conn: sa.Connection,
    quarter_end: dt.date,
    now: dt.datetime,
    spec: Spec | ReturnSpec | None = None,
) -> pd.DataFrame:
    """One row per submitter of the specification: what it sent for `quarter_end` by `now`.

    `status`: the in-force return's status (`accepted`, `accepted with warnings`), else
    `rejected` when only rejected workbooks came, else `missing`. `late` and `received_at`
    describe the workbook that gives the status (the latest rejected one when rejected);
    `overdue` is true when missing and `now` (Europe/London) is past the due date. Workbooks
    first seen after `now` are not counted, so a return superseded later counts as it was.
    """
    rspec = _returns_spec(spec)
    deadline = rspec.periods.deadline_days
    due = due_date(quarter_end, deadline)
    now_utc = _aware(now).astimezone(dt.UTC)
    by_submitter: dict[str, list[sa.Row[Any]]] = {}
    for r in _ledger_rows(conn):
        if r.quarter_end != quarter_end or _aware(r.first_seen_at) > now_utc:
            continue
        by_submitter.setdefault(r.submitter, []).append(r)
    past_due = london_date(now_utc) > due
    records = []
    for sub in rspec.submitters:
        rows = by_submitter.get(sub.code, [])
        live = [r for r in rows if r.status in (*IN_FORCE, STATUS_SUPERSEDED)]
        rejected = [r for r in rows if r.status == STATUS_REJECTED]
        chosen = live[-1] if live else (rejected[-1] if rejected else None)
        status = _as_received(chosen) if chosen is not None else STATUS_MISSING
        records.append(
            {
                "code": sub.code,
                "name": sub.name,
                "kind": sub.kind,
                "status": status,
                "late": bool(chosen.late) if chosen is not None else False,
                "received_at": _received_text(chosen.first_seen_at) if chosen is not None else None,
                "due_date": due.isoformat(),
                "overdue": chosen is None and past_due,
            }
        )
    frame = pd.DataFrame.from_records(records, columns=EXPECTED_COLUMNS)
    return frame.astype({"late": "bool", "overdue": "bool"})
