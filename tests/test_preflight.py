"""Pre-flight: every file that must not reach a parser is refused with a clear finding."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.returns_builder import TODAY, valid_sheets, write_workbook
from transforms.findings import STATUS_REJECTED
from transforms.intake.preflight import OLE2_MAGIC, Limits, preflight
from transforms.intake.validate import Sandbox, check_workbook


def _codes(findings) -> list[str]:
    return [f.rule for f in findings]


def _xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    wb.active["A1"] = "x"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_valid_workbook_passes(tmp_path: Path) -> None:
    path = write_workbook(valid_sheets("EDU"), tmp_path / "edu.xlsx")
    assert preflight(path) == []


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    path.write_bytes(b"")
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-EMPTY"]
    assert "empty" in result.findings[0].message


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"child_ref,start_date\nAB12,01/07/2020\n", "CSV"),
        (b"\xef\xbb\xbfSubmitter code,CSW\r\n", "CSV"),
        (b"<!DOCTYPE html><html><body><table><tr><td>1</td></tr></table></body></html>", "HTML"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (OLE2_MAGIC + b"\x00" * 600, ".xls"),
    ],
)
def test_not_an_xlsx_whatever_the_name(tmp_path: Path, content: bytes, what: str) -> None:
    path = tmp_path / "return.xlsx"
    path.write_bytes(content)
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-NOT-XLSX"]
    assert what in result.findings[0].message
    assert "Save As" in result.findings[0].message


def test_ods_renamed_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "return.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        zf.writestr("content.xml", "<office:document-content/>")
    findings = preflight(path)
    assert _codes(findings) == ["P-NOT-XLSX"]
    assert "OpenDocument" in findings[0].message


def test_zip_that_is_not_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "return.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", "<w:document/>")
    assert _codes(preflight(path)) == ["P-NOT-XLSX"]
    assert "Word" in preflight(path)[0].message


@pytest.mark.parametrize("ext", [".xlsm", ".xls", ".csv", ".ods", ".txt", ""])
def test_wrong_extension_says_save_as_xlsx(tmp_path: Path, ext: str) -> None:
    path = tmp_path / f"return{ext}"
    path.write_bytes(_xlsx_bytes())
    findings = preflight(path)
    assert _codes(findings) == ["P-EXTENSION"]
    assert ".xlsx" in findings[0].message


def test_extension_is_judged_on_the_original_name(tmp_path: Path) -> None:
    path = tmp_path / "0f3a9c.bin"  # archived under its hash
    path.write_bytes(_xlsx_bytes())
    assert preflight(path, original_name="CSW Q2.XLSX") == []
    assert _codes(preflight(path, original_name="CSW Q2.csv")) == ["P-EXTENSION"]


def test_encrypted_workbook(tmp_path: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    plain = write_workbook(valid_sheets("EDU"), tmp_path / "plain.xlsx")
    path = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, path.open("wb") as out:
        OOXMLFile(src).encrypt("secret", out)
    assert path.read_bytes()[:8] == OLE2_MAGIC
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-ENCRYPTED"]
    assert "password" in result.findings[0].message


def _with_extra_parts(
    tmp_path: Path, name: str, parts: dict[str, bytes], content_types: bytes | None = None
) -> Path:
    src = write_workbook(valid_sheets("EDU"), tmp_path / "src.xlsx")
    path = tmp_path / name
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml" and content_types:
                data = data.replace(b"</Types>", content_types + b"</Types>")
            zout.writestr(info, data)
        for part, data in parts.items():
            zout.writestr(part, data)
    return path


def test_macro_part_is_refused(tmp_path: Path) -> None:
    path = _with_extra_parts(tmp_path, "return.xlsx", {"xl/vbaProject.bin": b"\x00" * 64})
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-MACRO"]


def test_macro_enabled_content_type_is_refused(tmp_path: Path) -> None:
    ct = (
        b'<Override PartName="/xl/workbook.xml" ContentType="application/'
        b'vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
    )
    path = _with_extra_parts(tmp_path, "return.xlsx", {}, content_types=ct)
    assert _codes(preflight(path)) == ["P-MACRO"]


def test_xlsm_gets_extension_and_macro_findings(tmp_path: Path) -> None:
    path = _with_extra_parts(tmp_path, "return.xlsm", {"xl/vbaProject.bin": b"\x00" * 64})
    assert _codes(preflight(path)) == ["P-EXTENSION", "P-MACRO"]


def test_zip_bomb_by_ratio(tmp_path: Path) -> None:
    path = _with_extra_parts(tmp_path, "bomb.xlsx", {"xl/media/pad.bin": b"\x00" * 30_000_000})
    assert path.stat().st_size < 200_000
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-TOO-LARGE"]
    assert "compressed" in result.findings[0].message


def test_zip_bomb_by_total_size_and_entries(tmp_path: Path) -> None:
    path = _with_extra_parts(
        tmp_path, "big.xlsx", {f"xl/media/p{i}.bin": b"\x00" * 1000 for i in range(20)}
    )
    assert _codes(preflight(path, limits=Limits(max_uncompressed_bytes=10_000))) == ["P-TOO-LARGE"]
    assert _codes(preflight(path, limits=Limits(max_entries=10))) == ["P-TOO-LARGE"]


def test_damaged_zip(tmp_path: Path) -> None:
    path = tmp_path / "broken.xlsx"
    path.write_bytes(_xlsx_bytes()[:300])
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-UNREADABLE"]


def test_damaged_workbook_xml_is_a_finding_not_a_traceback(tmp_path: Path) -> None:
    src = write_workbook(valid_sheets("EDU"), tmp_path / "src.xlsx")
    path = tmp_path / "bad.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = b"<not xml" if info.filename == "xl/workbook.xml" else zin.read(info)
            zout.writestr(info, data)
    result = check_workbook(path, today=TODAY)
    assert result.status == STATUS_REJECTED
    assert _codes(result.findings) == ["P-UNREADABLE"]


def test_sheet_beyond_row_limit(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"] += [["ALL_PUPILS", 1, 1, 1, 1]] * 50
    path = write_workbook(sheets, tmp_path / "long.xlsx")
    result = check_workbook(path, today=TODAY, limits=Limits(max_rows=20))
    assert "S-TOO-MANY-ROWS" in _codes(result.findings)
    assert result.status == STATUS_REJECTED


def _address_space() -> int:
    pages = int(Path("/proc/self/statm").read_text().split()[0])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE")


def test_sandbox_parses_a_good_file_and_bounds_a_slow_one(tmp_path: Path) -> None:
    path = write_workbook(valid_sheets("EDU"), tmp_path / "edu.xlsx")
    ok = check_workbook(path, today=TODAY, sandbox=Sandbox(timeout_s=60))
    assert ok.status == "accepted"
    slow = check_workbook(path, today=TODAY, sandbox=Sandbox(timeout_s=0.0001))
    assert _codes(slow.findings) == ["P-TOO-LARGE"]


def test_sandbox_bounds_memory(tmp_path: Path) -> None:
    src = write_workbook(valid_sheets("EDU"), tmp_path / "src.xlsx")
    path = tmp_path / "fat.xlsx"
    big = (
        b'<row r="99"><c r="A99" t="inlineStr"><is><t>' + b"x" * 60_000_000 + b"</t></is></c></row>"
    )
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "xl/worksheets/sheet3.xml":  # School_Outcomes
                data = data.replace(b"</sheetData>", big + b"</sheetData>")
            zout.writestr(info, data)
    loose = Limits(max_ratio=1e9, max_uncompressed_bytes=10**9)
    starved = check_workbook(
        path, today=TODAY, limits=loose, sandbox=Sandbox(memory_bytes=_address_space() + 20_000_000)
    )
    assert _codes(starved.findings) == ["P-TOO-LARGE"]
    assert "memory" in starved.findings[0].message
