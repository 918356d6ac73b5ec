"""Return templates: one workbook per submitter, built from the specification as data.

Everything (sheets, columns, items, code lists, a lead's actions) comes from `default_spec()`,
so a change to `spec/returns.yaml` or `spec/plan.yaml` changes the templates with no code
change. `transforms.intake.template_filling` fills a template programmatically, which is how
the synthetic sample is written: templates and sample can then never disagree.

Protection has no password: it stops accidental edits to pre-filled cells and sheet names,
not a determined user (Review > Unprotect Sheet / Protect Workbook lifts it).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font, PatternFill, Protection
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.protection import WorkbookProtection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from transforms.progress import Progress, no_progress
from transforms.quarters import due_date, quarter_label, quarter_start
from transforms.spec import Column, Spec, default_spec

RECORD_ROWS = 1000  # rows of a record sheet carrying validation (room for children)
INLINE_LIST_LIMIT = 255  # Excel's limit on an inline list validation formula
LISTS_SHEET = "Lists"
DATE_FORMAT = "dd/mm/yyyy"
QUARTER_DATE_TITLE = "Date outside the quarter"  # marks validations re-set per quarter
EARLIEST_DATE = dt.date(2000, 1, 1)
LATEST_DATE = dt.date(2099, 12, 31)

UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
PREFILLED_FILL = PatternFill("solid", fgColor="F2F2F2")
INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")

COVER_HINTS = {
    "submitter": "Pre-filled: do not change",
    "quarter_end": "Pre-filled: the quarter this return covers",
    "template_version": "Pre-filled: do not change",
    "completed_by": "Your name",
    "email": "Your e-mail address, for feedback on this return",
    "date_completed": "The date you completed the return (dd/mm/yyyy)",
}
COVER_PREFILLED = ("submitter", "quarter_end", "template_version")


def _spec(spec: Spec | None) -> Spec:
    return spec if spec is not None else default_spec()


def template_file_name(submitter_code: str, quarter_end: dt.date) -> str:
    """`CSW_2020-09-30.xlsx`: the name a template (and a sample return) is written under."""
    return f"{submitter_code}_{quarter_end.isoformat()}.xlsx"


def set_text(cell: Cell, value: str | None) -> None:
    """Write text as text: a string starting with `=` would otherwise become a formula."""
    cell.value = value
    if isinstance(value, str) and cell.data_type != "s":
        cell.data_type = "s"


def set_value(cell: Cell, value: Any) -> None:
    """Write a value of any type; strings always as text, dates shown as dates."""
    if isinstance(value, str) or value is None:
        set_text(cell, value)
        return
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    cell.value = value
    if isinstance(value, dt.date):
        cell.number_format = DATE_FORMAT


# ---------------------------------------------------------------- data validation
class _Validations:
    """Builds one DataValidation per rule and sheet, so each file stays small."""

    def __init__(self, wb: Workbook, spec: Spec) -> None:
        self.wb = wb
        self.spec = spec
        self._list_refs: dict[str, str] = {}

    def code_list_formula(self, list_name: str) -> str:
        """An inline list, or a range on the hidden Lists sheet when longer than Excel allows."""
        codes = self.spec.returns.code_values(list_name)
        inline = ",".join(codes)
        if len(inline) + 2 <= INLINE_LIST_LIMIT and not any("," in c for c in codes):
            return f'"{inline}"'
        if list_name not in self._list_refs:
            ws = self._lists_sheet()
            col = ws.max_column + 1 if ws.max_row > 1 or ws["A1"].value else 1
            letter = get_column_letter(col)
            ws.cell(row=1, column=col, value=list_name).font = HEADER_FONT
            for i, code in enumerate(codes, start=2):
                set_text(ws.cell(row=i, column=col), code)
            last = len(codes) + 1
            ref = f"${letter}$2:${letter}${last}"
            self._list_refs[list_name] = f"{quote_sheetname(LISTS_SHEET)}!{ref}"
        return self._list_refs[list_name]

    def _lists_sheet(self) -> Worksheet:
        if LISTS_SHEET not in self.wb.sheetnames:
            ws = self.wb.create_sheet(LISTS_SHEET)
            ws.sheet_state = "hidden"
            ws.protection.sheet = True
        return self.wb[LISTS_SHEET]

    def for_column(
        self, col: Column, quarter_end: dt.date, cover_date: bool = False
    ) -> DataValidation | None:
        """The Excel validation matching a column's type, or None for free text."""
        if col.type == "code" and col.codes:
            dv = DataValidation(
                type="list", formula1=self.code_list_formula(col.codes), allow_blank=True
            )
            dv.error = f"Choose one of the {col.codes.replace('_', ' ')} codes from the list."
            dv.errorTitle = "Unknown code"
        elif col.type in ("count", "int"):
            lo = col.min if col.min is not None else 0
            if col.max is not None:
                dv = DataValidation(
                    type="whole",
                    operator="between",
                    formula1=str(lo),
                    formula2=str(col.max),
                    allow_blank=True,
                )
                dv.error = f"Enter a whole number from {lo} to {col.max}."
            else:
                dv = DataValidation(
                    type="whole", operator="greaterThanOrEqual", formula1=str(lo), allow_blank=True
                )
                dv.error = f"Enter a whole number, {lo} or more (leave blank if not available)."
            dv.errorTitle = "Whole number expected"
        elif col.type == "date" or cover_date:
            dv = _date_validation(quarter_end if col.inside_quarter else None)
        else:
            return None
        dv.showErrorMessage = True
        return dv


