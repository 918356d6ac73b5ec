"""One small function per sheet of the Excel workbook; `transforms.reports.excel.SHEETS`
lists them, in order, as data.

Each function fills its sheet below the title row that `build_workbook` writes;
the rows come from `transforms.reports.context`, so the Word and Excel packs agree.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from transforms.quarters import quarter_short
from transforms.reports.chart_text import alt_text
from transforms.reports.context import (
    TITLE,
    action_rows,
    breakdown_label,
    clean_text,
    definition_rows,
    dq_return_rows,
    headline_series,
    measure_ids,
    milestone_rows,
    mismatch_rows,
    revision_rows,
    rule_texts,
    target_milestone_rows,
    warning_counts,
    warning_rows,
)
from transforms.reports.excel_cells import DATE_FORMAT, SheetWriter, rag_formatting
from transforms.reports.inputs import ReportInputs
from transforms.spec import MeasureDef


@dataclass
class Book:
    """What every sheet function reads: the inputs, their normalised measures, the cover
    facts (`header_context`), the sheets this pack has, and the cell writer."""

    inputs: ReportInputs
    ms: pd.DataFrame
    ctx: dict[str, Any]
    sh: SheetWriter
    #: (name, what it holds) of each sheet this pack has, for the Contents sheet.
    contents: list[tuple[str, str]]

    @property
    def marking(self) -> str:
        return str(self.ctx["marking"])


# ------------------------------------------------------------------ measure tables
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
MEASURE_FORMATS: list[str | None] = [
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


def _mdef(inputs: ReportInputs, mid: str) -> MeasureDef | None:
    try:
        return inputs.spec.measures.measure(mid)
    except KeyError:
        return None


def measure_table_rows(inputs: ReportInputs, ms: pd.DataFrame, mask: Any) -> list[list[Any]]:
    """The measure rows `mask` selects, in `MEASURE_HEADERS` order."""
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


# ------------------------------------------------------------------ one function per sheet
def cover_sheet(b: Book, ws: Any) -> None:
    """Title, quarter, marking, version; the 'data as at' date reads like the text."""
    from openpyxl.styles import Alignment

    ctx = b.ctx
    rows: list[list[Any]] = [
        ["Title", TITLE],
        ["Quarter", ctx["quarter_label"]],
        ["Partnership", ctx["partnership"]],
        ["Protective marking", b.marking],
        ["Pack", ctx["pack"]],
        ["Data as at", b.inputs.generated],
        ["Version", ctx["version"]],
        ["Status", ctx["status"]],
        ["Action plan", ctx["plan_title"]],
    ]
    if b.inputs.public:
        rows.append(["Disclosure control", ctx["footnote"]])
    b.sh.table(ws, "CoverDetails", ["Item", "Detail"], rows, widths={1: 22, 2: 90})
    for i, (item, _) in enumerate(rows, start=4):
        if item == "Data as at":
            ws.cell(row=i, column=2).alignment = Alignment(horizontal="left", vertical="top")


def contents_sheet(b: Book, ws: Any) -> None:
    """Every sheet of this pack with what it holds, each name a link to the sheet."""
    from openpyxl.styles import Font
    from openpyxl.worksheet.hyperlink import Hyperlink

    listed = [[name, holds] for name, holds in b.contents]
    b.sh.table(ws, "ContentsList", ["Sheet", "What it holds"], listed, widths={1: 18, 2: 70})
    for i, (name, _) in enumerate(listed, start=4):
        c = ws.cell(row=i, column=1)
        c.hyperlink = Hyperlink(ref=c.coordinate, location=f"'{name}'!A1", display=name)
        c.font = Font(color="0563C1", underline="single")


def notes_sheet(b: Book, ws: Any) -> None:
    """How to read the figures, the rules' numbers from the spec."""
    rules = rule_texts(b.inputs.spec)
    notes = [
        "Percentages are 100 × numerator / denominator, stored unrounded and shown to one "
        "decimal place.",
        "A blank figure means no data (never zero); the Reason column says why.",
        rules["rag"],
        "Trend compares with the previous quarter and with the same quarter a year earlier: "
        "improving, stable or worsening (context measures: up, stable, down).",
        rules["signal"],
        f"Protective marking: {b.marking}.",
    ]
    if b.inputs.public:
        notes.append(b.ctx["footnote"])
    rows: list[list[Any]] = [[i, t] for i, t in enumerate(notes, start=1)]
    b.sh.table(ws, "NotesList", ["Note", "Text"], rows, widths={1: 8, 2: 110})


