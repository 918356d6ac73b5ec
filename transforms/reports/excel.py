"""The Excel workbook of the quarterly pack (openpyxl).

Every table is a real Excel table (header row, frozen panes, no merged cells), figures are
stored as numbers with a display format, RAG is shown in words and by conditional formatting,
and the headline series have native line charts. Text that came from submitters is always
written as a string cell: openpyxl would otherwise store `=…` as a formula and `#N/A` as an
error value, and it cuts cells over 32,767 characters silently (we cut visibly and count).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import textwrap
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transforms.atomic import atomic_write_bytes, reproducible_zip
from transforms.quarters import quarter_short
from transforms.reports.charts import alt_text
from transforms.reports.context import (
    RAG_FILL,
    RAG_FONT,
    TITLE,
    action_rows,
    breakdown_label,
    chart_series,
    clean_text,
    definition_rows,
    dq_return_rows,
    header_context,
    measure_ids,
    milestone_rows,
    mismatch_rows,
    normalised_measures,
    revision_rows,
    rule_texts,
    target_milestone_rows,
    warning_counts,
    warning_rows,
)
from transforms.reports.inputs import ReportInputs
from transforms.safe_text import needs_quote

log = logging.getLogger(__name__)
MAX_CELL = 32_767
TRUNCATED = " […truncated: see the source return]"
NUMBER_FORMAT = {"percent": "0.0", "pp": "0.0", "per_1000": "0.0", "days": "0.0", "count": "#,##0"}
DATE_FORMAT = "dd/mm/yyyy"
NAVY = "1B365D"
#: Characters of body text per unit of column width (a unit is one "0" of the default font;
#: text averages a little narrower, but LibreOffice's metrics differ: keep it conservative).
CHARS_PER_WIDTH = 0.95
LINE_HEIGHT_PT = 15.0


@dataclass
class _Sheets:
    """Writes cells and tables and keeps the counts a run should report."""

    inputs: ReportInputs
    truncated: int = 0
    table_names: set[str] = field(default_factory=set)

    def text(self, ws, row: int, col: int, value: Any):
        """A string cell, never a formula or an error value, cut visibly when too long."""
        s = clean_text(value)
        if len(s) > MAX_CELL:
            s = s[: MAX_CELL - len(TRUNCATED)] + TRUNCATED
            self.truncated += 1
        c = ws.cell(row=row, column=col)
        c.value = s
        c.data_type = "s"
        if needs_quote(s):
            c.quotePrefix = True  # Excel keeps it text even when the cell is edited
        return c

    def put(self, ws, row: int, col: int, value: Any, fmt: str | None = None):
        """A number, date or text cell; None stays blank."""
        if value is None:
            return ws.cell(row=row, column=col)
        if isinstance(value, bool):
            c = ws.cell(row=row, column=col, value=value)
        elif isinstance(value, (int, float)):
            c = ws.cell(
                row=row, column=col, value=float(value) if isinstance(value, float) else value
            )
            if fmt:
                c.number_format = fmt
        elif isinstance(value, dt.date):
            c = ws.cell(row=row, column=col, value=value)
            c.number_format = DATE_FORMAT
        else:
            c = self.text(ws, row, col, value)
            if fmt:
                from openpyxl.styles import Alignment

                c.alignment = Alignment(horizontal="right")
        return c

    def table(
        self,
        ws,
        name: str,
        headers: list[str],
        rows: list[list[Any]],
        formats: list[str | None] | None = None,
        top: int = 3,
        widths: dict[int, float] | None = None,
        note: str = "",
    ):
        """A titled Excel table from row `top`, with frozen header and sensible widths."""
        from openpyxl.styles import Alignment, Font
        from openpyxl.utils import get_column_letter
        from openpyxl.worksheet.table import Table, TableStyleInfo

        assert name not in self.table_names, name
        self.table_names.add(name)
        if note:
            self.text(ws, top - 1, 1, note).font = Font(italic=True, size=9)
        if not rows:
            rows = [["(none)"] + [None] * (len(headers) - 1)]
        for j, h in enumerate(headers, start=1):
            self.text(ws, top, j, h).font = Font(bold=True)
        for i, row in enumerate(rows, start=top + 1):
            for j, v in enumerate(row, start=1):
                fmt = row_fmt[j - 1] if (row_fmt := _row_formats(formats, row)) else None
                c = self.put(ws, i, j, v, fmt)
                # top-aligned, so a row grown for wrapped text still reads across
                c.alignment = Alignment(horizontal=c.alignment.horizontal, vertical="top")
        last = top + len(rows)
        ref = f"A{top}:{get_column_letter(len(headers))}{last}"
        t = Table(displayName=name, ref=ref)
        t.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(t)
        ws.freeze_panes = f"A{top + 1}"
        wrapped: dict[int, float] = {}
        for j, h in enumerate(headers, start=1):
            longest = max([len(h)] + [len(str(r[j - 1])) for r in rows if r[j - 1] is not None])
            width = (widths or {}).get(j, min(max(longest + 2, 9), 60))
            ws.column_dimensions[get_column_letter(j)].width = width
            if width >= 40:
                wrapped[j] = width
                for i in range(top + 1, last + 1):
                    ws.cell(row=i, column=j).alignment = Alignment(wrap_text=True, vertical="top")
        for i in range(top + 1, last + 1):
            lines = max(
                [1]
                + [
                    wrapped_lines(ws.cell(row=i, column=j).value, width)
                    for j, width in wrapped.items()
                ]
            )
            if lines > 1:  # neither Excel nor LibreOffice grows a row for wrapped text itself
                ws.row_dimensions[i].height = lines * LINE_HEIGHT_PT + 3
        return ref


def wrapped_lines(value: Any, width: float) -> int:
    """How many lines a wrapped cell of `width` characters needs for `value` (erring long:
    a row a little too tall reads fine, one too short hides text)."""
    if value is None:
        return 1
    per_line = max(1, int(width * CHARS_PER_WIDTH))
    lines = 0
    for para in str(value).split("\n"):
        lines += max(1, len(textwrap.wrap(para, per_line, break_long_words=True)))
    return lines


def _row_formats(formats: list[str | None] | None, row: list[Any]) -> list[str | None] | None:
    """Column formats, where 'unit:N' means the number format of the unit in column N."""
    if not formats:
        return None
    out = []
    for f in formats:
        if f and f.startswith("unit:"):
            out.append(NUMBER_FORMAT.get(str(row[int(f[5:])]), "0.0"))
        else:
            out.append(f)
    return out


def _title(sh: _Sheets, ws, text: str, marking: str) -> None:
    from openpyxl.styles import Font

    sh.text(ws, 1, 1, text).font = Font(bold=True, size=14, color=NAVY)
    sh.text(ws, 1, 3, marking).font = Font(bold=True, color="9C0006")


def _rag_formatting(ws, ref_col: str, first: int, last: int) -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.styles import Font, PatternFill

    rng = f"{ref_col}{first}:{ref_col}{last}"
    for rag, fill in RAG_FILL.items():
        ws.conditional_formatting.add(
            rng,
            CellIsRule(
                operator="equal",
                formula=[f'"{rag}"'],
                fill=PatternFill(start_color=fill, end_color=fill, fill_type="solid", bgColor=fill),
                font=Font(color=RAG_FONT[rag]),
            ),
        )


def _measure_table_rows(inputs: ReportInputs, ms, mask) -> list[list[Any]]:
    rows = []
    for rec in ms[mask].to_dict("records"):
        m = _mdef(inputs, rec["measure_id"])
        rows.append(
            [
                rec["measure_id"],
                m.name if m else rec["measure_id"],
                rec["quarter_end"],
                quarter_short(rec["quarter_end"]),
                rec["breakdown"],
                breakdown_label(rec["breakdown"], inputs.spec),
                rec["numerator"],
                rec["denominator"],
                rec["value"],
                rec["unit"],
                rec["target"],
                rec["trajectory"],
                rec["rag"] or None,
                rec["trend"] or None,
                rec["trend_year"] or None,
                rec["signal"] or None,
                rec["excluded"],
                rec["pending"],
                rec["reason"] or None,
            ]
        )
    return rows


MEASURE_HEADERS = [
    "Measure ID",
    "Measure",
    "Quarter end",
    "Quarter",
    "Breakdown",
    "Breakdown label",
    "Numerator",
    "Denominator",
    "Value",
    "Unit",
    "Target",
    "Trajectory",
    "RAG",
    "Trend (quarter)",
    "Trend (year)",
    "Signal",
    "Excluded",
    "Pending",
    "Reason",
]
MEASURE_FORMATS = [
    None,
    None,
    DATE_FORMAT,
    None,
    None,
    None,
    "#,##0",
    "#,##0",
    "unit:9",
    None,
    "unit:9",
    "unit:9",
    None,
    None,
    None,
    None,
    "#,##0",
    "#,##0",
    None,
]


def _mdef(inputs: ReportInputs, mid: str):
    try:
        return inputs.spec.measures.measure(mid)
    except KeyError:
        return None


def _charts_sheet(sh: _Sheets, wb, inputs: ReportInputs, ms, marking: str) -> None:
    """Headline series side by side (suppressed and blank left empty) with line charts."""
    from openpyxl.chart import LineChart, Reference

    ws = wb.create_sheet("Charts")
    _title(sh, ws, "Headline measures over time", marking)
    series = [s for mid in measure_ids(inputs, ms) if (s := chart_series(inputs, ms, mid))]
    quarters = sorted({q for s in series for q in s.quarters})
    headers, cols = ["Quarter", "Quarter end"], []
    for s in series:
        headers.append(f"{s.measure_id} value")
        cols.append((s, "value"))
        if s.trajectory:
            headers.append(f"{s.measure_id} trajectory")
            cols.append((s, "trajectory"))
    rows = []
    for q in quarters:
        row: list[Any] = [quarter_short(q), q]
        for s, kind in cols:
            i = s.quarters.index(q) if q in s.quarters else None
            vals = s.values if kind == "value" else s.trajectory
            row.append(None if i is None else vals[i])
        rows.append(row)
    top = 4
    sh.table(
        ws,
        "HeadlineSeries",
        headers,
        rows,
        [None, DATE_FORMAT] + ["0.0"] * len(cols),
        top=top,
        note="Headline values for the charts; suppressed (c) and missing "
        "values are left blank so that they are not plotted.",
    )
    last = top + max(len(rows), 1)
    cats = Reference(ws, min_col=1, min_row=top + 1, max_row=last)
    anchor_col = len(headers) + 2
    from openpyxl.utils import get_column_letter

    for k, s in enumerate(series):
        chart = LineChart()
        chart.title = f"{s.measure_id} {s.name}"[:90]
        chart.y_axis.title = s.unit_label
        chart.height, chart.width = 7.0, 16.0
        chart.display_blanks = "gap"
        chart.x_axis.delete = False
        chart.y_axis.delete = False
        for j, (cs, _kind) in enumerate(cols, start=3):
            if cs is s:
                ref = Reference(ws, min_col=j, min_row=top, max_row=last)
                chart.add_data(ref, titles_from_data=True)
        chart.set_categories(cats)
        if len(chart.series) > 1:
            chart.series[1].graphicalProperties.line.dashStyle = "dash"
        chart.series[0].marker.symbol = "circle"
        # What this chart draws (no milestone stars or standing-target line, unlike the
        # Word chart); written into the drawing by `_with_chart_alt_text`.
        chart.ds_alt = (
            f"{s.measure_id} {s.name}",
            alt_text(dataclasses.replace(s, milestones=[], standing_target=None)),
        )
        ws.add_chart(chart, f"{get_column_letter(anchor_col)}{top + 15 * k}")


def build_workbook(inputs: ReportInputs):
    """The workbook object (not saved); see module docstring for the rules it keeps."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    ctx = header_context(inputs)
    ms = normalised_measures(inputs)
    sh = _Sheets(inputs)
    marking = ctx["marking"]
    wb = Workbook()
    cover = wb.active
    cover.title = "Cover"
    _title(sh, cover, f"{TITLE} – {ctx['quarter_label']}", marking)
    cover_rows = [
        ["Title", TITLE],
        ["Quarter", ctx["quarter_label"]],
        ["Partnership", ctx["partnership"]],
        ["Protective marking", marking],
        ["Pack", ctx["pack"]],
        ["Data as at", inputs.generated],
        ["Version", ctx["version"]],
        ["Status", ctx["status"]],
        ["Action plan", ctx["plan_title"]],
    ]
    if inputs.public:
        cover_rows.append(["Disclosure control", ctx["footnote"]])
    sh.table(cover, "CoverDetails", ["Item", "Detail"], cover_rows, widths={1: 22, 2: 90})
    for i, (item, _) in enumerate(cover_rows, start=4):
        if item == "Data as at":  # a date, read like the text around it
            cover.cell(row=i, column=2).alignment = Alignment(horizontal="left", vertical="top")

    sheets: list[tuple[str, str]] = [
        ("Cover", "Title, quarter, marking, version"),
        ("Contents", "This list"),
        ("Notes", "How to read the figures"),
        ("Summary", "RAG status of every headline measure for the quarter"),
        ("Measures", "Tidy series: every headline figure for every quarter"),
        ("Breakdowns", "Breakdown figures (placement type, pupil group…)"),
        ("Charts", "Headline series and native line charts"),
        ("Action_Plan", "The action plan with each lead's progress update"),
        ("Milestones", "Action plan milestones"),
        ("Targets", "Measure target milestones"),
        ("Data_Quality", "Returns: status and timeliness per submitter"),
        (
            "Warnings",
            "Warnings on the returns" + ("" if inputs.public else " with submitters' notes"),
        ),
    ]
    if not inputs.public:
        sheets += [
            ("Mismatches", "Cross-agency mismatches (internal only)"),
            ("Files", "Every workbook received (internal only)"),
        ]
    sheets += [
        ("Revisions", "Figures revised since the last report"),
        ("Definitions", "Definitions of every measure"),
    ]

    contents = wb.create_sheet("Contents")
    _title(sh, contents, "Contents", marking)
    sh.table(
        contents,
        "ContentsList",
        ["Sheet", "What it holds"],
        [[n, d] for n, d in sheets],
        widths={1: 18, 2: 70},
    )
    for i, (name, _) in enumerate(sheets, start=4):
        c = contents.cell(row=i, column=1)
        c.hyperlink = Hyperlink(ref=c.coordinate, location=f"'{name}'!A1", display=name)
        c.font = Font(color="0563C1", underline="single")

    notes = wb.create_sheet("Notes")
    _title(sh, notes, "Notes", marking)
    rules = rule_texts(inputs.spec)
    note_rows = [
        "Percentages are 100 × numerator / denominator, stored unrounded and shown to one "
        "decimal place.",
        "A blank figure means no data (never zero); the Reason column says why.",
        rules["rag"],
        "Trend compares with the previous quarter and with the same quarter a year earlier: "
        "improving, stable or worsening (context measures: up, stable, down).",
        rules["signal"],
        f"Protective marking: {marking}.",
    ]
    if inputs.public:
        note_rows.append(ctx["footnote"])
    sh.table(
        notes,
        "NotesList",
        ["Note", "Text"],
        [[i, t] for i, t in enumerate(note_rows, start=1)],
        widths={1: 8, 2: 110},
    )

    summary = wb.create_sheet("Summary")
    _title(sh, summary, f"Summary – {ctx['quarter_label']}", marking)
    q_mask = (ms["quarter_end"] == inputs.quarter_end) & (ms["breakdown"] == "all")
    rows = _measure_table_rows(inputs, ms, q_mask)
    sh.table(
        summary,
        "SummaryRAG",
        MEASURE_HEADERS,
        rows,
        MEASURE_FORMATS,
        note=ctx["footnote"] or "RAG status of every headline measure for the quarter.",
    )
    _rag_formatting(summary, "M", 4, 3 + max(len(rows), 1))

    measures = wb.create_sheet("Measures")
    _title(sh, measures, "Measures – headline series", marking)
    rows = _measure_table_rows(inputs, ms, ms["breakdown"] == "all")
    sh.table(
        measures, "MeasureSeries", MEASURE_HEADERS, rows, MEASURE_FORMATS, note=ctx["footnote"]
    )
    _rag_formatting(measures, "M", 4, 3 + max(len(rows), 1))

    breakdowns = wb.create_sheet("Breakdowns")
    _title(sh, breakdowns, "Breakdowns", marking)
    rows = [r[:10] + [r[18]] for r in _measure_table_rows(inputs, ms, ms["breakdown"] != "all")]
    sh.table(
        breakdowns,
        "BreakdownSeries",
        MEASURE_HEADERS[:10] + ["Reason"],
        rows,
        MEASURE_FORMATS[:10] + [None],
        note=ctx["footnote"],
    )

    _charts_sheet(sh, wb, inputs, ms, marking)

    plan = wb.create_sheet("Action_Plan")
    _title(sh, plan, "Action plan with progress", marking)
    outcomes = {o.id: o.aim for o in inputs.spec.plan.outcomes}
    sh.table(
        plan,
        "ActionPlan",
        [
            "Action",
            "Stretch Outcome Aim",
            "Key Drivers",
            "Improvement project aim",
            "Key Improvement Measures",
            "Lead Responsibility",
            "Update from",
            "Status",
            "Progress update",
            "Completed",
        ],
        [
            [
                a["id"],
                outcomes[a["outcome"]],
                a["driver"],
                a["aim"],
                a["measures_text"],
                a["leads"],
                a["update_from"],
                a["status"],
                a["progress"],
                a["completed"] or None,
            ]
            for a in action_rows(inputs)
        ],
        widths={1: 8, 2: 40, 3: 45, 4: 45, 5: 45, 6: 30, 7: 12, 8: 12, 9: 60, 10: 18},
    )

    mil = wb.create_sheet("Milestones")
    _title(sh, mil, "Milestones", marking)
    sh.table(
        mil,
        "PlanMilestones",
        ["ID", "Action", "Due", "Milestone", "Status", "Completed"],
        [
            [m["id"], m["action"], m["due"], m["text"], m["status"], m["completed"]]
            for m in milestone_rows(inputs)
        ],
        widths={4: 60},
    )
    tgt = wb.create_sheet("Targets")
    _title(sh, tgt, "Measure target milestones", marking)
    sh.table(
        tgt,
        "TargetMilestones",
        ["Measure", "Date", "Target", "Value", "Result"],
        [
            [t["measure"], t["date"], t["target"], t["value"], t["met"]]
            for t in target_milestone_rows(inputs, ms)
        ],
        note=ctx["footnote"],
    )

    dq = wb.create_sheet("Data_Quality")
    _title(sh, dq, "Data quality: returns", marking)
    sh.table(
        dq,
        "ReturnStatus",
        ["Code", "Submitter", "Kind", "Status", "Timeliness", "Received"],
        [
            [d["code"], d["name"], d["kind"], d["status"], d["late"], d["received"]]
            for d in dq_return_rows(inputs)
        ],
        note=ctx["returns"]["text"],
    )

    warn = wb.create_sheet("Warnings")
    _title(sh, warn, "Warnings", marking)
    if inputs.public:
        sh.table(
            warn,
            "WarningCounts",
            ["Submitter", "Warnings", "With a note"],
            [
                [w["submitter"], int(w["count"]), int(w["with_note"])]
                for w in warning_counts(inputs)
            ],
            note="Counts only: the details are in the internal pack.",
        )
    else:
        sh.table(
            warn,
            "WarningDetail",
            ["Submitter", "File", "Sheet", "Location", "Rule", "Warning", "Submitter's note"],
            [
                [
                    w["submitter"],
                    w["file"],
                    w["sheet"],
                    w["location"],
                    w["rule"],
                    w["message"],
                    w["note"],
                ]
                for w in warning_rows(inputs)
            ],
            widths={6: 50, 7: 50},
        )
        mm = wb.create_sheet("Mismatches")
        _title(sh, mm, "Cross-agency mismatches", marking)
        sh.table(
            mm,
            "Mismatches",
            ["Quarter", "Child reference", "Found in", "Missing from"],
            [
                [x["quarter"], x["child_ref"], x["found_in"], x["missing_from"]]
                for x in mismatch_rows(inputs)
            ],
        )
        files = wb.create_sheet("Files")
        _title(sh, files, "Workbooks received", marking)
        rt = inputs.returns
        sh.table(
            files,
            "FilesReceived",
            [
                "File",
                "SHA-256",
                "Submitter",
                "Quarter end",
                "Status",
                "Errors",
                "Warnings",
                "Late",
                "Revision",
                "Received",
            ],
            [
                [
                    clean_text(r.get("file")),
                    clean_text(r.get("sha256")),
                    clean_text(r.get("submitter")),
                    clean_text(r.get("quarter_end"))[:10],
                    clean_text(r.get("status")),
                    _int(r.get("errors")),
                    _int(r.get("warnings")),
                    clean_text(r.get("late")),
                    clean_text(r.get("revision")),
                    clean_text(r.get("received_at")),
                ]
                for r in (rt.to_dict("records") if len(rt) else [])
            ],
        )

    rev = wb.create_sheet("Revisions")
    _title(sh, rev, "Revisions since the last report", marking)
    sh.table(
        rev,
        "Revisions",
        ["Measure", "Quarter", "Breakdown", "Previously", "Now", "Issued in"],
        [
            [v["measure"], v["quarter"], v["breakdown"], v["old"], v["new"], v["version"]]
            for v in revision_rows(inputs, ms)
        ],
    )

    defs = wb.create_sheet("Definitions")
    _title(sh, defs, "Definitions", marking)
    sh.table(
        defs,
        "Definitions",
        [
            "ID",
            "Measure",
            "Action",
            "Unit",
            "Direction",
            "Target",
            "Definition",
            "Source",
            "BIU note",
            "Breakdowns",
        ],
        [
            [
                d["id"],
                d["name"],
                d["action"],
                d["unit"],
                d["direction"],
                d["target"],
                d["definition"],
                d["source"],
                d["bi_note"] or None,
                d["breakdowns"] or None,
            ]
            for d in definition_rows(inputs)
        ],
        widths={2: 40, 7: 80, 9: 40},
    )

    for ws in wb.worksheets:  # print (and preview) one page wide, landscape
        ws.page_setup.orientation = "landscape"
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.oddHeader.center.text = marking
    _set_properties(wb, inputs, ctx)
    if sh.truncated:
        log.warning(
            "%d cell(s) over %d characters were truncated with a marker", sh.truncated, MAX_CELL
        )
    wb._ds_truncated = sh.truncated  # for tests and run summaries
    return wb


def _int(x: Any) -> int | None:
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def _set_properties(wb, inputs: ReportInputs, ctx: dict[str, Any]) -> None:
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


def _with_chart_alt_text(data: bytes, wb) -> bytes:
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
