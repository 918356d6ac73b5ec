"""Excel workbook: real tables, numbers as numbers, text never a formula, charts, public pack."""

from __future__ import annotations

import dataclasses
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.report_examples import example_inputs
from transforms.reports import excel as xlsx_report
from transforms.reports.excel import MAX_CELL, TRUNCATED, build_workbook, write_xlsx

SUPPRESSED = re.compile(r"(?<![\d.])(?:7\.3(?:%|\d)|42\.(?:9%|8[56])|66\.(?:7%|66))")
SHEETS = [
    "Cover",
    "Contents",
    "Notes",
    "Summary",
    "Measures",
    "Breakdowns",
    "Action_Plan",
    "Data_Quality",
    "Definitions",
]


def xml_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}


@pytest.fixture(scope="module")
def internal_xlsx(tmp_path_factory) -> Path:
    return write_xlsx(example_inputs(), tmp_path_factory.mktemp("x") / "report.xlsx")


@pytest.fixture(scope="module")
def public_xlsx(tmp_path_factory) -> Path:
    return write_xlsx(example_inputs(public=True), tmp_path_factory.mktemp("p") / "pub.xlsx")


def _table_rows(ws, name: str) -> list[dict]:
    ref = ws.tables[name].ref
    rows = [[c.value for c in r] for r in ws[ref]]
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def test_required_sheets_and_real_tables(internal_xlsx):
    wb = openpyxl.load_workbook(internal_xlsx)
    assert set(SHEETS) <= set(wb.sheetnames)
    assert wb.sheetnames[:2] == ["Cover", "Contents"]
    names = []
    for ws in wb.worksheets:
        assert ws.tables, f"{ws.title} has no table"
        assert not ws.merged_cells.ranges, ws.title
        assert ws.freeze_panes, ws.title
        for t in ws.tables.values():
            names.append(t.displayName)
            header = [c.value for c in ws[t.ref][0]]
            assert all(isinstance(h, str) and h for h in header)
            assert len(set(header)) == len(header)
    assert len(names) == len(set(names))


def test_contents_links_to_every_sheet(internal_xlsx):
    wb = openpyxl.load_workbook(internal_xlsx)
    ws = wb["Contents"]
    links = {c.value: c.hyperlink.location for c in ws["A"] if c.hyperlink}
    assert set(links) == set(wb.sheetnames)
    assert links["Action_Plan"] == "'Action_Plan'!A1"


def test_numbers_are_numbers(internal_xlsx):
    wb = openpyxl.load_workbook(internal_xlsx)
    rows = _table_rows(wb["Measures"], "MeasureSeries")
    h01 = next(r for r in rows if r["Measure ID"] == "H01" and r["Quarter"] == "Q2 2020/21")
    assert h01["Value"] == pytest.approx(62.5) and h01["Numerator"] == 25
    assert h01["RAG"] == "Green"
    c04 = next(r for r in rows if r["Measure ID"] == "C04" and r["Quarter"] == "Q2 2020/21")
    assert c04["Value"] == pytest.approx(100 * 3 / 41)  # unrounded
    cell = next(c for c in wb["Measures"]["I"] if c.value == h01["Value"])
    assert cell.data_type == "n" and cell.number_format == "0.0"


def test_submitters_text_is_never_a_formula_or_error(internal_xlsx):
    parts = xml_parts(internal_xlsx)
    for name, xml in parts.items():
        if name.startswith("xl/worksheets/"):
            assert "<f>" not in xml and "<f " not in xml, name
            assert 't="e"' not in xml, name
    wb = openpyxl.load_workbook(internal_xlsx)
    rows = _table_rows(wb["Action_Plan"], "ActionPlan")
    progress = {r["Action"]: r["Progress update"] for r in rows}
    assert progress["3.3"] == (
        "=Workshop held 28/11/2019 & charter agreed; IHAs within 4 weeks "
        "<50% last year, now > target"
    )
    assert progress["5.2"] == "#N/A"
    assert progress["4.1"].startswith("+Pathway")
    for c in wb["Action_Plan"]["I"]:
        if c.value and str(c.value).startswith(("=", "+", "@", "#")):
            assert c.data_type == "s"
    warn = _table_rows(wb["Warnings"], "WarningDetail")
    assert warn[0]["Submitter's note"] == "Child moved area & was assessed in <Highland>"


