"""Feedback: status first, problems in Excel's order, submitted text never live in the xlsx."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

import transforms.intake.feedback as feedback_module
from tests.returns_builder import TODAY, valid_sheets, write_workbook
from transforms import safe_text
from transforms.atomic import atomic_write
from transforms.findings import Finding, ParsedReturn
from transforms.intake.feedback import (
    COLUMN_WIDTHS,
    HEADERS,
    feedback_text,
    write_feedback_workbook,
)
from transforms.intake.validate import check_workbook


def _finding(
    rule: str,
    sheet: str | None = None,
    cell: str | None = None,
    row: int | None = None,
    value: str | None = None,
    severity: str = "error",
) -> Finding:
    return Finding(
        severity=severity,
        rule=rule,
        message=f"message {rule}",
        sheet=sheet,
        cell=cell,
        row=row,
        value=value,
        expected="something else",
    )


def _parsed(findings: list[Finding]) -> ParsedReturn:
    return ParsedReturn(
        file_name="CSW Q2.xlsx",
        findings=findings,
        sheet_order=["Cover", "LAC_Census", "LAC_Starts"],
    )


def test_text_status_first_then_sheet_row_column_order() -> None:
    findings = [
        _finding("D", "LAC_Starts", "B3", 3),
        _finding("C", "LAC_Census", "C10", 10),
        _finding("B", "LAC_Census", "AA2", 2),
        _finding("A", "LAC_Census", "C2", 2),
        _finding("W", None),
        _finding("R", "LAC_Starts", None, 3, severity="warning"),
        _finding("M", "Progress"),  # a sheet the workbook lacks: last
        _finding("H", "Cover", "B4", 4),
    ]
    lines = feedback_text(_parsed(findings), status_line="CSW Q2.xlsx: rejected").splitlines()
    assert lines[0] == "CSW Q2.xlsx: rejected"
    order = [line.split("[")[1].split("]")[0] for line in lines[1:]]
    assert order == ["W", "H", "A", "B", "C", "R", "D", "M"]
    assert "ERROR LAC_Census!C2 [A]: message A" in lines[3]
    assert "Expected: something else." in lines[3]


def test_default_status_line_counts() -> None:
    text = feedback_text(
        _parsed(
            [_finding("A", "Cover", "B2", 2), _finding("B", "Cover", "B3", 3, severity="warning")]
        )
    )
    assert text.splitlines()[0] == "CSW Q2.xlsx: rejected (1 error, 1 warning)"
    clean = feedback_text(_parsed([]))
    assert clean.splitlines()[0] == "CSW Q2.xlsx: accepted (0 errors, 0 warnings)"


def test_feedback_workbook_writes_text_never_formulas(tmp_path: Path) -> None:
    nasty = [
        '=HYPERLINK("http://x","click")',
        "+1",
        "-2",
        "@A1",
        "#N/A",
        "#REF!",
        "bell\x07char",
        "x" * 40_000,
    ]
    findings = [
        _finding("V-COUNT", "LAC_Census", f"B{i + 2}", i + 2, value=v) for i, v in enumerate(nasty)
    ]
    path = write_feedback_workbook(
        _parsed(findings), tmp_path / "fb" / "CSW Q2.feedback.xlsx", status_line="=status"
    )
    assert path.exists()
    assert not list(path.parent.glob("*.tmp"))
    with zipfile.ZipFile(path) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in xml and b't="e"' not in xml
    ws = openpyxl.load_workbook(path)["Feedback"]
    assert ws["A1"].value == "=status" and ws["A1"].data_type == "s"
    assert [c.value for c in ws[3]] == HEADERS
    values = [ws.cell(row=r, column=4).value for r in range(4, 4 + len(nasty))]
    assert values[:6] == nasty[:6]
    assert values[6] == "bellchar"
    assert len(values[7]) == 32_767
    for r in range(4, 10):
        assert ws.cell(row=r, column=4).data_type == "s"
        assert ws.cell(row=r, column=4).quotePrefix


def test_feedback_workbook_text_is_never_markup(tmp_path: Path) -> None:
    """Text shaped like xlsxwriter's rich-string XML stays text (xlsxwriter would copy it in)."""
    values = [
        "<r><t>rich</t></r>",
        "<r>bad</b></r>",
        'a & b <c> "d"',
        "]]>",
        "cr\rhere",
        "_x0041_",
        " edge ",
        "\ufffe",
    ]
    findings = [
        _finding("V-COUNT", "LAC_Census", f"B{i + 2}", i + 2, value=v) for i, v in enumerate(values)
    ]
    path = write_feedback_workbook(_parsed(findings), tmp_path / "fb.xlsx")
    ws = openpyxl.load_workbook(path)["Feedback"]
    got = [ws.cell(row=r, column=4).value for r in range(4, 4 + len(values))]
    assert got[:3] == values[:3] and got[3] == "]]>"