def summary_sheet(b: Book, ws: Any) -> None:
    """The quarter's headline figure of every measure, RAG in words and colour."""
    ms = b.ms
    q_mask = (ms["quarter_end"] == b.inputs.quarter_end) & (ms["breakdown"] == "all")
    rows = measure_table_rows(b.inputs, ms, q_mask)
    note = b.ctx["footnote"] or "RAG status of every headline measure for the quarter."
    b.sh.table(ws, "SummaryRAG", MEASURE_HEADERS, rows, MEASURE_FORMATS, note=note)
    rag_formatting(ws, "M", 4, 3 + max(len(rows), 1))


def measures_sheet(b: Book, ws: Any) -> None:
    """Every headline figure for every quarter (tidy)."""
    rows = measure_table_rows(b.inputs, b.ms, b.ms["breakdown"] == "all")
    b.sh.table(ws, "MeasureSeries", MEASURE_HEADERS, rows, MEASURE_FORMATS, note=b.ctx["footnote"])
    rag_formatting(ws, "M", 4, 3 + max(len(rows), 1))


def breakdowns_sheet(b: Book, ws: Any) -> None:
    """Breakdown figures: the first ten measure columns and the reason."""
    rows = [
        r[:10] + [r[18]] for r in measure_table_rows(b.inputs, b.ms, b.ms["breakdown"] != "all")
    ]
    b.sh.table(
        ws,
        "BreakdownSeries",
        MEASURE_HEADERS[:10] + ["Reason"],
        rows,
        MEASURE_FORMATS[:10] + [None],
        note=b.ctx["footnote"],
    )


def charts_sheet(b: Book, ws: Any) -> None:
    """Headline series side by side (suppressed and blank left empty) with line charts."""
    series = list(headline_series(b.inputs, b.ms, measure_ids(b.inputs, b.ms)).values())
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
    b.sh.table(
        ws,
        "HeadlineSeries",
        headers,
        rows,
        [None, DATE_FORMAT] + ["0.0"] * len(cols),
        top=top,
        note="Headline values for the charts; suppressed (c) and missing "
        "values are left blank so that they are not plotted.",
    )
    _line_charts(ws, series, cols, top, top + max(len(rows), 1), len(headers) + 2)


def _line_charts(ws: Any, series: list[Any], cols: list[Any], top: int, last: int, at: int) -> None:
    """One native line chart per series (value, dashed trajectory), stacked right of the
    table from column `at`, each carrying its alt text for `_with_chart_alt_text`."""
    from openpyxl.chart import LineChart, Reference
    from openpyxl.utils import get_column_letter

    cats = Reference(ws, min_col=1, min_row=top + 1, max_row=last)
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
        ws.add_chart(chart, f"{get_column_letter(at)}{top + 15 * k}")


ACTION_HEADERS = [
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
]
ACTION_KEYS = ("id", "outcome", "driver", "aim", "measures_text", "leads", "update_from")


def action_plan_sheet(b: Book, ws: Any) -> None:
    """The action plan with each lead's status and progress update."""
    outcomes = {o.id: o.aim for o in b.inputs.spec.plan.outcomes}
    rows: list[list[Any]] = [
        [outcomes[a[k]] if k == "outcome" else a[k] for k in ACTION_KEYS]
        + [a["status"], a["progress"], a["completed"] or None]
        for a in action_rows(b.inputs)
    ]
    widths = {1: 8, 2: 40, 3: 45, 4: 45, 5: 45, 6: 30, 7: 12, 8: 12, 9: 60, 10: 18}
    b.sh.table(ws, "ActionPlan", ACTION_HEADERS, rows, widths=widths)


def _picked(rows: Sequence[Mapping[str, Any]], keys: tuple[str, ...]) -> list[list[Any]]:
    """Each row's values for `keys`, in that order."""
    return [[r[k] for k in keys] for r in rows]


