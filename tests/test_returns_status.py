"""returns.csv and the expected-returns table, from ledger rows written here directly."""

from __future__ import annotations

import csv
import datetime as dt

import pytest
import sqlalchemy as sa

from transforms.measures.returns_status import (
    RETURNS_COLUMNS,
    expected_returns,
    returns_frame,
    write_returns_csv,
)
from transforms.store import ledger
from transforms.store.db import create_all, make_engine, sqlite_url

Q2 = dt.date(2020, 9, 30)
Q1 = dt.date(2020, 6, 30)
UTC = dt.UTC


def _at(day: int, hour: int = 9, month: int = 10) -> dt.datetime:
    return dt.datetime(2020, month, day, hour, 0, tzinfo=UTC)


# name, submitter, quarter, status, errors, warnings, late, revision, first seen
ROWS = [
    ("csw v1.xlsx", "CSW", Q2, "superseded", 0, 0, False, False, _at(5)),
    ("=cmd|calc.xlsx", "NHSG", Q2, "rejected", 3, 1, False, False, _at(6)),
    ("edu.xlsx", "EDU", Q2, "rejected", 1, 0, False, False, _at(7)),
    ("csw v2.xlsx", "CSW", Q2, "accepted", 0, 0, False, False, _at(8)),
    ("junk.csv", None, None, "rejected", 1, 0, False, False, _at(9)),
    ("edu fixed.xlsx", "EDU", Q2, "accepted with warnings", 0, 2, True, False, _at(23)),
    ("q1 csw.xlsx", "CSW", Q1, "accepted", 0, 0, True, True, _at(1, month=11)),
]


@pytest.fixture
def engine(tmp_path):
    eng = make_engine(sqlite_url(tmp_path / "out"))
    create_all(eng)
    with eng.begin() as conn:
        for seq, (name, sub, qe, status, errors, warnings, late, rev, seen) in enumerate(
            ROWS, start=1
        ):
            sha = f"{seq:064x}"
            conn.execute(
                ledger.files.insert().values(
                    sha256=sha,
                    size=10,
                    original_name=name,
                    first_seen_at=seen,
                    mtime=1.0,
                    archive_path=f"archive/{sha}.xlsx",
                    seq=seq,
                )
            )
            conn.execute(
                ledger.submissions.insert().values(
                    sha256=sha,
                    seq=seq,
                    submitter=sub,
                    quarter_end=qe,
                    status=status,
                    errors=errors,
                    warnings=warnings,
                    late=late,
                    revision=rev,
                    processed_at=seen,
                    superseded_by=f"{4:064x}" if seq == 1 else None,
                )
            )
        # ledgered but never checked (interrupted intake): not a return yet
        conn.execute(
            ledger.files.insert().values(
                sha256="f" * 64,
                size=1,
                original_name="pending.xlsx",
                first_seen_at=_at(10),
                archive_path="archive/x.xlsx",
                seq=99,
            )
        )
    yield eng
    eng.dispose()


def test_returns_frame_has_the_csv_columns_in_intake_order(engine):
    with engine.connect() as conn:
        frame = returns_frame(conn)
    assert (
        list(frame.columns)
        == RETURNS_COLUMNS
        == [
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
    )
    assert list(frame["file"]) == [r[0] for r in ROWS]
    assert frame.isna().iloc[4]["submitter"] and frame.isna().iloc[4]["quarter_end"]
    assert frame.iloc[0]["received_at"] == "2020-10-05T10:00:00+01:00"  # London, BST
    assert frame.iloc[6]["received_at"] == "2020-11-01T09:00:00+00:00"  # GMT
    assert list(frame["late"]) == [r[6] for r in ROWS]
    assert frame["errors"].sum() == 5


def test_up_to_keeps_earlier_quarters_and_unreadable_covers(engine):
    with engine.connect() as conn:
        frame = returns_frame(conn, up_to=Q1)
    assert list(frame["file"]) == ["junk.csv", "q1 csw.xlsx"]


def test_returns_csv_is_true_false_blank_and_injection_safe(engine, tmp_path):
    with engine.connect() as conn:
        frame = returns_frame(conn)
    path = write_returns_csv(frame, tmp_path / "q" / "returns.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == RETURNS_COLUMNS
    assert rows[1]["file"] == "'=cmd|calc.xlsx"
    assert (rows[4]["submitter"], rows[4]["quarter_end"]) == ("", "")
    assert [r["late"] for r in rows] == ["false"] * 5 + ["true", "true"]
    assert rows[6]["revision"] == "true" and rows[6]["errors"] == "0"
    assert rows[5]["status"] == "accepted with warnings"
    assert [p.name for p in path.parent.iterdir()] == ["returns.csv"]


def test_expected_returns_per_submitter(engine):
    now = _at(25)
    with engine.connect() as conn:
        frame = expected_returns(conn, Q2, now)
    assert list(frame.columns) == [
        "code",
        "name",
        "kind",
        "status",
        "late",
        "received_at",
        "due_date",
        "overdue",
    ]
    assert list(frame["code"]) == [
        "CSW",
        "NHSG",
        "EDU",
        "HSCP",
        "ICSB",
        "CPC",
        "CPIG",
        "IJB",
        "BIU",
    ]
    got = frame.set_index("code")
    assert got.loc["CSW", "status"] == "accepted"
    assert got.loc["CSW", "received_at"] == "2020-10-08T10:00:00+01:00"
    assert got.loc["NHSG", "status"] == "rejected" and not got.loc["NHSG", "overdue"]
    assert got.loc["EDU", "status"] == "accepted with warnings" and got.loc["EDU", "late"]
    assert got.loc["HSCP", "status"] == "missing" and got.loc["HSCP", "overdue"]
    assert frame.isna().iloc[3]["received_at"]
    assert set(got["due_date"]) == {"2020-10-21"}
    assert got.loc["ICSB", "kind"] == "lead"


def test_expected_returns_as_it_stood_at_an_earlier_time(engine):
    # 21 Oct 23:30 London: still due that day; EDU had only a rejected return; the first CSW
    # workbook (later superseded) counts once the second is not yet seen.
    with engine.connect() as conn:
        before_due = expected_returns(conn, Q2, dt.datetime(2020, 10, 21, 22, 30, tzinfo=UTC))
        early = expected_returns(conn, Q2, _at(5, 12))
    got = before_due.set_index("code")
    assert got.loc["EDU", "status"] == "rejected"
    assert not before_due["overdue"].any()
    assert dict(zip(early["code"], early["status"], strict=True))["CSW"] == "accepted"
    assert dict(zip(early["code"], early["status"], strict=True))["NHSG"] == "missing"


def test_expected_returns_for_a_quarter_with_nothing(engine):
    with engine.connect() as conn:
        frame = expected_returns(conn, dt.date(2020, 12, 31), _at(1, month=12))
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger.files)).scalar() == 8
    assert set(frame["status"]) == {"missing"} and not frame["overdue"].any()
