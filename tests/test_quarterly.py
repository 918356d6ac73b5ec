"""Gathering a quarter's context from the store: warnings carry the submitter's note."""

from __future__ import annotations

import datetime as dt

from tests.returns_builder import valid_sheets, write_workbook
from transforms.intake.filing import run_intake
from transforms.quarterly import data_quality_warnings
from transforms.store.db import create_all, make_engine, sqlite_url

Q2, Q3 = dt.date(2020, 6, 30), dt.date(2020, 9, 30)


def test_a_warning_on_an_items_row_shows_the_note_the_lead_gave(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "output"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    # The builder dates every Cover "completed 2020-10-12": both files arrive after that.
    write_workbook(valid_sheets("CSW", Q2), inbox / "CSW_Q2.xlsx")
    run_intake(inbox, output, engine, now=dt.datetime(2020, 10, 13, tzinfo=dt.UTC), stable_wait=0.0)
    sheets = valid_sheets("CSW", Q3)
    row8 = sheets["Child_Protection"][7]  # Excel row 8: on_register_qe
    assert row8[0] == "on_register_qe"
    row8[2], row8[3] = 100, "Register cleansed & re-migrated in August"
    write_workbook(sheets, inbox / "CSW_Q3.xlsx")
    run_intake(inbox, output, engine, now=dt.datetime(2020, 10, 16, tzinfo=dt.UTC), stable_wait=0.0)
    with engine.connect() as conn:
        warnings = data_quality_warnings(conn, Q3)
    hit = warnings[warnings["rule"] == "R-REGISTER-CONTINUITY"]
    assert len(hit) == 1, warnings
    assert hit.iloc[0]["location"] == "C8"
    assert hit.iloc[0]["note"] == "Register cleansed & re-migrated in August"
    engine.dispose()
