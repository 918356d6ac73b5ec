"""The Excel workbook of the quarterly pack (openpyxl).

Every table is a real Excel table (header row, frozen panes, no merged cells), figures are
stored as numbers with a display format, RAG is shown in words and by conditional formatting,
and the headline series have native line charts. The sheets are data
(`SHEETS`, one small function each in `transforms.reports.excel_sheets`); the cell rules
(text never a formula, long text cut visibly) are in `transforms.reports.excel_cells`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from transforms.atomic import atomic_write_bytes, reproducible_zip
from transforms.reports.context import TITLE, header_context, normalised_measures
from transforms.reports.excel_cells import MAX_CELL, TRUNCATED, SheetWriter, title_row
from transforms.reports.excel_sheets import (
    Book,
    action_plan_sheet,
    breakdowns_sheet,
    charts_sheet,
    contents_sheet,
    cover_sheet,
    data_quality_sheet,
    definitions_sheet,
    files_sheet,
    measures_sheet,
    milestones_sheet,
    mismatches_sheet,
    notes_sheet,
    revisions_sheet,
    summary_sheet,
    targets_sheet,
    warnings_sheet,
)
from transforms.reports.inputs import ReportInputs

__all__ = ["MAX_CELL", "TRUNCATED", "build_workbook", "render_xlsx_bytes", "write_xlsx"]
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SheetSpec:
    """One sheet: its name, what the Contents sheet says it holds, its title row, the
    function that writes its table, and whether only the internal pack has it."""

    name: str
    holds: str
    title: str
    write: Callable[[Book, Any], None]
    internal_only: bool = False
    #: Added to `holds` in the internal pack (what the public pack leaves out).
    internal_holds: str = ""

    def describe(self, public: bool) -> str:
        return self.holds + ("" if public else self.internal_holds)

    def title_text(self, ctx: dict[str, Any]) -> str:
        return self.title.format(title=TITLE, quarter_label=ctx["quarter_label"])


#: The workbook, sheet by sheet, in order; `{title}` and `{quarter_label}` are filled in.
SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        "Cover", "Title, quarter, marking, version", "{title} – {quarter_label}", cover_sheet
    ),
    SheetSpec("Contents", "This list", "Contents", contents_sheet),
    SheetSpec("Notes", "How to read the figures", "Notes", notes_sheet),
    SheetSpec(
        "Summary",
        "RAG status of every headline measure for the quarter",
        "Summary – {quarter_label}",
        summary_sheet,
    ),
    SheetSpec(
        "Measures",
        "Tidy series: every headline figure for every quarter",
        "Measures – headline series",
        measures_sheet,
    ),
    SheetSpec(
        "Breakdowns",
        "Breakdown figures (placement type, pupil group…)",
        "Breakdowns",
        breakdowns_sheet,
    ),
    SheetSpec(
        "Charts",
        "Headline series and native line charts",
        "Headline measures over time",
        charts_sheet,
    ),
    SheetSpec(
        "Action_Plan",
        "The action plan with each lead's progress update",
        "Action plan with progress",
        action_plan_sheet,
    ),
    SheetSpec("Milestones", "Action plan milestones", "Milestones", milestones_sheet),
    SheetSpec("Targets", "Measure target milestones", "Measure target milestones", targets_sheet),
    SheetSpec(
        "Data_Quality",
        "Returns: status and timeliness per submitter",
        "Data quality: returns",
        data_quality_sheet,
    ),
    SheetSpec(
        "Warnings",
        "Warnings on the returns",
        "Warnings",
        warnings_sheet,
        internal_holds=" with submitters' notes",
    ),
    SheetSpec(
        "Mismatches",
        "Cross-agency mismatches (internal only)",
        "Cross-agency mismatches",
        mismatches_sheet,
        internal_only=True,
    ),
    SheetSpec(
        "Files",
        "Every workbook received (internal only)",
        "Workbooks received",
        files_sheet,
        internal_only=True,
    ),
    SheetSpec(
        "Revisions",
        "Figures revised since the last report",
        "Revisions since the last report",
        revisions_sheet,
    ),
    SheetSpec("Definitions", "Definitions of every measure", "Definitions", definitions_sheet),
)


def sheets_for(public: bool) -> list[SheetSpec]:
    """The sheets a pack has: the public pack leaves out the internal-only ones."""
    return [s for s in SHEETS if not (public and s.internal_only)]


def build_workbook(inputs: ReportInputs) -> Any:
    """The workbook object (not saved): each sheet of the pack titled and written in turn;
    see the module docstring for the rules it keeps."""
    from openpyxl import Workbook

    ctx = header_context(inputs)
    sheets = sheets_for(inputs.public)
    contents = [(s.name, s.describe(inputs.public)) for s in sheets]
    book = Book(inputs, normalised_measures(inputs), ctx, SheetWriter(inputs), contents)
    wb = Workbook()
    for k, spec in enumerate(sheets):
        ws = wb.active if k == 0 else wb.create_sheet(spec.name)
        ws.title = spec.name
        title_row(book.sh, ws, spec.title_text(ctx), book.marking)
        spec.write(book, ws)
    for ws in wb.worksheets:
        _print_setup(ws, book.marking)
    _set_properties(wb, inputs, ctx)
    if book.sh.truncated:
        log.warning(
            "%d cell(s) over %d characters were truncated with a marker (%s Excel workbook)",
            book.sh.truncated,
            MAX_CELL,
            "public" if inputs.public else "internal",
        )
    wb._ds_truncated = book.sh.truncated  # for tests and run summaries
    return wb


def _print_setup(ws: Any, marking: str) -> None:
    """Print (and preview) one page wide, landscape, the marking in the header."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = marking


