"""Build return workbooks in code, from the specification, for the intake tests.

`valid_sheets()` gives every sheet of one submitter's valid return as lists of rows (row 1 the
header); tests mutate a cell or row and write it with `write_workbook()`. Nothing here uses
the code under test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from transforms.spec import Spec, default_spec

QE = dt.date(2020, 9, 30)
TODAY = dt.date(2020, 10, 15)

Sheets = dict[str, list[list[Any]]]


def cover_rows(submitter: str, qe: dt.date = QE) -> list[list[Any]]:
    """A valid Cover: a title row, then the six labels in column A and values in column B."""
    return [
        ["Quarterly return", None],
        ["Submitter code", submitter],
        ["Quarter end date", dt.datetime(qe.year, qe.month, qe.day)],
        ["Template version", 1],
        ["Completed by", "A. Analyst"],
        ["Email", "a.analyst@example.org"],
        ["Date completed", dt.datetime(2020, 10, 12)],
    ]


def _sheet_rows(name: str, submitter: str, qe: dt.date, spec: Spec) -> list[list[Any]]:
    sheet = spec.returns.sheets[name]
    if sheet.kind == "items":
        rows: list[list[Any]] = [["item", "description", "value", "notes"]]
        rows += [[i.item, i.description, 10, None] for i in sheet.items]
        return rows
    header = [c.name for c in sheet.columns]
    start = dt.datetime(qe.year, qe.month - 2, 3)
    if name == "LAC_Census":
        return [header] + [[c.code, 5, 1, None] for c in spec.returns.codes["placement_type"]]
    if name == "School_Outcomes":
        return [header] + [[c.code, 100, 6000, 5400, 3] for c in spec.returns.codes["pupil_group"]]
    if name == "LAC_Starts":
        return [header] + [
            [
                f"CS{n:04d}",
                start + dt.timedelta(days=n),
                3 + n,
                "F",
                "FOSTER_LA",
                start + dt.timedelta(days=n + 2),
            ]
            for n in range(3)
        ]
    if name == "Health_Assessments":
        return [header] + [
            [
                f"CS{n:04d}",
                start + dt.timedelta(days=n),
                start + dt.timedelta(days=n + 1),
                start + dt.timedelta(days=n + 20),
                None,
                "KINSHIP",
            ]
            for n in range(3)
        ]
    if name == "Progress":
        return [header] + [
            [a.id, a.driver_short, "On track", "Work continues.", None]
            for a in spec.plan.actions_for(submitter)
        ]
    raise KeyError(name)


def valid_sheets(submitter: str, qe: dt.date = QE, spec: Spec | None = None) -> Sheets:
    """Cover, a Guidance sheet and every sheet the submitter sends, all valid."""
    spec = spec or default_spec()
    sheets: Sheets = {
        "Cover": cover_rows(submitter, qe),
        "Guidance": [["Fill in the yellow cells."]],
    }
    for name in spec.returns.submitter(submitter).sheets:
        sheets[name] = _sheet_rows(name, submitter, qe, spec)
    return sheets


def write_workbook(
    sheets: Sheets,
    path: Path,
    *,
    hidden_sheets: tuple[str, ...] = (),
    hidden_rows: dict[str, list[int]] | None = None,
) -> Path:
    """Write the sheets (dates shown as dates) to `path` with openpyxl."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.datetime):
                    cell.number_format = "dd/mm/yyyy"
        if title in hidden_sheets:
            ws.sheet_state = "hidden"
        for r in (hidden_rows or {}).get(title, []):
            ws.row_dimensions[r].hidden = True
    wb.save(path)
    return path
