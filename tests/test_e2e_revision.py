"""A revision after issue: the next run lists old and new figures and the version moves on."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest

from transforms.intake.filing import run_intake
from transforms.quarterly import gather
from transforms.sample import generate_sample
from transforms.sample.replay import replay
from transforms.spec import default_spec
from transforms.store import history
from transforms.store.db import create_all, make_engine, sqlite_url

pytestmark = pytest.mark.e2e
Q = dt.date(2022, 6, 30)


def _revised_copy(src, dst) -> tuple[int, int]:
    """Copy a CSW workbook with one fewer plan reviewed in timescale; (old, new) value."""
    wb = openpyxl.load_workbook(src)
    ws = wb["Short_Breaks"]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == "plans_reviewed_in_timescale":
            old = int(row[2].value)
            row[2].value = old - 1
            break
    else:  # pragma: no cover - the template always lists the item
        raise AssertionError("item not found")
    wb.save(dst)
    return old, old - 1


def test_revision_after_issue_is_listed_with_old_and_new_values(tmp_path):
    spec = default_spec()
    sample = generate_sample(tmp_path / "sample", first=dt.date(2022, 3, 31), last=Q, faults=False)
    inbox, output = tmp_path / "inbox", tmp_path / "output"
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    last = replay(
        sample, inbox, lambda now: run_intake(inbox, output, engine, now=now, stable_wait=0.0)
    )
    with engine.begin() as conn:
        first = gather(conn, spec, Q, last)
        assert first.version == "1.0" and first.revisions.empty
        history.record_figures(conn, "run-1", Q, first.measures)
        history.mark_issued(conn, Q, "run-1", first.version, "analyst")

    csw = next(
        d
        for d in sample.deliveries
        if d.submitter == "CSW" and d.quarter_end == Q and d.expected_status == "accepted"
    )
    old, new = _revised_copy(csw.file, inbox / "CSW_2022-06-30_revised.xlsx")
    later = last + dt.timedelta(days=30)
    result = run_intake(inbox, output, engine, now=later, stable_wait=0.0)
    [filed] = result.processed
    assert filed.status == "accepted" and filed.revision is True

    with engine.connect() as conn:
        second = gather(conn, spec, Q, later)
    assert second.version == "1.1"
    rev = second.revisions
    s01 = rev[(rev["measure_id"] == "S01") & (rev["breakdown"] == "all")]
    assert len(s01) == 1
    s01_before = first.measures[
        (first.measures["measure_id"] == "S01")
        & (first.measures["breakdown"] == "all")
        & (pd.to_datetime(first.measures["quarter_end"]) == pd.Timestamp(Q))
    ].iloc[0]
    den = float(s01_before["denominator"])
    assert float(s01.iloc[0]["old_value"]) == pytest.approx(100 * old / den)
    assert float(s01.iloc[0]["new_value"]) == pytest.approx(100 * new / den)
    # Figures the revision did not touch are not listed.
    assert set(rev["measure_id"]) <= {"S01"}
    engine.dispose()
