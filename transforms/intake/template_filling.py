"""Filling a return template programmatically: the Cover by field, data sheets by row.

The synthetic sample is written this way, through the templates themselves, so sample and
templates can never disagree. Values are written as given (a string stays text), which is
also how the sample writes its deliberate faults.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from transforms.intake.templates import cover_rows, set_value
from transforms.spec import Spec, default_spec


def fill_cover(wb: Workbook, values: Mapping[str, Any], spec: Spec | None = None) -> None:
    """Write Cover values by field key (`completed_by`, `email`, `date_completed`, …)."""
    spec = spec if spec is not None else default_spec()
    ws = wb[spec.returns.cover.sheet]
    rows = cover_rows(spec)
    for key, value in values.items():
        set_value(ws.cell(row=rows[key], column=2), value)


def _column_index(ws: Worksheet) -> dict[str, int]:
    return {str(c.value): c.column for c in ws[1] if c.value is not None}


def fill_sheet(
    wb: Workbook, sheet_name: str, rows: Iterable[Mapping[str, Any]], spec: Spec | None = None
) -> None:
    """Fill one data sheet from row dicts keyed by column name.

    Items, table and progress sheets: each row is matched to its pre-filled row by the key
    (`item`, the table's category, `action_id`) and every input cell of that row is
    overwritten (absent keys become blank). Record sheets: rows are written from row 2 and
    any older rows below are cleared, so a template can be refilled for another quarter.
    Values are written as given (a string stays text, even "NA" or "=1"), which is also how
    the sample writes its deliberate faults.
    """
    spec = spec if spec is not None else default_spec()
    ws = wb[sheet_name]
    sheet = spec.returns.sheets[sheet_name]
    cols = _column_index(ws)
    rows = list(rows)
    if sheet.kind == "records":
        old_last = ws.max_row
        for i, row in enumerate(rows, start=2):
            for name, j in cols.items():
                set_value(ws.cell(row=i, column=j), row.get(name))
        for i in range(len(rows) + 2, old_last + 1):
            for j in cols.values():
                ws.cell(row=i, column=j).value = None
        return
    key = {"items": "item", "progress": "action_id"}.get(sheet.kind, sheet.key or "")
    fixed = {key, "description", "action"} if sheet.kind != "table" else {key}
    key_col = cols[key]
    where = {
        str(ws.cell(row=i, column=key_col).value): i
        for i in range(2, ws.max_row + 1)
        if ws.cell(row=i, column=key_col).value is not None
    }
    for row in rows:
        r = where.get(str(row[key]))
        if r is None:  # not pre-filled: append (only faults do this)
            r = ws.max_row + 1
            where[str(row[key])] = r
            set_value(ws.cell(row=r, column=key_col), row[key])
        for name, j in cols.items():
            if name not in fixed:
                set_value(ws.cell(row=r, column=j), row.get(name))
            elif name != key and name in row:
                set_value(ws.cell(row=r, column=j), row[name])


def fill_template(
    wb: Workbook,
    cover: Mapping[str, Any],
    sheets: Mapping[str, Iterable[Mapping[str, Any]]],
    spec: Spec | None = None,
) -> Workbook:
    """Fill a template's Cover and data sheets (see `fill_sheet`); returns the workbook."""
    spec = spec if spec is not None else default_spec()
    fill_cover(wb, cover, spec)
    for name, rows in sheets.items():
        fill_sheet(wb, name, rows, spec)
    return wb