def _excel_date(d: dt.date) -> str:
    return f"DATE({d.year},{d.month},{d.day})"


def _date_validation(quarter_end: dt.date | None) -> DataValidation:
    """A date validation; inside the quarter when `quarter_end` is given."""
    lo, hi = (
        (quarter_start(quarter_end), quarter_end) if quarter_end else (EARLIEST_DATE, LATEST_DATE)
    )
    dv = DataValidation(
        type="date",
        operator="between",
        formula1=_excel_date(lo),
        formula2=_excel_date(hi),
        allow_blank=True,
    )
    dv.errorTitle = QUARTER_DATE_TITLE if quarter_end else "Date expected"
    dv.error = (
        f"Enter a date from {lo:%d/%m/%Y} to {hi:%d/%m/%Y} (dd/mm/yyyy)."
        if quarter_end
        else "Enter a date as dd/mm/yyyy."
    )
    dv.showErrorMessage = True
    return dv


def set_quarter(wb: Workbook, quarter_end: dt.date, spec: Spec | None = None) -> None:
    """Point a template at another quarter: the Cover date and inside-quarter validations.

    Lets the sample generator build a template once per submitter and reuse it.
    """
    spec = _spec(spec)
    cover = wb[spec.returns.cover.sheet]
    row = cover_rows(spec)["quarter_end"]
    set_value(cover.cell(row=row, column=2), quarter_end)
    lo, hi = quarter_start(quarter_end), quarter_end
    for ws in wb.worksheets:
        for dv in ws.data_validations.dataValidation:
            if dv.errorTitle == QUARTER_DATE_TITLE:
                dv.formula1, dv.formula2 = _excel_date(lo), _excel_date(hi)
                dv.error = f"Enter a date from {lo:%d/%m/%Y} to {hi:%d/%m/%Y} (dd/mm/yyyy)."
    if "Guidance" in wb.sheetnames:
        _write_guidance(
            wb["Guidance"],
            spec,
            spec.returns.submitter(
                str(cover.cell(row=cover_rows(spec)["submitter"], column=2).value)
            ),
            quarter_end,
        )


# ---------------------------------------------------------------- sheets
def cover_rows(spec: Spec) -> dict[str, int]:
    """Cover field key -> Excel row (labels from row 1 down, in spec order)."""
    return {f.key: i for i, f in enumerate(spec.returns.cover.fields, start=1)}


def _write_cover(ws: Worksheet, spec: Spec, code: str, quarter_end: dt.date) -> None:
    values = {
        "submitter": code,
        "quarter_end": quarter_end,
        "template_version": spec.returns.template_version,
    }
    rows = cover_rows(spec)
    for f in spec.returns.cover.fields:
        r = rows[f.key]
        label = ws.cell(row=r, column=1)
        set_text(label, f.label)
        label.font = HEADER_FONT
        value = ws.cell(row=r, column=2)
        if f.key in COVER_PREFILLED:
            set_value(value, values[f.key])
            value.fill = PREFILLED_FILL
            value.protection = LOCKED
        else:
            value.protection = UNLOCKED
            value.fill = INPUT_FILL
            if f.type == "date_completed":
                value.number_format = DATE_FORMAT
                dv = _date_validation(None)
                ws.add_data_validation(dv)
                dv.add(value.coordinate)
        hint = COVER_HINTS.get(f.key, "")
        if f.key == "submitter":
            hint = f"{hint} ({spec.returns.submitter(code).name})"
        set_text(ws.cell(row=r, column=3), hint)
    ws.column_dimensions["A"].width = 22
    ws.column_dimensions["B"].width = 40
    ws.column_dimensions["C"].width = 50
    ws.protection.sheet = True


