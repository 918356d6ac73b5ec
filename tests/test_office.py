"""The generated documents open in LibreOffice and say what they should (PDF text)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from transforms.findings import Finding, ParsedReturn
from transforms.intake.feedback import write_feedback_workbook
from transforms.reports.excel import write_xlsx
from transforms.reports.inputs import example_inputs
from transforms.reports.preview import office_binary, pdf_text, to_pdf
from transforms.reports.word import write_docx

pytestmark = [
    pytest.mark.office,
    pytest.mark.skipif(
        office_binary() is None or shutil.which("pdftotext") is None,
        reason="LibreOffice or pdftotext not installed",
    ),
]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("office")
    docs = [
        write_docx(example_inputs(), out / "Data_Summary_2020-09-30.docx"),
        write_xlsx(example_inputs(), out / "Data_Summary_2020-09-30.xlsx"),
        write_docx(example_inputs(public=True), out / "Data_Summary_2020-09-30_public.docx"),
        write_xlsx(example_inputs(public=True), out / "Data_Summary_2020-09-30_public.xlsx"),
    ]
    return {d.name: to_pdf(d, out / "pdf" / d.suffix[1:]) for d in docs}


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def test_word_report_pdf_text(pdfs):
    pdf = pdfs["Data_Summary_2020-09-30.docx"]
    cover = _flat(pdf_text(pdf, 1, 1))
    assert "Data Summary Report" in cover
    assert "Quarter 2 2020/21 (July to September 2020)" in cover
    assert "OFFICIAL-SENSITIVE" in cover
    text = _flat(pdf_text(pdf))
    assert "62.5%" in text and "25 of 40" in text
    assert "=Workshop held 28/11/2019 & charter agreed;" in text
    assert "<50% last year, now > target" in text
    assert "Data-quality annex" in text and "Definitions" in text


def test_workbook_pdf_text(pdfs):
    text = _flat(pdf_text(pdfs["Data_Summary_2020-09-30.xlsx"]))
    assert "Data Summary Report" in text and "Quarter 2 2020/21" in text
    assert "=Workshop held 28/11/2019 & charter agreed;" in text
    assert "#N/A" in text
    assert "62.5" in text


def test_public_pdfs_show_the_symbol_not_the_figure(pdfs):
    for name in ("Data_Summary_2020-09-30_public.docx", "Data_Summary_2020-09-30_public.xlsx"):
        text = _flat(pdf_text(pdfs[name]))
        assert "OFFICIAL – public" in text, name
        assert "c: figure suppressed" in text, name
        assert "7.3%" not in text and "42.9%" not in text and "AB12CD34" not in text, name


def test_feedback_workbook_opens_with_text_kept_and_fits_the_page_width(tmp_path):
    values = [
        '=HYPERLINK("x")',
        "#N/A",
        "+44 1224",
        "1234",
        "<r>x</r>",
        "A&B<C>",
    ]  # each fits column D
    findings = [
        Finding(
            severity="error",
            rule=f"V-{i}",
            message=f"last column {i}",
            sheet="LAC_Census",
            cell=f"B{i + 2}",
            row=i + 2,
            value=v,
            expected="a whole number",
        )
        for i, v in enumerate(values)
    ]
    xlsx = write_feedback_workbook(
        ParsedReturn(file_name="CSW.xlsx", findings=findings, sheet_order=["LAC_Census"]),
        tmp_path / "CSW.feedback.xlsx",
    )
    first_page = _flat(pdf_text(to_pdf(xlsx, tmp_path / "pdf"), 1, 1))
    assert "CSW.xlsx: rejected (6 errors, 0 warnings)" in first_page
    for v in values:
        assert v in first_page, v
    assert "last column 5" in first_page  # column G on page 1: fit to the page width
