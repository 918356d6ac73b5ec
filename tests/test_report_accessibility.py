"""Accessibility and page layout of the Word and Excel packs, checked by opening the files.

What each check covers is written down in docs/accessibility.md. The documents are rendered
from inputs with every spec measure charted (tests/report_examples.py), so the small
multiples run over several parts and the tables are long.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from tests.report_examples import many_measures_inputs
from transforms.reports.excel import write_xlsx
from transforms.reports.word import write_docx

EMU_PER_CM = 360000
NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "wp": "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
}
RAG_WORDS = {"Green", "Amber", "Red", "Not rated", "–"}
APPROVED = dt.date(2020, 11, 2)


@pytest.fixture(scope="module")
def docs(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("a11y")
    issued = {"approved_on": APPROVED, "approved_by": "Jo Bloggs"}
    return {
        "docx": write_docx(many_measures_inputs(), out / "internal.docx"),
        "public_docx": write_docx(many_measures_inputs(public=True), out / "public.docx"),
        "issued_docx": write_docx(many_measures_inputs(**issued), out / "issued.docx"),
        "xlsx": write_xlsx(many_measures_inputs(), out / "internal.xlsx"),
        "public_xlsx": write_xlsx(many_measures_inputs(public=True), out / "public.xlsx"),
    }


WORD = ["docx", "public_docx"]
EXCEL = ["xlsx", "public_xlsx"]


def _body(doc):
    return doc.element.body


def _headings(doc) -> list[tuple[int, str]]:
    out = []
    for p in doc.paragraphs:
        m = re.fullmatch(r"Heading (\d)", p.style.name)
        if m:
            out.append((int(m.group(1)), p.text))
    return out


# ------------------------------------------------------------------ Word
@pytest.mark.parametrize("key", WORD)
def test_word_title_subject_and_language(docs, key):
    doc = Document(docs[key])
    assert doc.core_properties.title.startswith("Data Summary Report")
    assert doc.core_properties.subject == "Quarter 2 2020/21 (July to September 2020)"
    lang = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang is not None and lang.get(qn("w:val")) == "en-GB"


@pytest.mark.parametrize("key", WORD)
def test_word_headings_in_order_without_skipped_levels(docs, key):
    heads = _headings(Document(docs[key]))
    assert heads[0] == (1, "Summary")
    level = 0
    for lvl, text in heads:
        assert lvl <= level + 1, f"{text!r} jumps from level {level} to {lvl}"
        assert text.strip(), "an empty heading"
        level = lvl
    titles = [t for lvl, t in heads if lvl == 1]
    # Reading order: the report's parts in the contract's order.
    order = ["Summary", "Stretch outcome 1", "Action plan", "Milestones", "Data-quality annex"]
    where = [next(i for i, t in enumerate(titles) if t.startswith(o)) for o in order]
    assert where == sorted(where) and titles[-1] == "Definitions"


@pytest.mark.parametrize("key", WORD)
def test_word_headings_keep_with_next(docs, key):
    doc = Document(docs[key])
    for name in ("Heading 1", "Heading 2", "Heading 3"):
        assert doc.styles[name].paragraph_format.keep_with_next, name


@pytest.mark.parametrize("key", WORD)
def test_word_every_picture_has_alt_text_saying_what_it_shows(docs, key):
    doc = Document(docs[key])
    pics = _body(doc).findall(".//wp:docPr", NS)
    assert len(pics) > 20
    for pr in pics:
        descr = pr.get("descr") or ""
        assert len(descr) > 20, pr.get("name")
        if "logo" not in descr.lower():
            assert "chart" in descr.lower() and re.search(r"\d", descr), descr[:80]
    assert not _body(doc).findall(".//wp:anchor", NS), "floating pictures break reading order"


@pytest.mark.parametrize("key", WORD)
def test_word_pictures_fit_the_text_area(docs, key):
    doc = Document(docs[key])
    sections = doc.sections
    text_w = min(s.page_width - s.left_margin - s.right_margin for s in sections)
    text_h = min(s.page_height - s.top_margin - s.bottom_margin for s in sections)
    for ext in _body(doc).findall(".//wp:inline/wp:extent", NS):
        cx, cy = int(ext.get("cx")), int(ext.get("cy"))
        assert cx <= text_w and cy <= text_h * 0.9, (cx / EMU_PER_CM, cy / EMU_PER_CM)


@pytest.mark.parametrize("key", WORD)
def test_word_overview_split_into_parts_each_under_its_heading(docs, key):
    doc = Document(docs[key])
    paras = doc.paragraphs
    heads = [i for i, p in enumerate(paras) if p.text.startswith("Headline measures over time")]
    n_series = 24  # every spec measure has a series in these inputs
    parts = -(-n_series // 6)
    assert [paras[i].text for i in heads] == [
        f"Headline measures over time ({k} of {parts})" for k in range(1, parts + 1)
    ]
    for i in heads:
        assert paras[i].style.name == "Heading 2"
        pic = paras[i + 1]._p.findall(".//wp:docPr", NS)
        assert len(pic) == 1, "the part's picture follows its heading"
        assert "Small multiple line charts of 6 headline measures" in pic[0].get("descr")


@pytest.mark.parametrize("key", WORD)
def test_word_tables_have_repeating_header_rows_and_rows_that_do_not_split(docs, key):
    doc = Document(docs[key])
    assert len(doc.tables) > 10
    for t in doc.tables:
        first = t.rows[0]._tr
        assert first.find(f"{qn('w:trPr')}/{qn('w:tblHeader')}") is not None, t.rows[0].cells[0]
        assert all(c.text.strip() for c in t.rows[0].cells), "every column has a header"
        for row in t.rows:
            assert row._tr.find(f"{qn('w:trPr')}/{qn('w:cantSplit')}") is not None


@pytest.mark.parametrize("key", WORD)
def test_word_no_information_by_colour_alone(docs, key):
    """Every shaded (RAG) cell also says its status in words."""
    doc = Document(docs[key])
    shaded = 0
    for t in doc.tables:
        for row in t.rows[1:]:
            for c in row.cells:
                shd = c._tc.find(f"{qn('w:tcPr')}/{qn('w:shd')}")
                if shd is not None and shd.get(qn("w:fill")) not in (None, "auto", "FFFFFF"):
                    shaded += 1
                    assert c.text.strip() in RAG_WORDS, c.text
    assert shaded >= 3


def test_word_cover_draft_then_issued(docs):
    def cover(path):
        doc = Document(path)
        table = doc.tables[0]
        rows = {r.cells[0].text: r.cells[1].text for r in table.rows}
        text = [p.text for p in doc.paragraphs]
        head = doc.sections[0].header.paragraphs[0].text
        return rows, text, head

    rows, text, head = cover(docs["docx"])
    assert rows["Data as at"] == "28 October 2020"  # the latest receipt of the example
    assert rows["Version"] == "2020-09-30 v1"
    assert rows["Status"].startswith("DRAFT") and "DRAFT" in text and "DRAFT" in head
    assert "Date generated" not in rows
    rows, text, head = cover(docs["issued_docx"])
    assert rows["Status"] == "Issued: approved on 2 November 2020 by Jo Bloggs"
    assert "DRAFT" not in text and "DRAFT" not in head


def test_same_data_same_decision_same_bytes(docs, tmp_path):
    again = write_docx(
        many_measures_inputs(approved_on=APPROVED, approved_by="Jo Bloggs"), tmp_path / "a.docx"
    )
    assert again.read_bytes() == docs["issued_docx"].read_bytes()
    other = write_docx(
        many_measures_inputs(approved_on=APPROVED, approved_by="Someone Else"), tmp_path / "b.docx"
    )
    assert other.read_bytes() != docs["issued_docx"].read_bytes()


# ------------------------------------------------------------------ Excel
@pytest.mark.parametrize("key", EXCEL)
def test_excel_cover_contents_notes_first(docs, key):
    wb = load_workbook(docs[key])
    assert wb.sheetnames[:3] == ["Cover", "Contents", "Notes"]
    assert wb.properties.title.startswith("Data Summary Report")
    cover = {r[0]: r[1] for r in wb["Cover"].iter_rows(min_row=4, values_only=True) if r[0]}
    assert cover["Data as at"] == dt.datetime(2020, 10, 28)
    assert cover["Status"].startswith("DRAFT")


@pytest.mark.parametrize("key", EXCEL)
def test_excel_one_named_table_per_sheet_with_a_title_above(docs, key):
    wb = load_workbook(docs[key])
    names = set()
    for ws in wb.worksheets:
        assert len(ws.tables) == 1, ws.title
        (table,) = ws.tables.values()
        assert not re.fullmatch(r"Table\d+", table.displayName), table.displayName
        names.add(table.displayName)
        top = int(re.match(r"[A-Z]+(\d+)", table.ref).group(1))
        assert top >= 2 and ws["A1"].value and ws["A1"].font.b, ws.title
    assert len(names) == len(wb.worksheets)


@pytest.mark.parametrize("key", EXCEL)
def test_excel_tables_have_descriptive_headers_and_no_blank_rows_or_merges(docs, key):
    from openpyxl.utils import range_boundaries

    wb = load_workbook(docs[key])
    for ws in wb.worksheets:
        assert not ws.merged_cells.ranges, ws.title
        (table,) = ws.tables.values()
        c0, r0, c1, r1 = range_boundaries(table.ref)
        headers = [ws.cell(r0, c).value for c in range(c0, c1 + 1)]
        assert all(isinstance(h, str) and h.strip() for h in headers), (ws.title, headers)
        assert len(set(headers)) == len(headers), ws.title
        assert not any(re.fullmatch(r"Column\d*", h) for h in headers), ws.title
        for r in range(r0 + 1, r1 + 1):
            values = [ws.cell(r, c).value for c in range(c0, c1 + 1)]
            assert any(v not in (None, "") for v in values), f"{ws.title} row {r} is blank"


@pytest.mark.parametrize("key", EXCEL)
def test_excel_charts_have_alt_text(docs, key):
    with zipfile.ZipFile(docs[key]) as z:
        drawings = [n for n in z.namelist() if re.fullmatch(r"xl/drawings/drawing\d+\.xml", n)]
        charts = [n for n in z.namelist() if re.fullmatch(r"xl/charts/chart\d+\.xml", n)]
        assert drawings and len(charts) == 24
        from lxml import etree

        frames = []
        for name in drawings:
            frames += etree.fromstring(z.read(name)).findall(".//xdr:cNvPr", NS)
    assert len(frames) == len(charts)
    for f in frames:
        assert f.get("descr", "").startswith("Line chart of "), f.get("name")
        assert f.get("title")


@pytest.mark.parametrize("key", EXCEL)
def test_excel_wrapped_cells_are_tall_enough_for_their_lines(docs, key):
    """A lower bound independent of the writer's estimate: a line holds at most about
    1.2 characters per unit of column width, and a line needs 12 points."""
    from openpyxl.utils import get_column_letter

    wb = load_workbook(docs[key])
    checked = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.alignment.wrap_text and isinstance(c.value, str):
                    width = ws.column_dimensions[get_column_letter(c.column)].width
                    lines = sum(max(1, -(-len(p) // int(width * 1.2))) for p in c.value.split("\n"))
                    if lines > 1:
                        height = ws.row_dimensions[c.row].height
                        assert height and height >= lines * 12, (ws.title, c.coordinate)
                        checked += 1
    assert checked > 5
