"""Ledger tables: every file received, what happened to it, and each submission's status.

The ledger is written before a file is parsed (received, archived) and survives any later
failure; it is the history behind returns.csv and the returns annex.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any, TypeAlias

import sqlalchemy as sa

from transforms.store.db import metadata

files = sa.Table(
    "ledger_files",
    metadata,
    sa.Column("sha256", sa.String(64), primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("original_name", sa.Text, nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("mtime", sa.Float, nullable=True),
    sa.Column("archive_path", sa.Text, nullable=False),
    sa.Column("inbox", sa.Text, nullable=True),
    # Intake order ("later" in returns.md §5): first-seen run, then mtime, then name.
    sa.Column("seq", sa.Integer, nullable=True, index=True),
)

events = sa.Table(
    "ledger_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), nullable=True, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("detail", sa.Text, nullable=True),  # never child-level values
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("sha256", sa.String(64), sa.ForeignKey("ledger_files.sha256"), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),  # intake order ("later")
    sa.Column("submitter", sa.String(16), nullable=True),
    sa.Column("quarter_end", sa.Date, nullable=True),
    sa.Column("date_completed", sa.Date, nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("errors", sa.Integer, nullable=False),
    sa.Column("warnings", sa.Integer, nullable=False),
    sa.Column("late", sa.Boolean, nullable=False),
    sa.Column("revision", sa.Boolean, nullable=False),
    sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("superseded_by", sa.String(64), nullable=True),
    sa.Column("feedback_path", sa.Text, nullable=True),
)

# Re-running intake on an unchanged inbox must not re-read every workbook: a file whose path,
# size and mtime (ns) are unchanged since it was hashed keeps its hash. Any change re-hashes.
hash_cache = sa.Table(
    "ledger_hash_cache",
    metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
)

findings = sa.Table(
    "findings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("sha256", sa.String(64), sa.ForeignKey("ledger_files.sha256"), index=True),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("rule", sa.String(24), nullable=False),
    sa.Column("sheet", sa.Text, nullable=True),
    sa.Column("cell", sa.String(16), nullable=True),
    sa.Column("row", sa.Integer, nullable=True),
    sa.Column("column", sa.Text, nullable=True),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("expected", sa.Text, nullable=True),
    sa.Column("value", sa.Text, nullable=True),  # local store only; never logged
)

# A row of a select over whole tables: its columns are read by name, their types unknown.
LedgerRow: TypeAlias = "sa.Row[*tuple[Any, ...]]"


# ---------------------------------------------------------------- writes and look-ups
def event_row(
    sha256: str | None, event: str, at: dt.datetime, detail: str | None = None
) -> dict[str, object]:
    """One events row, for `record_events`; `detail` must never carry child-level values."""
    return {"sha256": sha256, "at": at, "event": event, "detail": detail}


def record_event(
    conn: sa.Connection, sha256: str | None, event: str, at: dt.datetime, detail: str | None = None
) -> None:
    """Append one event; `detail` must never carry child-level values."""
    record_events(conn, [event_row(sha256, event, at, detail)])


def record_events(conn: sa.Connection, rows: list[dict[str, object]]) -> None:
    """Append events in order, in one statement (insert parameters, not `.values()`, so
    SQLAlchemy compiles the statement once and caches it)."""
    if rows:
        conn.execute(events.insert(), rows)


def event_count(conn: sa.Connection, sha256: str, event: str) -> int:
    """How many times `event` was recorded for a file (e.g. failed checks)."""
    query = sa.select(sa.func.count()).where(events.c.sha256 == sha256, events.c.event == event)
    return int(conn.execute(query).scalar() or 0)


def next_seq(conn: sa.Connection) -> int:
    """The intake position for the next file first seen."""
    current = conn.execute(sa.select(sa.func.max(files.c.seq))).scalar()
    return (current or 0) + 1


def record_files(conn: sa.Connection, rows: list[dict[str, object]]) -> list[int]:
    """Ledger received, archived files in the order given; returns their `seq`s.

    Each row has the columns of `files` but `seq`, which is numbered on from the ledger's
    last, in the order of `rows` (the caller's intake order).
    """
    first = next_seq(conn)
    seqs = list(range(first, first + len(rows)))
    numbered = [{**row, "seq": seq} for row, seq in zip(rows, seqs, strict=True)]
    if numbered:
        conn.execute(files.insert(), numbered)
    return seqs


@dataclass(frozen=True)
class LedgerState:
    """What intake needs to know of a ledger before it looks at the inbox, in one query."""

    checked: dict[str, bool]  # every ledgered hash -> whether it has a submission row
    without_feedback: int  # submissions whose feedback was never recorded
    names: dict[str, str]  # every ledgered hash -> the name it was received under

    @property
    def unchecked(self) -> bool:
        """Whether some ledgered file still waits to be checked."""
        return not all(self.checked.values())


# The two queries every intake runs on every store, written as plain SQL (portable to SQLite
# and PostgreSQL): each store has its own engine, and SQLAlchemy compiles a Core statement
# and sets up its result types afresh for each engine — about 2 ms a store, four times the
# query itself — which was most of a re-run over many partnerships with nothing new.
_LEDGER_STATE = (
    "SELECT f.sha256, s.sha256 IS NOT NULL, s.feedback_path IS NULL, f.original_name "
    "FROM {files} f LEFT OUTER JOIN {submissions} s ON s.sha256 = f.sha256"
)
_CACHED_HASHES = (
    "SELECT path, size, mtime_ns, sha256 FROM {hash_cache} WHERE path LIKE :pattern ESCAPE '!'"
)


def _plain_sql(conn: sa.Connection, template: str) -> sa.TextClause:
    """`template` with its tables named as Core would name them on this connection,
    honouring a `schema_translate_map` (a store kept in its own PostgreSQL schema)."""
    schema = (conn.get_execution_options().get("schema_translate_map") or {}).get(None)
    quote = conn.dialect.identifier_preparer
    prefix = f"{quote.quote_schema(schema)}." if schema else ""
    tables = {"files": files, "submissions": submissions, "hash_cache": hash_cache}
    return sa.text(
        template.format(**{key: prefix + quote.quote(t.name) for key, t in tables.items()})
    )


def ledger_state(conn: sa.Connection) -> LedgerState:
    """`LedgerState` of the whole ledger: a re-run with nothing new needs no other query."""
    checked: dict[str, bool] = {}
    names: dict[str, str] = {}
    without = 0
    for sha, done, no_feedback, name in conn.execute(_plain_sql(conn, _LEDGER_STATE)):
        checked[sha] = bool(done)
        names[sha] = name
        without += bool(done) and bool(no_feedback)
    return LedgerState(checked, without, names)


def unchecked_files(conn: sa.Connection) -> list[LedgerRow]:
    """Ledgered files without a submission row (new, or left by an interrupted run)."""
    query = (
        sa.select(files)
        .select_from(files.outerjoin(submissions, submissions.c.sha256 == files.c.sha256))
        .where(submissions.c.sha256.is_(None))
        .order_by(files.c.seq, files.c.first_seen_at, files.c.sha256)
    )
    return list(conn.execute(query))


def submissions_without_feedback(conn: sa.Connection) -> list[LedgerRow]:
    """Submissions whose feedback file was never written (interrupted or failed write)."""
    query = (
        sa.select(submissions, files.c.original_name, files.c.first_seen_at)
        .join(files, files.c.sha256 == submissions.c.sha256)
        .where(submissions.c.feedback_path.is_(None))
        .order_by(submissions.c.seq)
    )
    return list(conn.execute(query))


def row_of(record: Any) -> dict[str, object]:
    """A flat dataclass record (a ledger row) as insert parameters, field by field.

    `dataclasses.asdict` deep-copies every value: about 47 µs a row against 3 µs, for
    values (strings, numbers, dates) that need no copy.
    """
    return {f.name: getattr(record, f.name) for f in dataclasses.fields(record)}


def same_return(
    conn: sa.Connection, submitter: str, quarter_end: dt.date, statuses: tuple[str, ...]
) -> list[LedgerRow]:
    """Submissions for one submitter and quarter with one of `statuses`, in intake order."""
    query = (
        sa.select(submissions, files.c.first_seen_at, files.c.original_name)
        .join(files, files.c.sha256 == submissions.c.sha256)
        .where(
            submissions.c.submitter == submitter,
            submissions.c.quarter_end == quarter_end,
            submissions.c.status.in_(statuses),
        )
        .order_by(submissions.c.seq)
    )
    return list(conn.execute(query))


def return_seqs(
    conn: sa.Connection, statuses: tuple[str, ...]
) -> dict[tuple[str, dt.date], list[int]]:
    """`same_return`'s seqs for every submitter and quarter at once, in one query:
    (submitter, quarter_end) -> seqs in intake order."""
    query = (
        sa.select(submissions.c.submitter, submissions.c.quarter_end, submissions.c.seq)
        .join(files, files.c.sha256 == submissions.c.sha256)
        .where(submissions.c.status.in_(statuses))
        .order_by(submissions.c.seq)
    )
    out: dict[tuple[str, dt.date], list[int]] = {}
    for submitter, quarter_end, seq in conn.execute(query):
        out.setdefault((submitter, quarter_end), []).append(seq)
    return out


def returns_of(
    conn: sa.Connection, submitters: set[str], statuses: tuple[str, ...]
) -> list[LedgerRow]:
    """`same_return` for every quarter of many submitters at once, in intake order."""
    if not submitters:
        return []
    query = (
        sa.select(submissions, files.c.first_seen_at, files.c.original_name)
        .join(files, files.c.sha256 == submissions.c.sha256)
        .where(submissions.c.submitter.in_(sorted(submitters)), submissions.c.status.in_(statuses))
        .order_by(submissions.c.seq)
    )
    return list(conn.execute(query))


def cached_hashes(conn: sa.Connection, folder: str) -> dict[str, tuple[int, int, str]]:
    """path -> (size, mtime_ns, sha256) for the files of one folder hashed before."""
    prefix = folder.rstrip("/") + "/"
    pattern = prefix.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%"
    return {
        path: (int(size), int(mtime_ns), sha)
        for path, size, mtime_ns, sha in conn.execute(
            _plain_sql(conn, _CACHED_HASHES), {"pattern": pattern}
        )
    }


def remember_hashes(conn: sa.Connection, entries: list[dict[str, object]]) -> None:
    """Store (path, size, mtime_ns, sha256) rows, replacing what was cached for those paths."""
    if not entries:
        return
    conn.execute(hash_cache.delete().where(hash_cache.c.path.in_([e["path"] for e in entries])))
    conn.execute(hash_cache.insert(), entries)