def test_long_text_is_truncated_visibly_and_counted():
    base = example_inputs()
    progress = base.progress.copy()
    progress.loc[0, "progress_update"] = "x" * (MAX_CELL + 500)
    wb = build_workbook(dataclasses.replace(base, progress=progress))
    assert wb._ds_truncated == 1
    rows = _table_rows(wb["Action_Plan"], "ActionPlan")
    text = next(r["Progress update"] for r in rows if r["Action"] == "2.1")
    assert len(text) == MAX_CELL and text.endswith(TRUNCATED)


def test_rag_conditional_formatting_and_charts(internal_xlsx):
    wb = openpyxl.load_workbook(internal_xlsx)
    rules = [r for cf in wb["Summary"].conditional_formatting for r in cf.rules]
    assert {r.formula[0] for r in rules} >= {'"Green"', '"Amber"', '"Red"'}
    charts = [n for n in xml_parts(internal_xlsx) if n.startswith("xl/charts/chart")]
    assert len(charts) == 8  # every headline measure with 2+ values in the example
    chart_xml = xml_parts(internal_xlsx)[charts[0]]
    assert "lineChart>" in chart_xml and "HeadlineSeries" not in chart_xml


def test_core_properties_and_reproducible(tmp_path, internal_xlsx):
    wb = openpyxl.load_workbook(internal_xlsx)
    assert wb.properties.created.date().isoformat() == "2020-10-28"
    assert wb.properties.modified == wb.properties.created
    again = write_xlsx(example_inputs(), tmp_path / "again.xlsx")
    a, b = xml_parts(again), xml_parts(internal_xlsx)
    assert {k: v for k, v in a.items() if "worksheets" in k} == {
        k: v for k, v in b.items() if "worksheets" in k
    }
    assert again.read_bytes() == internal_xlsx.read_bytes()


def test_failed_write_keeps_previous_workbook(tmp_path, monkeypatch):
    path = write_xlsx(example_inputs(), tmp_path / "r.xlsx")
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("render failed")

    monkeypatch.setattr(xlsx_report, "build_workbook", boom)
    with pytest.raises(RuntimeError):
        write_xlsx(example_inputs(), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["r.xlsx"]


def test_public_workbook_leaks_nothing(public_xlsx, internal_xlsx):
    assert SUPPRESSED.search("\n".join(xml_parts(internal_xlsx).values()))
    for name, xml in xml_parts(public_xlsx).items():
        assert not SUPPRESSED.search(xml), name
        for leak in ("AB12CD34", "Highland", "OFFICIAL-SENSITIVE"):
            assert leak not in xml, (name, leak)
    wb = openpyxl.load_workbook(public_xlsx)
    assert "Mismatches" not in wb.sheetnames and "Files" not in wb.sheetnames
    rows = _table_rows(wb["Measures"], "MeasureSeries")
    c04 = next(r for r in rows if r["Measure ID"] == "C04" and r["Quarter"] == "Q2 2020/21")
    assert (c04["Numerator"], c04["Denominator"], c04["Value"]) == ("c", 41, "c")
    series = _table_rows(wb["Charts"], "HeadlineSeries")
    last = next(r for r in series if r["Quarter"] == "Q2 2020/21")
    assert last["C04 value"] is None and last["H01 value"] == pytest.approx(62.5)
    bd = _table_rows(wb["Breakdowns"], "BreakdownSeries")
    other = next(r for r in bd if r["Breakdown"] == "OTHER_RESIDENTIAL")
    assert other["Value"] == "c"
    notes = [r["Text"] for r in _table_rows(wb["Notes"], "NotesList")]
    assert any(n.startswith("c: figure suppressed") for n in notes)


def test_empty_frames_still_give_valid_tables(tmp_path):
    base = example_inputs()
    empty = dataclasses.replace(
        base,
        warnings=base.warnings.iloc[0:0],
        mismatches=base.mismatches.iloc[0:0],
        revisions=base.revisions.iloc[0:0],
        returns=base.returns.iloc[0:0],
        progress=pd.DataFrame(columns=base.progress.columns),
    )
    path = write_xlsx(empty, tmp_path / "e.xlsx")
    wb = openpyxl.load_workbook(path)
    assert _table_rows(wb["Mismatches"], "Mismatches")[0]["Quarter"] == "(none)"
