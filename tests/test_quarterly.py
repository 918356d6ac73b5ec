"""Gathering a quarter's context from the store: warnings carry the submitter's note."""

from __future__ import annotations

import datetime as dt
import gc

import pytest
import sqlalchemy as sa

from tests.documents import document_text, issued_line
from tests.returns_builder import valid_sheets, write_workbook
from transforms.gc_pacing import YOUNG_PASS_EVERY
from transforms.intake.filing import run_intake
from transforms.quarterly import data_quality_warnings, produce_quarter
from transforms.spec import default_spec
from transforms.store import history
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


def _store_with_one_return(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "output"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    write_workbook(valid_sheets("CSW", Q3), inbox / "CSW_Q3.xlsx")
    run_intake(inbox, output, engine, now=dt.datetime(2020, 10, 13, tzinfo=dt.UTC), stable_wait=0.0)
    return engine, output


def _run_row(engine, run_id):
    with engine.connect() as conn:
        return conn.execute(sa.select(history.runs).where(history.runs.c.run_id == run_id)).one()


def test_produce_quarter_writes_every_output_and_finishes_its_run(tmp_path):
    engine, output = _store_with_one_return(tmp_path)
    stages: list[str] = []
    thresholds: set[int] = set()

    def progress(stage: str, done: int, total: int | None) -> None:
        thresholds.add(gc.get_threshold()[0])  # the collector's pacing (`gc_pacing`)
        if stage not in stages:
            stages.append(stage)

    out = produce_quarter(
        engine,
        default_spec(),
        Q3,
        dt.datetime(2020, 10, 22, 7, tzinfo=dt.UTC),
        output / "2020-09-30",
        "run-ok",
        progress=progress,
    )
    assert stages == [
        "computing the measures",
        "writing measures.csv and returns.csv",
        "drawing the charts and rendering the documents",
        "writing the Word and Excel documents",
        "recording this run's figures",
    ]
    assert thresholds == {YOUNG_PASS_EVERY}  # raised throughout the run
    assert gc.get_threshold()[0] != YOUNG_PASS_EVERY  # and put back after it
    assert set(out.paths) == {"docx", "xlsx", "public_docx", "public_xlsx"} | {
        "measures_csv",
        "returns_csv",
        "measures_public_csv",
        "datapackage",
    }
    assert all(p.is_file() and p.stat().st_size > 0 for p in out.paths.values())
    row = _run_row(engine, "run-ok")
    assert (row.status, row.version) == ("completed", out.data.version)
    with engine.connect() as conn:
        kept = conn.execute(
            sa.select(sa.func.count()).where(history.run_figures.c.run_id == "run-ok")
        ).scalar()
    assert kept == len(out.data.measures)
    engine.dispose()


def test_a_run_that_fails_half_way_is_recorded_as_failed(tmp_path, monkeypatch):
    import transforms.reports.word as word

    engine, output = _store_with_one_return(tmp_path)

    def disk_full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(word, "render_docx_bytes", disk_full)
    with pytest.raises(OSError):
        produce_quarter(
            engine,
            default_spec(),
            Q3,
            dt.datetime(2020, 10, 22, 7, tzinfo=dt.UTC),
            output / "2020-09-30",
            "run-broken",
        )
    assert _run_row(engine, "run-broken").status == "failed"
    engine.dispose()


def test_an_approval_known_at_once_renders_the_issued_documents_once_same_bytes(
    tmp_path, monkeypatch
):
    """Approved before rendering: each document written once, byte for byte what a draft
    re-rendered as issued (the review path) gives."""
    import transforms.reports.word as word
    from transforms.quarterly import DOCUMENTS, render_documents

    engine, output = _store_with_one_return(tmp_path)
    now, spec = dt.datetime(2020, 10, 22, 7, tzinfo=dt.UTC), default_spec()
    approved_on, approver = dt.date(2020, 10, 23), "J. Analyst"
    written: list[str] = []
    real_render = word.render_docx_bytes

    def counting_render(inputs, template=None):
        written.append("public" if inputs.public else "internal")
        return real_render(inputs, template)

    monkeypatch.setattr(word, "render_docx_bytes", counting_render)
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "1")  # rendered here, where calls are counted
    once = produce_quarter(
        engine,
        spec,
        Q3,
        now,
        tmp_path / "once",
        "run-once",
        approved_on=approved_on,
        approved_by=approver,
    )
    assert sorted(written) == ["internal", "public"]  # each Word pack rendered once

    two = produce_quarter(engine, spec, Q3, now, tmp_path / "two", "run-two")
    assert "DRAFT" in document_text(two.paths["docx"])
    render_documents(two.data, spec, tmp_path / "two", approved_on, approver)
    assert once.data.version == two.data.version
    for role in DOCUMENTS:
        assert once.paths[role].read_bytes() == two.paths[role].read_bytes(), role
    cover = document_text(once.paths["docx"])
    assert issued_line(approved_on, approver) in cover and "DRAFT" not in cover
    engine.dispose()
