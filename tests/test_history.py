"""History of runs, figures and issued reports, on SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
import sqlalchemy as sa

from tests.pg import private_schema_engine
from transforms.store.db import create_all, make_engine, metadata
from transforms.store.history import (
    finish_run,
    issued_quarters,
    issued_reports,
    mark_issued,
    next_version,
    record_figures,
    revisions,
    run_figures,
    runs,
    start_run,
)

PG_URL = os.environ.get("DATASUMMARY_TEST_PG_URL")


def issued_figures(conn: sa.Connection, quarter_end: dt.date) -> pd.DataFrame:
    """The figures the latest issued report for `quarter_end` showed, read from the tables."""
    latest = conn.execute(
        sa.select(sa.func.max(issued_reports.c.id)).where(
            issued_reports.c.quarter_end == quarter_end
        )
    ).scalar()
    rows = conn.execute(
        sa.select(run_figures, issued_reports.c.version)
        .join(issued_reports, issued_reports.c.run_id == run_figures.c.run_id)
        .where(issued_reports.c.id == latest)
    )
    return pd.DataFrame(rows.mappings().all())


Q = dt.date(2020, 9, 30)
P = dt.date(2020, 6, 30)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not PG_URL, reason="DATASUMMARY_TEST_PG_URL not set"),
            ],
        ),
    ]
)
def conn(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'h.sqlite'}")
        create_all(engine)
        with engine.begin() as c:
            yield c
        engine.dispose()
        return
    with private_schema_engine(PG_URL) as engine, engine.begin() as c:
        yield c


def figures(values: dict[tuple[str, dt.date, str], tuple]) -> pd.DataFrame:
    """{(measure, quarter, breakdown): (numerator, denominator, value)} -> measures frame."""
    rows = []
    for (mid, q, b), (n, d, v) in values.items():
        rows.append(
            {
                "measure_id": mid,
                "quarter_end": pd.Timestamp(q),
                "breakdown": b,
                "numerator": n,
                "denominator": d,
                "value": v,
                "target": None,
                "trajectory": None,
                "rag": None,
                "reason": None if v is not None else "return not received",
            }
        )
    frame = pd.DataFrame(rows)
    for c in ("numerator", "denominator"):
        frame[c] = frame[c].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    return frame


FIRST = {
    ("H01", P, "all"): (10, 20, 50.0),
    ("H01", Q, "all"): (12, 20, 60.0),
    ("H01", Q, "at_home"): (2, 5, 40.0),
    ("S02", Q, "all"): (None, None, None),
}


def test_tables_registered():
    assert {"runs", "run_figures", "issued_reports"} <= set(metadata.tables)


def test_record_issue_and_read_back(conn):
    assert next_version(conn, Q, revised=False) == "1.0"
    start_run(conn, "run-1", Q, dt.datetime(2020, 10, 25, 7, tzinfo=dt.UTC))
    assert record_figures(conn, "run-1", Q, figures(FIRST)) == 4
    assert issued_figures(conn, Q).empty
    mark_issued(conn, Q, "run-1", "1.0", "BIU analyst", comment="first issue")
    assert issued_quarters(conn) == {Q}
    run = conn.execute(sa.select(runs).where(runs.c.run_id == "run-1")).mappings().one()
    assert (run["status"], run["version"]) == ("issued", "1.0")
    shown = issued_figures(conn, Q)
    assert len(shown) == 4 and set(shown["version"]) == {"1.0"}
    h01 = shown.loc[
        (shown["measure_id"] == "H01")
        & (shown["breakdown"] == "all")
        & (pd.to_datetime(shown["quarter_end"]) == pd.Timestamp(Q))
    ].iloc[0]
    assert (h01["numerator"], h01["denominator"], h01["value"]) == (12, 20, 60.0)
    s02 = shown.loc[shown["measure_id"] == "S02"].iloc[0]
    assert pd.isna(s02["value"]) and s02["reason"] == "return not received"  # not 0
    assert issued_figures(conn, P).empty


def test_revisions_and_versions(conn):
    record_figures(conn, "run-1", Q, figures(FIRST))
    mark_issued(conn, Q, "run-1", "1.0", "analyst")
    # unchanged figures: no revisions, version kept
    assert revisions(conn, figures(FIRST)).empty
    assert next_version(conn, Q, revised=False) == "1.0"
    changed = dict(FIRST)
    changed[("H01", P, "all")] = (11, 20, 55.0)  # revised earlier quarter
    changed[("S02", Q, "all")] = (None, None, 14.0)  # late return: blank -> 14
    changed[("H01", Q, "away_from_home")] = (10, 15, 66.7)  # never issued: not a revision
    rev = revisions(conn, figures(changed))
    assert list(zip(rev["measure_id"], rev["quarter_end"], rev["breakdown"], strict=True)) == [
        ("H01", P, "all"),
        ("S02", Q, "all"),
    ]
    first = rev.iloc[0]
    assert (first["old_value"], first["new_value"], first["issued_version"]) == (50.0, 55.0, "1.0")
    assert (first["old_numerator"], first["new_numerator"]) == (10, 11)
    assert pd.isna(rev.iloc[1]["old_value"]) and rev.iloc[1]["new_value"] == 14.0
    assert next_version(conn, Q, revised=True) == "1.1"
    record_figures(conn, "run-2", Q, figures(changed))
    mark_issued(conn, Q, "run-2", "1.1", "analyst")
    assert revisions(conn, figures(changed)).empty  # compared with the latest issue
    assert next_version(conn, Q, revised=True) == "1.2"
    assert set(issued_figures(conn, Q)["version"]) == {"1.1"}
    # next quarter's first issue; figures issued for Q are still compared
    nxt = dt.date(2020, 12, 31)
    assert next_version(conn, nxt, revised=True) == "1.0"
    again = dict(changed)
    again[("H01", Q, "all")] = (13, 20, 65.0)
    rev = revisions(conn, figures(again))
    assert rev[["measure_id", "breakdown"]].values.tolist() == [["H01", "all"]]
    assert rev.iloc[0]["issued_version"] == "1.1" and rev.iloc[0]["issued_quarter"] == Q


def test_rerecord_replaces_and_finish_run(conn):
    record_figures(conn, "run-9", Q, figures(FIRST))
    record_figures(conn, "run-9", Q, figures({("H01", Q, "all"): (1, 2, 50.0)}))
    finish_run(conn, "run-9", "completed", version="1.0")
    run = conn.execute(sa.select(runs).where(runs.c.run_id == "run-9")).mappings().one()
    assert (run["status"], run["version"], run["quarter_end"]) == ("completed", "1.0", Q)
    mark_issued(conn, Q, "run-9", "1.0", None)
    assert len(issued_figures(conn, Q)) == 1