def milestones_sheet(b: Book, ws: Any) -> None:
    """The action plan's dated milestones and their status."""
    rows = _picked(milestone_rows(b.inputs), ("id", "action", "due", "text", "status", "completed"))
    headers = ["ID", "Action", "Due", "Milestone", "Status", "Completed"]
    b.sh.table(ws, "PlanMilestones", headers, rows, widths={4: 60})


def targets_sheet(b: Book, ws: Any) -> None:
    """Measure target milestones: met, not met, no value, not yet due."""
    rows = _picked(
        target_milestone_rows(b.inputs, b.ms), ("measure", "date", "target", "value", "met")
    )
    headers = ["Measure", "Date", "Target", "Value", "Result"]
    b.sh.table(ws, "TargetMilestones", headers, rows, note=b.ctx["footnote"])


def data_quality_sheet(b: Book, ws: Any) -> None:
    """Each expected return: status and timeliness."""
    rows = _picked(dq_return_rows(b.inputs), ("code", "name", "kind", "status", "late", "received"))
    headers = ["Code", "Submitter", "Kind", "Status", "Timeliness", "Received"]
    b.sh.table(ws, "ReturnStatus", headers, rows, note=b.ctx["returns"]["text"])


WARNING_KEYS = ("submitter", "file", "sheet", "location", "rule", "message", "note")


def warnings_sheet(b: Book, ws: Any) -> None:
    """The internal pack lists each warning with the submitter's note; the public pack
    counts them per submitter."""
    if b.inputs.public:
        counts = [
            [w["submitter"], int(w["count"]), int(w["with_note"])] for w in warning_counts(b.inputs)
        ]
        b.sh.table(
            ws,
            "WarningCounts",
            ["Submitter", "Warnings", "With a note"],
            counts,
            note="Counts only: the details are in the internal pack.",
        )
        return
    headers = ["Submitter", "File", "Sheet", "Location", "Rule", "Warning", "Submitter's note"]
    rows = _picked(warning_rows(b.inputs), WARNING_KEYS)
    b.sh.table(ws, "WarningDetail", headers, rows, widths={6: 50, 7: 50})


def mismatches_sheet(b: Book, ws: Any) -> None:
    """Cross-agency mismatches with child references (internal pack only)."""
    rows = _picked(mismatch_rows(b.inputs), ("quarter", "child_ref", "found_in", "missing_from"))
    headers = ["Quarter", "Child reference", "Found in", "Missing from"]
    b.sh.table(ws, "Mismatches", headers, rows)


FILE_HEADERS = [
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
]


def _int(x: Any) -> int | None:
    try:
        return int(x)
    except (TypeError, ValueError):
        return None


def _file_row(r: Mapping[Any, Any]) -> list[Any]:
    return [
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


def files_sheet(b: Book, ws: Any) -> None:
    """Every workbook received (internal pack only)."""
    rt = b.inputs.returns
    rows = [_file_row(r) for r in (rt.to_dict("records") if len(rt) else [])]
    b.sh.table(ws, "FilesReceived", FILE_HEADERS, rows)


def revisions_sheet(b: Book, ws: Any) -> None:
    """Figures revised since the last report."""
    rows = _picked(
        revision_rows(b.inputs, b.ms), ("measure", "quarter", "breakdown", "old", "new", "version")
    )
    headers = ["Measure", "Quarter", "Breakdown", "Previously", "Now", "Issued in"]
    b.sh.table(ws, "Revisions", headers, rows)


DEFINITION_HEADERS = [
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
]
DEFINITION_KEYS = ("id", "name", "action", "unit", "direction", "target", "definition", "source")


def definitions_sheet(b: Book, ws: Any) -> None:
    """Every measure's definition."""
    rows: list[list[Any]] = [
        [d[k] for k in DEFINITION_KEYS] + [d["bi_note"] or None, d["breakdowns"] or None]
        for d in definition_rows(b.inputs)
    ]
    b.sh.table(ws, "Definitions", DEFINITION_HEADERS, rows, widths={2: 40, 7: 80, 9: 40})