def test_shared_strings_are_written_as_xlsxwriter_writes_them(tmp_path: Path) -> None:
    """The hand-made shared strings part equals xlsxwriter's, escapes and all."""
    import xlsxwriter

    texts = [
        "plain",
        " lead",
        "trail ",
        "\tTab",
        "line\nbreak",
        "cr\rhere",
        "_x0041_ x",
        'a & b < c > d "q"',
        "\ufffe\uffff",
        "ümlaut 中文 😀",
        "\xa0nbsp",
        "",
        "plain",
        "=1+1",
        "😀" * 20_000,
    ]
    parsed = ParsedReturn(
        file_name="s.xlsx",
        findings=[
            Finding(severity="error", rule=t, message=t, sheet=t, cell=t, value=t, expected=t)
            for t in texts
        ],
    )
    ours = write_feedback_workbook(parsed, tmp_path / "ours.xlsx", status_line="status")
    ref = tmp_path / "ref.xlsx"
    wb = xlsxwriter.Workbook(str(ref), {"strings_to_formulas": False})
    ws = wb.add_worksheet("Feedback")
    ws.write_string(0, 0, "status")
    for col, header in enumerate(HEADERS):
        ws.write_string(2, col, header)
    for row, f in enumerate(feedback_module.sorted_findings(parsed), start=3):
        for col, v in enumerate(
            [f.severity, f.sheet, f.cell, f.value, f.expected, f.rule, f.message]
        ):
            ws.write_string(row, col, safe_text.cell_text(v))
    wb.close()
    with zipfile.ZipFile(ours) as a, zipfile.ZipFile(ref) as b:
        assert a.read("xl/sharedStrings.xml") == b.read("xl/sharedStrings.xml")


def test_feedback_workbook_is_a_complete_package(tmp_path: Path) -> None:
    """Every part xlsxwriter writes is there, each once, with its fixed zip timestamp."""
    path = write_feedback_workbook(_parsed([_finding("A", "Cover", "B2", 2)]), tmp_path / "fb.xlsx")
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        infos = zf.infolist()
    assert sorted(i.filename for i in infos) == sorted(
        [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/_rels/workbook.xml.rels",
            "xl/worksheets/sheet1.xml",
            "xl/workbook.xml",
            "xl/sharedStrings.xml",
            "xl/styles.xml",
            "xl/theme/theme1.xml",
            "docProps/core.xml",
            "docProps/app.xml",
        ]
    )
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}


def test_feedback_workbook_replaces_atomically(tmp_path: Path) -> None:
    path = tmp_path / "fb.xlsx"
    path.write_bytes(b"old")
    write_feedback_workbook(_parsed([_finding("A", "Cover", "B2", 2)]), path)
    ws = openpyxl.load_workbook(path).active
    assert ws["A4"].value == "error" and ws["C4"].value == "B2" and ws["F4"].value == "A"
    assert [p.name for p in tmp_path.iterdir()] == ["fb.xlsx"]


