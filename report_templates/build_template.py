"""Build `report_templates/data_summary.docx`, the editable Word template of the report.

Run `uv run python report_templates/build_template.py` to regenerate it. The result is
committed: a BIU analyst may restyle it in Word (styles Title, Heading 1–3, "DS Table", the
colours, the logo) without touching code, as long as the `{{ … }}` / `{% … %}` tags stay
whole in one run each. Tables repeat rows with `{%tr for %}`; RAG cells are shaded with
`{% cellbg %}`. `tests/test_docx_report.py` checks every tag the template uses is in the
context.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Cm, Pt, RGBColor
from template_parts import COVER_ROWS, FOOTNOTE, PARTS, Item, LoopTable, P

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "data_summary.docx"
NAVY = "1B365D"
TEAL = "00797C"
FONT = "Arial"
LANGUAGE = "en-GB"

TABLE_STYLE_XML = f"""
<w:style {nsdecls("w")} w:type="table" w:customStyle="1" w:styleId="DSTable">
  <w:name w:val="DS Table"/>
  <w:basedOn w:val="TableNormal"/>
  <w:uiPriority w:val="59"/>
  <w:pPr><w:spacing w:before="30" w:after="30" w:line="240" w:lineRule="auto"/></w:pPr>
  <w:rPr><w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/><w:sz w:val="17"/></w:rPr>
  <w:tblPr>
    <w:tblBorders>
      <w:top w:val="single" w:sz="4" w:space="0" w:color="8C9BAA"/>
      <w:left w:val="single" w:sz="4" w:space="0" w:color="8C9BAA"/>
      <w:bottom w:val="single" w:sz="4" w:space="0" w:color="8C9BAA"/>
      <w:right w:val="single" w:sz="4" w:space="0" w:color="8C9BAA"/>
      <w:insideH w:val="single" w:sz="4" w:space="0" w:color="C8D0D8"/>
      <w:insideV w:val="single" w:sz="4" w:space="0" w:color="C8D0D8"/>
    </w:tblBorders>
    <w:tblCellMar>
      <w:top w:w="40" w:type="dxa"/><w:left w:w="80" w:type="dxa"/>
      <w:bottom w:w="40" w:type="dxa"/><w:right w:w="80" w:type="dxa"/>
    </w:tblCellMar>
  </w:tblPr>
  <w:tblStylePr w:type="firstRow">
    <w:rPr><w:b/><w:color w:val="FFFFFF"/></w:rPr>
    <w:tcPr><w:shd w:val="clear" w:color="auto" w:fill="{NAVY}"/></w:tcPr>
  </w:tblStylePr>
</w:style>
"""


#: The placeholder logo's words: (x, y, text, alignment, size, bold).
LOGO_TEXT = (
    (0.14, 0.5, "AC", "center", 13, True),
    (0.27, 0.62, "Aberdeen City", "left", 12, True),
    (0.27, 0.34, "children's services partnership", "left", 8, False),
)


def logo_png() -> bytes:
    """A plain placeholder logo drawn with matplotlib (the analyst swaps in the real one)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

    fig = Figure(figsize=(3.0, 0.9), dpi=150)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.add_patch(
        FancyBboxPatch(
            (0.02, 0.06),
            0.96,
            0.88,
            boxstyle="round,pad=0,rounding_size=0.08",
            facecolor=f"#{NAVY}",
            edgecolor="none",
        )
    )
    ax.add_patch(
        FancyBboxPatch(
            (0.06, 0.2),
            0.16,
            0.6,
            boxstyle="round,pad=0,rounding_size=0.05",
            facecolor=f"#{TEAL}",
            edgecolor="white",
            linewidth=1.5,
        )
    )
    for x, y, text, ha, size, bold in LOGO_TEXT:
        weight = {"fontweight": "bold"} if bold else {}
        ax.text(
            x,
            y,
            text,
            color="white",
            ha=ha,
            va="center",
            fontsize=size,
            **weight,
            family="DejaVu Sans",
        )
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, metadata={"Software": None}, transparent=True)
    return buf.getvalue()


