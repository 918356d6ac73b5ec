"""Findings about a cell that holds no value a reader can give: shared by Cover and sheets.

A formula whose result was never saved, or an Excel error such as `#REF!`, is not a value
the specification can check; both are named by cell rather than read as a blank.
"""

from __future__ import annotations

from typing import Any

from transforms.catalogue import make_finding
from transforms.findings import Finding
from transforms.intake.sheet_readers import NO_CACHED_VALUE, ExcelError, NoCachedValue


def cell_problem(value: Any, sheet: str, cell: str, row: int, column: str | None) -> Finding | None:
    """A finding for a formula with no saved result or an Excel error cell (else None)."""
    if value is NO_CACHED_VALUE or isinstance(value, NoCachedValue):
        return make_finding(
            "V-FORMULA-NO-VALUE",
            sheet=sheet,
            cell=cell,
            row=row,
            column=column,
            value="(formula with no saved result)",
            expected="a value (a formula is fine when its result is saved)",
        )
    if isinstance(value, ExcelError):
        return make_finding(
            "V-EXCEL-ERROR",
            sheet=sheet,
            cell=cell,
            row=row,
            column=column,
            value=value.code,
            expected="a value, not an Excel error",
        )
    return None