def test_feedback_workbook_cells_and_layout(tmp_path: Path) -> None:
    risky = ["=1+1", "+44", "#N/A", "@x", "1234", "-", "plain"]
    findings = [
        _finding("V-COUNT", "LAC_Census", f"B{i + 2}", i + 2, value=v) for i, v in enumerate(risky)
    ]
    path = write_feedback_workbook(_parsed(findings), tmp_path / "fb.xlsx")
    ws = openpyxl.load_workbook(path)["Feedback"]
    assert ws["A1"].value == "CSW Q2.xlsx: rejected (7 errors, 0 warnings)"
    assert ws["A1"].font.b and not ws["A1"].quotePrefix
    assert [c.value for c in ws[3]] == HEADERS and all(c.font.b for c in ws[3])
    assert ws.max_row == 3 + len(risky)
    for row in ws.iter_rows(min_row=4):
        assert len(row) == len(HEADERS)
        for cell in row:
            assert cell.data_type == "s", cell.coordinate
            assert isinstance(cell.value, str), cell.coordinate
            assert cell.quotePrefix == safe_text.needs_quote(cell.value), cell.coordinate
            assert cell.alignment.wrap_text and cell.alignment.vertical == "top"
    assert [ws.cell(row=r, column=4).value for r in range(4, 4 + len(risky))] == risky
    quoted = [ws.cell(row=r, column=4).quotePrefix for r in range(4, 4 + len(risky))]
    assert quoted == [True, True, True, True, False, True, False]
    assert ws.freeze_panes == "A4"
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth or 1) == 1  # xlsxwriter omits the default (1)
    assert ws.page_setup.fitToHeight == 0
    widths = [ws.column_dimensions[letter].width for letter in "ABCDEFG"]
    assert widths == list(COLUMN_WIDTHS) == [9, 18, 10, 20, 32, 16, 60]


def test_feedback_workbook_same_content_same_bytes(tmp_path: Path) -> None:
    parsed = _parsed([_finding("A", "Cover", "B2", 2, value="=x")])
    first = write_feedback_workbook(parsed, tmp_path / "a.xlsx").read_bytes()
    assert write_feedback_workbook(parsed, tmp_path / "b.xlsx").read_bytes() == first
    feedback_module._template.cache_clear()  # as a fresh process would build it
    assert write_feedback_workbook(parsed, tmp_path / "c.xlsx").read_bytes() == first


def test_feedback_workbook_failure_keeps_the_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "fb.xlsx"
    path.write_bytes(b"old")

    def broken(value: object) -> str:
        raise RuntimeError("bug")

    monkeypatch.setattr(feedback_module, "safe_text", broken)
    with pytest.raises(RuntimeError):
        write_feedback_workbook(_parsed([_finding("A", "Cover", "B2", 2)]), path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["fb.xlsx"]


def test_feedback_workbook_inside_an_atomic_write_swaps_once(tmp_path: Path, monkeypatch) -> None:
    """As intake calls it: the enclosing atomic_write alone makes a temp file and renames."""
    import transforms.atomic as atomic

    replaced: list[tuple[str, str]] = []
    real_replace = atomic.os.replace

    def counting_replace(src, dst):
        replaced.append((Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", counting_replace)
    path = tmp_path / "fb.xlsx"
    parsed = _parsed([_finding("A", "Cover", "B2", 2)])
    atomic_write(
        path, lambda tmp: write_feedback_workbook(parsed, tmp, status_line="s"), suffix=".xlsx"
    )
    assert [dst for _, dst in replaced] == ["fb.xlsx"]
    assert openpyxl.load_workbook(path)["Feedback"]["A1"].value == "s"
    assert [p.name for p in tmp_path.iterdir()] == ["fb.xlsx"]
    write_feedback_workbook(parsed, path)  # called alone: still atomic
    assert [dst for _, dst in replaced] == ["fb.xlsx", "fb.xlsx"]
    assert not atomic._PENDING


def test_feedback_for_a_real_rejected_workbook(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][2][4] = "=B2"  # formula without saved result
    sheets["School_Outcomes"][1][1] = "NA"
    sheets["Cover"][5][1] = "nobody"  # malformed email: warning
    result = check_workbook(write_workbook(sheets, tmp_path / "edu.xlsx"), today=TODAY)
    text = feedback_text(result)
    lines = text.splitlines()
    assert lines[0].startswith("edu.xlsx: rejected")
    assert [line.split()[1] for line in lines[1:]] == [
        "Cover!B6",
        "School_Outcomes!B2",
        "School_Outcomes!E3",
    ]
    assert "Found: NA." in lines[2]
    path = write_feedback_workbook(result, tmp_path / "edu.feedback.xlsx")
    ws = openpyxl.load_workbook(path).active
    assert [ws.cell(row=r, column=3).value for r in range(4, 7)] == ["B6", "B2", "E3"]
    assert ws.cell(row=6, column=4).value == "(formula with no saved result)"
