"""Parsing per the specification: cells, Cover, sheets, headers — each problem names its cell."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.returns_builder import TODAY, Sheets, valid_sheets, write_workbook
from transforms.findings import STATUS_ACCEPTED, STATUS_REJECTED, STATUS_WARNINGS, Finding
from transforms.intake import cells
from transforms.intake.validate import check_workbook


def _check(sheets: Sheets, tmp_path: Path, **kwargs):
    return check_workbook(write_workbook(sheets, tmp_path / "return.xlsx", **kwargs), today=TODAY)


def _only(result, code: str) -> Finding:
    found = [f for f in result.findings if f.rule == code]
    assert len(found) == 1, [(f.rule, f.location()) for f in result.findings]
    return found[0]


# ---------------------------------------------------------------- cell conversions
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        (12.0, 12),
        ("12", 12),
        (" 12 ", 12),
        ("1,234", 1234),
        ("1,234,567", 1234567),
        ("0", 0),
        (None, None),
        ("  ", None),
        ("\u00a07\u00a0", 7),
    ],
)
def test_count_accepts(raw, expected) -> None:
    assert cells.to_count(raw) == expected


@pytest.mark.parametrize(
    "raw", ["NA", "c", "<5", "12.5", 12.5, "1,23", "12,", "-3", "1 234", True, "twelve", "1e3"]
)
def test_count_refuses(raw) -> None:
    with pytest.raises(cells.CellError):
        cells.to_count(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("3/7/2020", dt.date(2020, 7, 3)),
        ("03/07/2020", dt.date(2020, 7, 3)),
        ("2020-07-03", dt.date(2020, 7, 3)),
        ("2024-04-02", dt.date(2024, 4, 2)),
        (dt.datetime(2020, 7, 3, 0, 0), dt.date(2020, 7, 3)),
        (None, None),
    ],
)
def test_date_accepts(raw, expected) -> None:
    assert cells.to_date(raw) == expected


@pytest.mark.parametrize(
    "raw", ["3/4/21", 44000, 44000.0, "July 3rd", "2020/07/03", "31/02/2020", "7-3-2020"]
)
def test_date_refuses(raw) -> None:
    with pytest.raises(cells.CellError):
        cells.to_date(raw)


@pytest.mark.parametrize(
    "raw",
    [
        "31/12/9999",
        "0001-01-01",
        "1/1/1899",
        "2200-01-01",
        dt.datetime(9999, 12, 31),
        dt.date(1677, 1, 1),
    ],
)
def test_date_outside_the_years_a_frame_can_hold_is_refused_not_changed(raw) -> None:
    with pytest.raises(cells.CellError, match="year from 1900 to 2199"):
        cells.to_date(raw)


def test_header_key_ignores_case_spaces_invisibles_and_underscores() -> None:
    key = cells.header_key("placement_type")
    for variant in [
        "Placement Type",
        " placement_type\u00a0",
        "\ufeffPLACEMENT_TYPE",
        "placement\u200b_type",
        "placement  type",
    ]:
        assert cells.header_key(variant) == key


def test_chi_like() -> None:
    assert cells.is_chi_like("012 345 6789")
    assert cells.is_chi_like(1234567890)
    assert not cells.is_chi_like("CS0001")
    assert not cells.is_chi_like("12345678901")


# ---------------------------------------------------------------- workbook level
def test_valid_workbook_is_typed_per_contract(tmp_path: Path) -> None:
    sheets = valid_sheets("CSW")
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert result.cover.submitter == "CSW"
    assert result.cover.quarter_end == dt.date(2020, 9, 30)
    assert result.cover.date_completed == dt.date(2020, 10, 12)
    starts = result.sheets["LAC_Starts"]
    assert list(starts["excel_row"]) == [2, 3, 4]
    assert str(starts["age_at_start"].dtype) == "Int64"
    assert str(starts["start_date"].dtype) == "datetime64[ns]"
    assert starts["start_date"].iloc[0] == pd.Timestamp(2020, 7, 3)
    cp = result.sheets["Child_Protection"]
    assert list(cp.columns) == ["excel_row", "item", "description", "value", "notes"]
    assert result.sheet_order[:2] == ["Cover", "Guidance"]


def test_formula_without_saved_result_names_the_cell(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][3][1] = "=B2+B3"  # openpyxl saves no cached value
    result = _check(sheets, tmp_path)
    f = _only(result, "V-FORMULA-NO-VALUE")
    assert (f.sheet, f.cell, f.severity) == ("School_Outcomes", "B4", "error")
    assert result.status == STATUS_REJECTED
    assert not [g for g in result.findings if g.rule == "V-REQUIRED"]  # not reported twice


def test_formula_with_saved_result_is_fine(tmp_path: Path) -> None:
    path = write_workbook(valid_sheets("EDU"), tmp_path / "return.xlsx")
    src = path.read_bytes()
    fixed = tmp_path / "cached.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(fixed, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                data = data.replace(
                    b'<c r="B4" t="n"><v>100</v></c>', b'<c r="B4"><f>B2+B3-100</f><v>100</v></c>'
                )
                assert b"<f>" in data
            zout.writestr(info, data)
    assert src != fixed.read_bytes()
    result = check_workbook(fixed, today=TODAY)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert result.sheets["School_Outcomes"]["pupils"].iloc[2] == 100


def test_excel_error_cell(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][2][2] = "#DIV/0!"  # openpyxl writes an error cell
    result = _check(sheets, tmp_path)
    f = _only(result, "V-EXCEL-ERROR")
    assert (f.cell, f.value) == ("C3", "#DIV/0!")
    assert result.status == STATUS_REJECTED


def test_hidden_sheet_and_row_are_read_and_warned(tmp_path: Path) -> None:
    result = _check(
        valid_sheets("EDU"),
        tmp_path,
        hidden_sheets=("School_Outcomes",),
        hidden_rows={"School_Outcomes": [3]},
    )
    assert result.status == STATUS_WARNINGS
    assert _only(result, "S-SHEET-HIDDEN").sheet == "School_Outcomes"
    assert _only(result, "S-ROW-HIDDEN").row == 3
    assert len(result.sheets["School_Outcomes"]) == 5


def test_blank_rows_anywhere_are_ignored(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    rows = sheets["School_Outcomes"]
    sheets["School_Outcomes"] = rows[:3] + [[None] * 5, ["  ", None, None, None, None]] + rows[3:]
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert list(result.sheets["School_Outcomes"]["excel_row"]) == [2, 3, 6, 7, 8]


def test_dimension_tag_is_not_trusted(tmp_path: Path) -> None:
    path = write_workbook(valid_sheets("EDU"), tmp_path / "return.xlsx")
    lied = tmp_path / "lied.xlsx"
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(lied, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":
                data = data.replace(b'<dimension ref="A1:E6"/>', b'<dimension ref="A1:A1"/>')
                assert b'ref="A1:A1"' in data
            zout.writestr(info, data)
    result = check_workbook(lied, today=TODAY)
    assert result.status == STATUS_ACCEPTED
    assert len(result.sheets["School_Outcomes"]) == 5


def test_sheets_found_ignoring_case_spaces_underscores(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets = {"COVER ": sheets["Cover"], "school outcomes": sheets["School_Outcomes"]}
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert "School_Outcomes" in result.sheets


def test_missing_sheet(tmp_path: Path) -> None:
    sheets = valid_sheets("NHSG")
    del sheets["CAMHS"]
    result = _check(sheets, tmp_path)
    assert _only(result, "S-SHEET-MISSING").sheet == "CAMHS"
    assert result.status == STATUS_REJECTED


def test_missing_cover(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    del sheets["Cover"]
    result = _check(sheets, tmp_path)
    assert _only(result, "S-SHEET-MISSING").sheet == "Cover"
    assert result.status == STATUS_REJECTED


# ---------------------------------------------------------------- Cover
def test_cover_labels_any_row_any_case(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    cover = sheets["Cover"]
    sheets["Cover"] = [[None, None], [None, None]] + [
        [f"  {label.upper()} ", value] for label, value in cover[1:]
    ]
    sheets["Cover"][2][1] = " edu "  # code ignoring case and spaces
    sheets["Cover"][3][1] = "30/09/2020"  # quarter end as text
    sheets["Cover"][4][1] = "1"  # template version as text
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert result.cover.submitter == "EDU"
    assert result.cover.template_version == "1"


@pytest.mark.parametrize(
    ("row", "value", "code", "severity"),
    [
        (1, "XYZ", "C-SUBMITTER", "error"),
        (2, dt.datetime(2020, 9, 29), "C-QUARTER-END", "error"),
        (2, "3/4/21", "C-QUARTER-END", "error"),
        (3, 2, "C-TEMPLATE-VERSION", "error"),
        (4, None, "C-COMPLETED-BY", "error"),
        (5, "a.analyst at example", "C-EMAIL", "warning"),
        (6, dt.datetime(2020, 9, 1), "C-DATE-COMPLETED", "error"),
        (6, dt.datetime(2020, 10, 16), "C-DATE-COMPLETED", "error"),
        (6, "soon", "C-DATE-COMPLETED", "error"),
    ],
)
def test_cover_value_rules(tmp_path: Path, row, value, code, severity) -> None:
    sheets = valid_sheets("EDU")
    sheets["Cover"][row][1] = value
    result = _check(sheets, tmp_path)
    f = _only(result, code)
    assert (f.sheet, f.cell, f.severity) == ("Cover", f"B{row + 1}", severity)
    assert result.status == (STATUS_REJECTED if severity == "error" else STATUS_WARNINGS)


def test_cover_label_missing_and_duplicated(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["Cover"][4][0] = "Contact"  # Completed by label gone
    sheets["Cover"].append(["email", "b@example.org"])
    result = _check(sheets, tmp_path)
    assert _only(result, "C-LABEL-MISSING").column == "Completed by"
    assert _only(result, "C-LABEL-DUPLICATE").cell == "A8"
    assert result.status == STATUS_REJECTED


# ---------------------------------------------------------------- headers
def test_header_with_trailing_nbsp_and_invisibles_is_accepted(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][0] = [
        "Pupil Group\u00a0",
        "\ufeffpupils",
        "sessions possible",
        "SESSIONS_ATTENDED\u200b",
        " exclusion_incidents ",
    ]
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings


def test_duplicate_missing_and_extra_headers(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    for row in sheets["School_Outcomes"]:
        row[4] = row[1]  # exclusion_incidents gone; pupils twice
        row.append("x")
    sheets["School_Outcomes"][0][5] = "Comments"
    result = _check(sheets, tmp_path)
    assert _only(result, "S-HEADER-DUPLICATE").cell == "E1"
    assert _only(result, "S-HEADER-MISSING").column == "exclusion_incidents"
    extra = _only(result, "S-HEADER-EXTRA")
    assert (extra.cell, extra.severity) == ("F1", "warning")
    assert result.status == STATUS_REJECTED


def test_optional_column_may_be_absent(tmp_path: Path) -> None:
    sheets = valid_sheets("CSW")
    sheets["LAC_Census"] = [row[:3] for row in sheets["LAC_Census"]]  # no notes column
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert result.sheets["LAC_Census"]["notes"].isna().all()


def test_identifier_header_in_record_sheet(tmp_path: Path) -> None:
    sheets = valid_sheets("NHSG")
    for i, row in enumerate(sheets["Health_Assessments"]):
        row.append("Child Name" if i == 0 else "someone")
    result = _check(sheets, tmp_path)
    f = _only(result, "S-IDENTIFIER-HEADER")
    assert (f.cell, f.severity) == ("G1", "error")


def test_chi_number_anywhere_in_record_sheet(tmp_path: Path) -> None:
    sheets = valid_sheets("NHSG")
    sheets["Health_Assessments"][2][0] = "010 203 0405"
    result = _check(sheets, tmp_path)
    f = _only(result, "R-CHI")
    assert (f.sheet, f.cell) == ("Health_Assessments", "A3")
    assert result.status == STATUS_REJECTED


# ---------------------------------------------------------------- values
def test_count_typed_with_thousands_comma_is_accepted(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][5][2] = "61,234"
    sheets["School_Outcomes"][5][1] = " 1234 "
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert result.sheets["School_Outcomes"]["sessions_possible"].iloc[4] == 61234
    assert result.sheets["School_Outcomes"]["pupils"].iloc[4] == 1234


@pytest.mark.parametrize("bad", ["NA", "c", "<5", "12.5", 12.5])
def test_count_text_is_an_error_naming_the_cell(tmp_path: Path, bad) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][2][4] = bad
    result = _check(sheets, tmp_path)
    f = _only(result, "V-COUNT")
    assert (f.sheet, f.cell, f.column) == ("School_Outcomes", "E3", "exclusion_incidents")
    assert f.value == str(bad)
    assert result.status == STATUS_REJECTED
    assert pd.isna(result.sheets["School_Outcomes"]["exclusion_incidents"].iloc[1])


def test_text_dates_and_codes_are_read_canonically(tmp_path: Path) -> None:
    sheets = valid_sheets("CSW")
    sheets["LAC_Starts"][1][1] = "3/7/2020"
    sheets["LAC_Starts"][2][1] = "2020-07-04"
    sheets["LAC_Starts"][1][4] = " foster_la "
    sheets["LAC_Starts"][1][3] = "f"
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    starts = result.sheets["LAC_Starts"]
    assert starts["start_date"].iloc[0] == pd.Timestamp(2020, 7, 3)
    assert starts["start_date"].iloc[1] == pd.Timestamp(2020, 7, 4)
    assert starts["placement_type"].iloc[0] == "FOSTER_LA"
    assert starts["sex"].iloc[0] == "F"


@pytest.mark.parametrize("bad", ["3/4/21", 44000, "next Tuesday", "31/12/9999"])
def test_unreadable_date_is_an_error_naming_the_cell(tmp_path: Path, bad) -> None:
    sheets = valid_sheets("CSW")
    sheets["LAC_Starts"][3][1] = bad
    result = _check(sheets, tmp_path)
    f = _only(result, "V-DATE")
    assert (f.sheet, f.cell, f.row) == ("LAC_Starts", "B4", 4)
    assert result.status == STATUS_REJECTED


def test_age_not_whole_number(tmp_path: Path) -> None:
    sheets = valid_sheets("CSW")
    sheets["LAC_Starts"][1][2] = "about 4"
    result = _check(sheets, tmp_path)
    assert _only(result, "V-INT").cell == "C2"


def test_written_workbook_has_what_we_think(tmp_path: Path) -> None:
    """Guard for the builder: the date cells really are dates in the file."""
    path = write_workbook(valid_sheets("CSW"), tmp_path / "r.xlsx")
    ws = openpyxl.load_workbook(path)["LAC_Starts"]
    assert ws["B2"].is_date


def test_an_invalid_item_value_is_reported_once_not_again_as_a_blank(tmp_path: Path) -> None:
    sheets = valid_sheets("NHSG")
    sheets["CAMHS"][1][2] = "NA"  # row 2: started_treatment, value column C
    result = _check(sheets, tmp_path)
    at_c2 = [f for f in result.findings if f.sheet == "CAMHS" and f.cell == "C2"]
    assert [f.rule for f in at_c2] == ["V-COUNT"], at_c2


def test_typed_frame_types_each_column_and_keeps_blanks_as_missing() -> None:
    from transforms.intake.sheet_frames import typed_frame
    from transforms.spec import Column

    columns = [
        Column(name="n", type="count"),
        Column(name="d", type="date"),
        Column(name="t", type="text"),
    ]
    frame = typed_frame(
        {"excel_row": [2, 3], "n": [None, 4], "d": [dt.date(2020, 3, 31), None], "t": ["x", None]},
        columns,
    )
    expected = pd.DataFrame(
        {
            "excel_row": pd.Series([2, 3], dtype="int64"),
            "n": pd.Series([pd.NA, 4], dtype="Int64"),
            "d": pd.Series([pd.Timestamp("2020-03-31"), pd.NaT], dtype="datetime64[ns]"),
            "t": pd.Series(["x", None], dtype="str"),
        }
    )
    pd.testing.assert_frame_equal(frame, expected)
    assert frame["n"].isna().tolist() == [True, False]  # missing, never 0
