"""The quarterly Prefect flow on the filed sample: files, figures and documents.

Runs the real flow (session Prefect harness) on the sample partnership filed through the
real intake, then opens every document in LibreOffice and reads the PDF text back.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest

from transforms.quarters import quarter_label
from transforms.reports.preview import office_binary, pdf_text, to_pdf

pytestmark = [pytest.mark.e2e, pytest.mark.prefect]
QUARTER = dt.date(2022, 9, 30)


@pytest.fixture(scope="module")
def flow_outputs(prefect_harness, sample_store):
    from flows.quarterly import quarterly_flow

    paths = quarterly_flow(
        quarter_end=QUARTER,
        inbox=sample_store["inbox"],
        output=sample_store["output"],
        now=sample_store["now"],
        stable_wait=0.0,
        run_intake=False,
    )
    return {k: v for k, v in paths.items()}


def test_every_output_file_is_written(flow_outputs, sample_store):
    out = sample_store["output"] / QUARTER.isoformat()
    names = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert {
        "Data_Summary_2022-09-30.docx",
        "Data_Summary_2022-09-30.xlsx",
        "Data_Summary_2022-09-30_public.docx",
        "Data_Summary_2022-09-30_public.xlsx",
        "measures.csv",
        "returns.csv",
    } <= names


def test_measures_csv_follows_the_contract(flow_outputs, sample_store):
    frame = pd.read_csv(flow_outputs["measures_csv"], dtype=str, keep_default_na=False)
    assert list(frame.columns[:16]) == [
        "measure_id",
        "quarter_end",
        "breakdown",
        "numerator",
        "denominator",
        "value",
        "unit",
        "target",
        "trajectory",
        "rag",
        "trend",
        "trend_year",
        "signal",
        "excluded",
        "pending",
        "reason",
    ]
    keys = list(zip(frame["measure_id"], frame["quarter_end"], frame["breakdown"], strict=True))
    assert keys == sorted(keys)
    assert frame["quarter_end"].max() == "2022-09-30"
    assert set(frame["rag"]) <= {"", "Green", "Amber", "Red", "Not rated"}
    blank = frame[frame["value"] == ""]
    assert (blank["reason"] != "").all(), "every blank value says why"


def test_returns_csv_lists_every_workbook_received(flow_outputs, sample_store):
    frame = pd.read_csv(flow_outputs["returns_csv"], dtype=str, keep_default_na=False)
    assert list(frame.columns) == [
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
    delivered = {d.file.name for d in sample_store["sample"].deliveries}
    assert set(frame["file"]) == delivered
    assert set(frame["late"]) <= {"true", "false"} and "true" in set(frame["late"])
    assert set(frame["status"]) <= {"accepted", "accepted with warnings", "rejected", "superseded"}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.office
@pytest.mark.skipif(office_binary() is None, reason="LibreOffice not installed")
def test_documents_open_in_libreoffice_and_say_the_right_things(
    flow_outputs, sample_store, tmp_path
):
    measures = pd.read_csv(flow_outputs["measures_csv"], dtype=str, keep_default_na=False)
    h01 = measures[
        (measures["measure_id"] == "H01")
        & (measures["breakdown"] == "all")
        & (measures["quarter_end"] == QUARTER.isoformat())
    ].iloc[0]
    h01_text = f"{float(h01['value']):.1f}%"
    updates = sample_store["truth"]["Progress"]
    updates = updates[pd.to_datetime(updates["quarter_end"]).dt.date == QUARTER]
    tricky = [
        u for u in updates["progress_update"].dropna() if u.startswith("=") or "&" in u or "<" in u
    ]
    for key in ("docx", "public_docx", "xlsx", "public_xlsx"):
        pdf = to_pdf(flow_outputs[key], tmp_path)
        text = _flat(pdf_text(pdf))
        assert "Data Summary" in text, key
        if key.endswith("docx"):
            assert quarter_label(QUARTER) in text, key
            assert h01_text in text, (key, h01_text)
    docx_text = _flat(pdf_text(to_pdf(flow_outputs["docx"], tmp_path)))
    assert tricky, "the sample should carry updates with & < or a leading ="
    for update in tricky:
        assert _flat(update) in docx_text, update


@pytest.fixture(scope="module")
def gathered(sample_store):
    from transforms.quarterly import gather
    from transforms.spec import default_spec

    with sample_store["engine"].connect() as conn:
        return gather(conn, default_spec(), QUARTER, sample_store["now"])


def test_gathered_frames_carry_the_columns_the_renderers_read(gathered):
    from transforms.reports import inputs as ri

    qd = gathered
    for name, frame, columns in (
        ("measures", qd.measures, ri.MEASURE_COLUMNS),
        ("returns", qd.returns, ri.RETURN_COLUMNS),
        ("expected", qd.expected, ri.EXPECTED_COLUMNS),
        ("progress", qd.progress, ri.PROGRESS_COLUMNS),
        ("milestones", qd.milestones, ri.MILESTONE_COLUMNS),
        ("milestone_results", qd.milestone_results, ri.MILESTONE_RESULT_COLUMNS),
        ("warnings", qd.warnings, ri.WARNING_COLUMNS),
        ("mismatches", qd.mismatches, ri.MISMATCH_COLUMNS),
        ("revisions", qd.revisions, ri.REVISION_COLUMNS),
    ):
        missing = set(columns) - set(frame.columns)
        assert not missing, f"{name} lacks {missing}"
    assert len(qd.progress) and len(qd.milestones) and len(qd.expected) == 9
    assert len(qd.mismatches), "the sample plants NHSG/CSW mismatches"


def test_report_context_reads_the_milestone_results_the_measures_give(gathered):
    """Producer and consumer agree: each H01/S01 target date is Met / Not met as the figures say."""
    from transforms.quarterly import report_inputs
    from transforms.reports.context import target_milestone_rows
    from transforms.spec import default_spec

    spec = default_spec()
    qd = gathered
    inputs = report_inputs(qd, spec, public=False)
    rows = target_milestone_rows(inputs, inputs.measures)
    m = qd.measures
    checked = 0
    for measure in ("H01", "S01"):
        for t in spec.measures.measure(measure).targets:
            hit = m[
                (m["measure_id"] == measure)
                & (m["breakdown"] == "all")
                & (pd.to_datetime(m["quarter_end"]) == pd.Timestamp(t.date))
            ]
            value = hit["value"].iloc[0]
            expected = "No value" if pd.isna(value) else ("Met" if value >= t.value else "Not met")
            [row] = [r for r in rows if r["id"] == measure and r["date_value"] == t.date]
            assert row["met"] == expected, (measure, t.date, value, row)
            checked += 1
    assert checked == 4


def test_the_flow_records_its_run_as_completed_with_its_version(flow_outputs, sample_store):
    import sqlalchemy as sa

    from transforms.store import history

    runs = history.runs
    with sample_store["engine"].connect() as conn:
        rows = conn.execute(
            sa.select(runs.c.status, runs.c.version).where(runs.c.quarter_end == QUARTER)
        ).all()
    assert ("completed", "1.0") in [(r.status, r.version) for r in rows], rows