def _set_properties(wb: Any, inputs: ReportInputs, ctx: dict[str, Any]) -> None:
    stamp = dt.datetime.combine(inputs.generated, dt.time(0, 0))
    p = wb.properties
    p.creator = p.lastModifiedBy = "Business Intelligence Unit"
    p.title = f"{TITLE} – {ctx['quarter_short']}"
    p.subject = ctx["quarter_label"]
    p.keywords = ctx["marking"]
    p.category = ctx["pack"]
    p.identifier = ctx["version"]
    p.created = p.modified = stamp


def render_xlsx_bytes(inputs: ReportInputs) -> bytes:
    """The workbook as bytes; core properties and zip times come from the data only."""
    from openpyxl.writer.excel import ExcelWriter

    wb = build_workbook(inputs)
    buf = io.BytesIO()
    archive = zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()  # unlike save_workbook, keeps `modified` as set
    return reproducible_zip(_with_chart_alt_text(buf.getvalue(), wb))


def _with_chart_alt_text(data: bytes, wb: Any) -> bytes:
    """The workbook with each chart's alt text in its drawing's `cNvPr` (descr and title),
    which openpyxl cannot set: screen readers read it, Excel shows it under Alt Text."""
    from xml.sax.saxutils import quoteattr

    drawn = [ws for ws in wb.worksheets if ws._charts or ws._images]
    alts = {
        f"xl/drawings/drawing{k}.xml": [getattr(c, "ds_alt", None) for c in ws._charts]
        for k, ws in enumerate(drawn, start=1)
    }
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            for i, described in enumerate(alts.get(info.filename, []), start=1):
                if not described:
                    continue
                title, alt = described
                old = f'<cNvPr id="{i}" name="Chart {i}"/>'.encode()
                new = (
                    f'<cNvPr id="{i}" name="Chart {i}" descr={quoteattr(alt)} '
                    f"title={quoteattr(title)}/>"
                ).encode()
                assert body.count(old) == 1, (info.filename, i)
                body = body.replace(old, new)
            dst.writestr(info, body)
    return out.getvalue()


def write_xlsx(inputs: ReportInputs, path: Path) -> Path:
    """Write the Excel workbook to `path` atomically; return `path`."""
    atomic_write_bytes(Path(path), render_xlsx_bytes(inputs))
    log.info(
        "wrote Excel workbook %s (%s pack)",
        Path(path).name,
        "public" if inputs.public else "internal",
    )
    return Path(path)