def _guidance_lines(spec: Spec, sub_code: str, quarter_end: dt.date) -> list[str]:
    """Plain-words guidance for one submitter and quarter."""
    ret = spec.returns
    sub = ret.submitter(sub_code)
    due = due_date(quarter_end, ret.periods.deadline_days)
    lines = [
        f"Quarterly return: {sub.name} ({sub.code})",
        f"Quarter: {quarter_label(quarter_end)}, ending {quarter_end:%d %B %Y}.",
        f"Please send this workbook by {due:%A %d %B %Y} "
        f"({ret.periods.deadline_days} days after the quarter end).",
        "",
        "How to fill it in",
        "- Cover: fill in Completed by, Email and Date completed. Do not change the pre-filled "
        "submitter code, quarter end date or template version.",
        "- Yellow cells are for you to fill; grey cells are pre-filled and locked.",
        "- Do not rename, delete or reorder sheets or header rows (row 1). You may add a sheet "
        "of your own workings after unprotecting the workbook (no password).",
        "- Counts are whole numbers, 0 or more. Type 0 when there were none.",
        "- A blank value means 'not available': it is never read as zero, so please say why "
        "in the notes column. Do not type NA, n/a, c or <5: leave the cell blank instead.",
        "- Dates: use a date as dd/mm/yyyy (for example 03/04/2021), never a two-digit year.",
        "- Codes: choose from the drop-down list in each code column.",
        "- Save as an Excel workbook (.xlsx), without macros.",
    ]
    for name in sub.sheets:
        sheet = ret.sheets[name]
        lines += ["", f"Sheet {name}: {sheet.title}"]
        if sheet.kind == "items":
            lines.append("- Fill the value for every item (and notes where useful).")
            for item in sheet.items:
                rule = f" (no more than {item.le})" if item.le else ""
                lines.append(f"  {item.item}: {item.description}{rule}")
        elif sheet.kind == "table":
            lines.append(f"- One row per {sheet.key}, already listed: fill every count.")
        elif sheet.kind == "records":
            lines.append(
                "- One row per child, from row 2. child_ref is the social-work "
                "reference (4 to 12 letters or digits), each child once."
            )
            lines.append("- Never include names, addresses, dates of birth or CHI numbers.")
            lines.append(
                "- If there were no children this quarter, leave the sheet empty (a nil return)."
            )
        elif sheet.kind == "progress":
            lines.append(
                "- One row per action you lead, already listed. Choose a status; "
                "write a progress update (optional only if the action was already "
                "Complete last quarter); give the completion date when Complete."
            )
        for col in ret.sheet_columns(name):
            desc = _column_hint(col, spec)
            if desc:
                lines.append(f"  {col.name}: {desc}")
    return lines


def _column_hint(col: Column, spec: Spec) -> str:
    parts = [col.description] if col.description else []
    if col.type == "code" and col.codes:
        parts.append("one of " + ", ".join(spec.returns.code_values(col.codes)))
    if col.type == "int" and col.min is not None and col.max is not None:
        parts.append(f"whole number {col.min} to {col.max}")
    if col.inside_quarter:
        parts.append("a date inside the quarter")
    if col.le:
        parts.append(f"no more than {col.le}")
    if not col.required or not col.required_value:
        parts.append("may be blank")
    return "; ".join(parts)


def _write_guidance(ws: Worksheet, spec: Spec, sub: Any, quarter_end: dt.date) -> None:
    for row in ws.iter_rows():
        for cell in row:
            cell.value = None
    for i, line in enumerate(_guidance_lines(spec, sub.code, quarter_end), start=1):
        cell = ws.cell(row=i, column=1)
        set_text(cell, line)
        if i == 1 or line.startswith(("Sheet ", "How to fill")):
            cell.font = HEADER_FONT
    ws.column_dimensions["A"].width = 110
    ws.protection.sheet = True


def _header(ws: Worksheet, columns: list[Column]) -> None:
    for j, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=j)
        set_text(cell, col.name)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.protection = LOCKED
    ws.freeze_panes = "A2"


