"""Word report: template coverage, escaping, alt text, reproducibility, atomic writes, and the
public pack leaking no suppressed figure."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from docx import Document

from tests.report_examples import example_inputs
from transforms.reports import word as docx_report
from transforms.reports.word import TEMPLATE, jinja_env, render_context, write_docx

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# C04 3 of 41 = 7.317%, H01 at home 3 of 7 = 42.857%, H01 away 22 of 33 = 66.667%
SUPPRESSED = re.compile(r"(?<![\d.])(?:7\.3(?:%|\d)|42\.(?:9%|8[56])|66\.(?:7%|66))")


def xml_parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist() if n.endswith((".xml", ".rels"))}


@pytest.fixture(scope="module")
def internal_docx(tmp_path_factory) -> Path:
    return write_docx(example_inputs(), tmp_path_factory.mktemp("d") / "report.docx")


@pytest.fixture(scope="module")
def public_docx(tmp_path_factory) -> Path:
    return write_docx(
        example_inputs(public=True), tmp_path_factory.mktemp("p") / "report_public.docx"
    )


def test_template_variables_are_all_in_the_context():
    from docxtpl import DocxTemplate

    tpl = DocxTemplate(str(TEMPLATE))
    ctx = render_context(example_inputs(), tpl)
    undeclared = tpl.get_undeclared_template_variables(jinja_env=jinja_env())
    assert undeclared, "the template should use context variables"
    assert undeclared <= set(ctx), undeclared - set(ctx)


def test_unknown_tag_fails_instead_of_blank(tmp_path):
    doc = Document()
    doc.add_paragraph().add_run("{{ no_such_value }}")
    bad = tmp_path / "bad.docx"
    doc.save(bad)
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError):
        write_docx(example_inputs(), tmp_path / "out.docx", template=bad)
    assert not (tmp_path / "out.docx").exists()


def test_cover_and_leads_text_intact(internal_docx):
    doc = Document(internal_docx)
    text = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Data Summary Report" in text
    assert "Quarter 2 2020/21 (July to September 2020)" in text
    assert "OFFICIAL-SENSITIVE" in cells
    assert (
        "=Workshop held 28/11/2019 & charter agreed; IHAs within 4 weeks <50% last year, "
        "now > target" in cells
    )
    assert "Child moved area & was assessed in <Highland>" in cells
    assert "#N/A" in cells
    assert "AB12CD34" in cells  # mismatches are listed in the internal pack


def test_headings_use_word_styles(internal_docx):
    doc = Document(internal_docx)
    heads = {
        (p.style.name, p.text)
        for p in doc.paragraphs
        if p.style.name.startswith(("Heading", "Title"))
    }
    assert ("Title", "Data Summary Report") in heads
    for h in (
        "Summary",
        "Action plan",
        "Milestones",
        "Data-quality annex",
        "Definitions",
        "Stretch outcome 3: Wellbeing of looked after children",
    ):
        assert ("Heading 1", h) in heads, h
    assert ("Heading 3", "H01 Initial health assessment within 4 weeks of accommodation") in heads


def test_every_image_has_alt_text(internal_docx):
    doc = xml_parts(internal_docx)["word/document.xml"]
    doc_prs = re.findall(r"<wp:docPr [^>]*>", doc)
    assert len(doc_prs) >= 5
    for el in doc_prs:
        descr = re.search(r'descr="([^"]*)"', el)
        assert descr and len(descr.group(1)) > 20, el
    assert "rose from 30.0% in Q3 2018/19 to 62.5% in Q2 2020/21" in doc


def test_rag_cells_are_shaded_and_in_words(internal_docx):
    doc = Document(internal_docx)
    summary = next(
        t
        for t in doc.tables
        if t.rows[0].cells[0].text == "Measure" and t.rows[0].cells[4].text == "RAG"
    )
    fills = {}
    for row in summary.rows[1:]:
        tc = row.cells[4]._tc
        shd = tc.find(f"{W}tcPr/{W}shd")
        fills[row.cells[4].text] = shd.get(f"{W}fill") if shd is not None else None
    assert fills == {"Green": "C6EFCE", "Red": "FFC7CE", "Amber": "FFEB9C"}


def test_all_parts_of_the_report_are_present(internal_docx):
    doc = Document(internal_docx)
    plan = next(t for t in doc.tables if t.rows[0].cells[0].text == "Stretch Outcome Aim")
    assert [c.text for c in plan.rows[0].cells] == [
        "Stretch Outcome Aim",
        "Key Drivers",
        "Improvement project aim",
        "Key Improvement Measures",
        "Lead Responsibility",
        "Progress update",
    ]
    assert len(plan.rows) == 1 + 13
    assert plan.rows[6].cells[5].text.startswith("Complete: =Workshop held")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "8 of 9 expected returns were received (1 late, 1 rejected)." in text


def test_core_properties_from_inputs(internal_docx):
    props = Document(internal_docx).core_properties
    assert props.created.date().isoformat() == "2020-10-28"
    assert props.modified == props.created
    assert props.title == "Data Summary Report – Q2 2020/21"
    assert props.revision == 1


def test_same_data_same_document(tmp_path, internal_docx):
    again = write_docx(example_inputs(), tmp_path / "again.docx")
    assert xml_parts(again)["word/document.xml"] == xml_parts(internal_docx)["word/document.xml"]
    assert again.read_bytes() == internal_docx.read_bytes()


def test_failed_render_keeps_previous_document(tmp_path, monkeypatch):
    path = write_docx(example_inputs(), tmp_path / "report.docx")
    before = path.read_bytes()

    def boom(*a, **k):
        raise RuntimeError("render failed")

    monkeypatch.setattr(docx_report, "render_context", boom)
    with pytest.raises(RuntimeError):
        write_docx(example_inputs(), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.docx"]


def test_public_pack_leaks_no_suppressed_figure(public_docx, internal_docx):
    internal = "\n".join(xml_parts(internal_docx).values())
    assert SUPPRESSED.search(internal)  # the figures are there to hide
    for name, xml in xml_parts(public_docx).items():
        assert not SUPPRESSED.search(xml), name
        for leak in ("AB12CD34", "Highland", "OFFICIAL-SENSITIVE", "3 of 41"):
            assert leak not in xml, (name, leak)
    doc = Document(public_docx)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "c: figure suppressed to protect confidentiality" in text
    cells = [c.text for t in doc.tables for row in t.rows for c in row.cells]
    assert "c of 41" in cells
    assert "OFFICIAL – public" in cells
