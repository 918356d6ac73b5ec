"""The generated documents open in LibreOffice and say what they should (PDF text)."""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.report_examples import example_inputs, many_measures_inputs
from transforms.findings import Finding, ParsedReturn
from transforms.intake.feedback import write_feedback_workbook
from transforms.reports.excel import write_xlsx
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


# ------------------------------------------------------------------ pages (issue 14)
#: Header and footer bands (fractions of the page height; A4 margins are 2 cm, the running
#: header and footer sit 1 cm from the edge) left out of a page's body text.
HEADER_BAND, FOOTER_BAND = 0.05, 0.94
#: A page whose body has fewer characters than this, and no picture, is near-empty.
NEAR_EMPTY_CHARS = 80


def pdf_pages(pdf: Path, work: Path) -> list[dict]:
    """Per page: its size, the body text (between header and footer bands) and the boxes of
    its pictures, from `pdftohtml -xml` (poppler)."""
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftohtml", "-xml", "-q", "-nodrm", str(pdf), str(work / "pages")],
        check=True,
        timeout=120,
    )
    root = ET.parse(work / "pages.xml").getroot()
    pages = []
    for page in root.iter("page"):
        h, w = float(page.get("height")), float(page.get("width"))
        body = " ".join(
            "".join(t.itertext())
            for t in page.iter("text")
            if HEADER_BAND * h < float(t.get("top")) < FOOTER_BAND * h
        )
        images = [
            tuple(float(i.get(k)) for k in ("left", "top", "width", "height"))
            for i in page.iter("image")
        ]
        pages.append(
            {"number": int(page.get("number")), "w": w, "h": h, "body": body, "images": images}
        )
    return pages


@pytest.fixture(scope="module")
def many_pdfs(tmp_path_factory) -> dict[str, Path]:
    """Reports with every spec measure charted: the overview runs over several parts."""
    if shutil.which("pdftohtml") is None:
        pytest.skip("pdftohtml (poppler-utils) not installed")
    out = tmp_path_factory.mktemp("office-many")
    docs = [
        write_docx(many_measures_inputs(), out / "many.docx"),
        write_docx(many_measures_inputs(public=True), out / "many_public.docx"),
    ]
    return {d.name: to_pdf(d, out / "pdf") for d in docs}


@pytest.mark.parametrize("name", ["many.docx", "many_public.docx"])
def test_no_page_is_near_empty_and_every_picture_lies_within_its_page(many_pdfs, tmp_path, name):
    pages = pdf_pages(many_pdfs[name], tmp_path / "xml")
    assert len(pages) > 10
    pictures = 0
    for p in pages:
        body = re.sub(r"\s+", "", p["body"])
        charts = [im for im in p["images"] if im[2] > 0.3 * p["w"]]  # not the small logo
        assert len(body) >= NEAR_EMPTY_CHARS or p["images"], (
            f"page {p['number']} is near-empty: {p['body'].strip()[:80]!r}"
        )
        for left, top, width, height in p["images"]:
            assert left >= 0 and top >= 0, (p["number"], left, top)
            assert left + width <= p["w"] and top + height <= p["h"], (
                f"page {p['number']}: a picture runs off the page"
            )
        pictures += len(charts)
    assert pictures >= 24 + 4  # a chart per measure and four overview parts


def test_every_overview_part_shares_its_page_with_its_heading(many_pdfs, tmp_path):
    pages = pdf_pages(many_pdfs["many.docx"], tmp_path / "xml")
    parts = [p for p in pages if "Headline measures over time (" in re.sub(r"\s+", " ", p["body"])]
    titles = [
        m
        for p in parts
        for m in re.findall(
            r"Headline measures over time \(\d of \d\)", re.sub(r"\s+", " ", p["body"])
        )
    ]
    assert titles == [f"Headline measures over time ({k} of 4)" for k in range(1, 5)]
    for p in parts:
        n = len(re.findall(r"Headline measures over time \(", re.sub(r"\s+", " ", p["body"])))
        big = [im for im in p["images"] if im[2] > 0.3 * p["w"]]
        assert len(big) >= n, f"page {p['number']}: a heading without its picture"