def _styles(doc) -> None:
    st = doc.styles
    normal = st["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.paragraph_format.space_after = Pt(4)
    for name, size, colour in (
        ("Title", 30, NAVY),
        ("Subtitle", 15, TEAL),
        ("Heading 1", 16, NAVY),
        ("Heading 2", 13, TEAL),
        ("Heading 3", 11, NAVY),
    ):
        s = st[name]
        s.font.name = FONT
        s.font.size = Pt(size)
        s.font.color.rgb = RGBColor.from_string(colour)
        s.font.bold = name != "Subtitle"
        s.font.italic = False
        rpr = s.element.get_or_add_rPr()
        fonts = rpr.find(qn("w:rFonts"))
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            if fonts is not None and fonts.get(qn(attr)) is not None:
                del fonts.attrib[qn(attr)]
        if name.startswith("Heading"):
            s.paragraph_format.space_before = Pt(14 if name == "Heading 1" else 10)
            s.paragraph_format.space_after = Pt(4)
            s.paragraph_format.keep_with_next = True
    title = st["Title"].element.get_or_add_pPr()
    for b in title.findall(qn("w:pBdr")):
        title.remove(b)
    small = st.add_style("Table Note", WD_STYLE_TYPE.PARAGRAPH)
    small.base_style = st["Normal"]
    small.font.size = Pt(8)
    small.font.italic = True
    small.font.color.rgb = RGBColor.from_string("3A3A3A")
    cover = st.add_style("Cover Detail", WD_STYLE_TYPE.PARAGRAPH)
    cover.base_style = st["Normal"]
    cover.font.size = Pt(12)
    cover.paragraph_format.space_after = Pt(6)
    draft = st.add_style("Draft Mark", WD_STYLE_TYPE.PARAGRAPH)
    draft.base_style = st["Normal"]
    draft.font.bold = True
    draft.font.size = Pt(28)
    draft.font.color.rgb = RGBColor.from_string("9C0006")
    draft.paragraph_format.space_before = Pt(12)
    marking = st.add_style("Marking", WD_STYLE_TYPE.PARAGRAPH)
    marking.base_style = st["Normal"]
    marking.font.bold = True
    marking.font.size = Pt(9)
    marking.font.color.rgb = RGBColor.from_string("9C0006")
    marking.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    doc.styles.element.append(parse_xml(TABLE_STYLE_XML))
    _language(doc, LANGUAGE)


def _language(doc, tag: str) -> None:
    """The document's language (screen readers pick their voice from it)."""
    rpr = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    for attr in ("w:val", "w:eastAsia", "w:bidi"):
        lang.set(qn(attr), tag)


def par(doc, text: str, style: str | None = None):
    """A paragraph whose text (a tag or words) is one run, so docxtpl sees the tag whole."""
    p = doc.add_paragraph(style=style)
    p.add_run(text)
    return p


def _repeat_header(row) -> None:
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _cant_split(row) -> None:
    """A row is never broken across two pages."""
    trpr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:cantSplit")
    el.set(qn("w:val"), "true")
    trpr.insert(0, el)


def loop_table(doc, headers: list[str], cells: list[str], loop: str, widths: list[float]):
    """Header row, `{%tr for … %}` row, the repeated row, `{%tr endfor %}` row."""
    table = doc.add_table(rows=4, cols=len(headers))
    table.style = doc.styles["DS Table"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, (h, c, w) in enumerate(zip(headers, cells, widths, strict=True)):
        for r in range(4):
            table.cell(r, i).width = Cm(w)
        table.cell(0, i).paragraphs[0].add_run(h)
        table.cell(2, i).paragraphs[0].add_run(c)
    for col, w in zip(table._tbl.tblGrid.gridCol_lst, widths, strict=True):
        col.w = Cm(w)
    table.cell(1, 0).paragraphs[0].add_run(f"{{%tr for {loop} %}}")
    table.cell(3, 0).paragraphs[0].add_run("{%tr endfor %}")
    _repeat_header(table.rows[0])
    for row in table.rows:
        _cant_split(row)
    return table


def _page_number(paragraph) -> None:
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, " PAGE "), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._r.append(el)


def _section_setup(section, landscape: bool = False) -> None:
    w, h = Cm(21.0), Cm(29.7)
    section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = (h, w) if landscape else (w, h)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    section.header_distance = section.footer_distance = Cm(1.0)


def footnote(doc) -> None:
    for p in FOOTNOTE:
        par(doc, p.text, p.style)


def _logo(doc) -> None:
    logo = doc.add_paragraph()
    shape = logo.add_run().add_picture(io.BytesIO(logo_png()), width=Cm(6))
    shape._inline.docPr.set("descr", "Partnership logo (placeholder)")
    for _ in range(3):
        doc.add_paragraph()


def _cover_table(doc) -> None:
    """The document details, two columns, a blank paragraph before it."""
    doc.add_paragraph()
    cover = doc.add_table(rows=len(COVER_ROWS), cols=2)
    cover.style = doc.styles["DS Table"]
    for i, (k, v) in enumerate(COVER_ROWS):
        cover.cell(i, 0).paragraphs[0].add_run(k).bold = True
        cover.cell(i, 1).paragraphs[0].add_run(v)
        cover.cell(i, 0).width, cover.cell(i, 1).width = Cm(5), Cm(10)
        _cant_split(cover.rows[i])
    for col, w in zip(cover._tbl.tblGrid.gridCol_lst, (5, 10), strict=True):
        col.w = Cm(w)
    _repeat_header(cover.rows[0])


def _page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _landscape(doc) -> None:
    _section_setup(doc.add_section(WD_SECTION.NEW_PAGE), landscape=True)


def _portrait(doc) -> None:
    _section_setup(doc.add_section(WD_SECTION.NEW_PAGE))


#: What each `Step` of the parts does to the document.
STEPS: dict[str, Callable[[Any], None]] = {
    "logo": _logo,
    "cover table": _cover_table,
    "page break": _page_break,
    "landscape": _landscape,
    "portrait": _portrait,
}


def place(doc, item: Item) -> None:
    """Add one item of a part to the end of the document."""
    if isinstance(item, P):
        par(doc, item.text, item.style)
    elif isinstance(item, LoopTable):
        loop_table(doc, list(item.headers), list(item.cells), item.loop, list(item.widths))
    else:
        STEPS[item.name](doc)


def new_document():
    """An empty document with the styles, properties, A4 page, marking header and
    numbered footer every part relies on."""
    doc = Document()
    _styles(doc)
    doc.core_properties.title = "Data Summary Report"
    doc.core_properties.author = "Business Intelligence Unit"
    sec = doc.sections[0]
    _section_setup(sec)
    header = sec.header.paragraphs[0]
    header.style = doc.styles["Marking"]
    header.add_run("{{ marking }}{% if draft %} – DRAFT{% endif %}")
    foot = sec.footer.paragraphs[0]
    foot.style = doc.styles["Table Note"]
    foot.add_run("{{ title }} – {{ quarter_short }} – {{ marking }} – page ")
    _page_number(foot)
    return doc


def build(path: Path = TEMPLATE) -> Path:
    """Write the template to `path`: every part's items placed in order, zipped with fixed
    times so that rebuilding an unchanged template gives the same bytes."""
    from transforms.atomic import atomic_write_bytes, reproducible_zip

    doc = new_document()
    for part in PARTS:
        for item in part:
            place(doc, item)
    buf = io.BytesIO()
    doc.save(buf)
    atomic_write_bytes(Path(path), reproducible_zip(buf.getvalue()))
    return path


if __name__ == "__main__":
    print(build())