def _prefilled_rows(spec: Spec, sheet_name: str, sub_code: str) -> list[dict[str, str]]:
    """The rows a template pre-fills: items, categories or the lead's actions."""
    sheet = spec.returns.sheets[sheet_name]
    if sheet.kind == "items":
        return [{"item": i.item, "description": i.description} for i in sheet.items]
    if sheet.kind == "table" and sheet.key:
        key_col = next(c for c in sheet.columns if c.name == sheet.key)
        return [{sheet.key: code} for code in spec.returns.code_values(key_col.codes or "")]
    if sheet.kind == "progress":
        return [
            {"action_id": a.id, "action": a.driver_short} for a in spec.plan.actions_for(sub_code)
        ]
    return []


def _write_data_sheet(
    ws: Worksheet,
    spec: Spec,
    sheet_name: str,
    sub_code: str,
    quarter_end: dt.date,
    dvs: _Validations,
) -> None:
    columns = spec.returns.sheet_columns(sheet_name)
    _header(ws, columns)
    prefilled = _prefilled_rows(spec, sheet_name, sub_code)
    records = spec.returns.sheets[sheet_name].kind == "records"
    last_row = RECORD_ROWS + 1 if records else max(len(prefilled) + 1, 2)
    fixed = set(prefilled[0]) if prefilled else set()
    widths = [len(c.name) + 2 for c in columns]
    for j, col in enumerate(columns, start=1):
        letter = get_column_letter(j)
        is_input = col.name not in fixed
        if records:
            # whole column unlocked and date-formatted: the rows a lead adds inherit it
            ws.column_dimensions[letter].protection = UNLOCKED
            if col.type == "date":
                ws.column_dimensions[letter].number_format = DATE_FORMAT
        for i, row in enumerate(prefilled, start=2):
            cell = ws.cell(row=i, column=j)
            if is_input:
                cell.protection = UNLOCKED
                cell.fill = INPUT_FILL
                if col.type == "date":
                    cell.number_format = DATE_FORMAT
            else:
                set_text(cell, row.get(col.name))
                cell.protection = LOCKED
                cell.fill = PREFILLED_FILL
                widths[j - 1] = max(widths[j - 1], len(str(row.get(col.name) or "")) + 2)
        if is_input:
            dv = dvs.for_column(col, quarter_end)
            if dv is not None:
                ws.add_data_validation(dv)
                dv.add(f"{letter}2:{letter}{last_row}")
        if col.type == "date":
            widths[j - 1] = max(widths[j - 1], 12)
        if col.type == "text" and is_input:
            widths[j - 1] = max(widths[j - 1], 40)
        ws.column_dimensions[letter].width = min(widths[j - 1], 70)
    ws.protection.sheet = True


def template_workbook(
    submitter_code: str, quarter_end: dt.date, spec: Spec | None = None
) -> Workbook:
    """The return template for one submitter and quarter, ready for a lead to fill."""
    spec = _spec(spec)
    sub = spec.returns.submitter(submitter_code)
    wb = Workbook()
    cover = wb.active
    cover.title = spec.returns.cover.sheet
    _write_cover(cover, spec, sub.code, quarter_end)
    _write_guidance(wb.create_sheet("Guidance"), spec, sub, quarter_end)
    dvs = _Validations(wb, spec)
    for name in sub.sheets:
        _write_data_sheet(wb.create_sheet(name), spec, name, sub.code, quarter_end, dvs)
    if LISTS_SHEET in wb.sheetnames:  # keep the hidden lists last
        wb.move_sheet(LISTS_SHEET, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(LISTS_SHEET))
    wb.active = 0
    wb.security = WorkbookProtection(lockStructure=True)
    props = wb.properties
    props.title = f"Quarterly return {sub.code} {quarter_end.isoformat()}"
    props.creator = "Business Intelligence Unit"
    return wb


def write_templates(
    quarter_end: dt.date,
    out_dir: Path,
    spec: Spec | None = None,
    progress: Progress = no_progress,
) -> list[Path]:
    """Write one template per submitter into `out_dir`; returns the paths written."""
    spec = _spec(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    submitters = spec.returns.submitters
    progress("writing the templates", 0, len(submitters))
    for sub in submitters:
        path = out_dir / template_file_name(sub.code, quarter_end)
        template_workbook(sub.code, quarter_end, spec).save(path)
        paths.append(path)
        progress("writing the templates", len(paths), len(submitters))
    return paths
