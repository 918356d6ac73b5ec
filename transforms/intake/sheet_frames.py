"""Reading a data sheet into a typed frame: headers in row 1, one converted value per cell.

Values are converted by `transforms.intake.cells`, never by pandas, and anything that does not
convert becomes a finding naming its cell — the frame gets NA there, so frames are only
trustworthy when the workbook is not rejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from transforms.catalogue import make_finding
from transforms.findings import Finding
from transforms.intake import cells
from transforms.intake.cell_findings import cell_problem
from transforms.intake.sheet_readers import ExcelError, NoCachedValue, RawSheet
from transforms.spec import Column, Spec


@dataclass(frozen=True)
class SheetLayout:
    """Where a specification sheet sits in the workbook: its title and column positions."""

    name: str  # specification name, e.g. LAC_Starts
    title: str  # the title as found in the workbook
    columns: dict[str, int]  # specification column -> 1-based column index
    missing: frozenset[str] = frozenset()  # required columns not found

    def cell(self, column: str | None, row: int | None) -> str | None:
        """'C7' for a specification column and row, None when the column is absent."""
        if column is None or row is None or column not in self.columns:
            return None
        return f"{get_column_letter(self.columns[column])}{row}"


RawValues = dict[tuple[int, str], Any]  # (Excel row, specification column) -> the cell as read


def parse_sheet(
    raw: RawSheet, name: str, spec: Spec, findings: list[Finding]
) -> tuple[pd.DataFrame, SheetLayout, RawValues]:
    """A typed frame (`excel_row` + the specification's columns) for one sheet."""
    sheet_spec = spec.returns.sheets[name]
    columns = spec.returns.sheet_columns(name)
    is_records = sheet_spec.kind == "records"
    words = spec.returns.records.identifier_header_words
    positions, missing = _header_positions(raw, columns, is_records, words, findings)
    layout = SheetLayout(name=name, title=raw.title, columns=positions, missing=missing)
    spec_cols = set(positions.values())
    data_rows = sorted({r for r, c in raw.cells if r >= 2 and c in spec_cols})
    if is_records:
        findings.extend(_chi_findings(raw, spec.returns.records.chi_pattern))
    items = [i.item for i in sheet_spec.items]
    data: dict[str, list[Any]] = {"excel_row": list(data_rows)}
    raw_values: RawValues = {}
    for column in columns:
        convert = _converter(column, spec, items)
        at = positions.get(column.name)
        data[column.name] = _column_values(
            raw, column, at, data_rows, convert, raw_values, findings
        )
    return typed_frame(data, columns), layout, raw_values


_CONVERT_CODES = {"count": "V-COUNT", "int": "V-INT", "date": "V-DATE"}


def _column_values(
    raw: RawSheet,
    column: Column,
    col_idx: int | None,
    data_rows: list[int],
    convert: Callable[[Any], Any],
    raw_values: RawValues,
    findings: list[Finding],
) -> list[Any]:
    """One column's converted values by data row (None where blank or unreadable)."""
    out: list[Any] = [None] * len(data_rows)
    if not col_idx:
        return out
    letter = get_column_letter(col_idx)
    for i, row in enumerate(data_rows):
        value = raw.cells.get((row, col_idx))
        if value is None:
            continue
        raw_values[(row, column.name)] = value
        if isinstance(value, (NoCachedValue, ExcelError)):  # checked here: this loop is hot
            problem = cell_problem(value, raw.title, f"{letter}{row}", row, column.name)
            findings.extend([problem] if problem else [])
            continue
        try:
            out[i] = convert(value)
        except cells.CellError as err:
            findings.append(
                make_finding(
                    _CONVERT_CODES.get(column.type, "V-COUNT"),
                    sheet=raw.title,
                    cell=f"{letter}{row}",
                    row=row,
                    column=column.name,
                    value=cells.display(value),
                    expected=err.expected,
                )
            )
    return out


def _header_positions(
    raw: RawSheet,
    columns: list[Column],
    is_records: bool,
    identifier_words: list[str],
    findings: list[Finding],
) -> tuple[dict[str, int], frozenset[str]]:
    """Specification column -> index from row 1, and the required columns missing."""
    found = _header_columns(raw, columns, is_records, identifier_words, findings)
    result: dict[str, int] = {}
    for col_name, at in found.items():
        result[col_name] = at[0]
        for dup in at[1:]:
            findings.append(
                make_finding(
                    "S-HEADER-DUPLICATE",
                    sheet=raw.title,
                    cell=f"{get_column_letter(dup)}1",
                    row=1,
                    column=col_name,
                    value=col_name,
                    expected="each header once",
                )
            )
    missing = []
    for c in columns:
        if c.name not in result and c.required:
            missing.append(c.name)
            findings.append(
                make_finding(
                    "S-HEADER-MISSING",
                    sheet=raw.title,
                    column=c.name,
                    expected=f"a column headed {c.name} in row 1",
                )
            )
    return result, frozenset(missing)


def _header_columns(
    raw: RawSheet,
    columns: list[Column],
    is_records: bool,
    identifier_words: list[str],
    findings: list[Finding],
) -> dict[str, list[int]]:
    """Specification column -> every column of row 1 headed with it; findings for the rest."""
    by_key = {cells.header_key(c.name): c.name for c in columns}
    positions: dict[str, list[int]] = {}
    words = [w.replace(" ", "") for w in identifier_words]
    header = sorted((col, value) for (row, col), value in raw.cells.items() if row == 1)
    for col, value in header:
        if isinstance(value, (ExcelError, NoCachedValue)):
            continue
        key = cells.header_key(value)
        if key in by_key:
            positions.setdefault(by_key[key], []).append(col)
            continue
        cell = f"{get_column_letter(col)}1"
        if is_records and any(w in key.replace(" ", "") for w in words):
            findings.append(
                make_finding(
                    "S-IDENTIFIER-HEADER",
                    sheet=raw.title,
                    cell=cell,
                    row=1,
                    column=str(value),
                    value=cells.display(value),
                    expected="no names, addresses or dates of birth",
                )
            )
        else:
            findings.append(
                make_finding(
                    "S-HEADER-EXTRA",
                    sheet=raw.title,
                    cell=cell,
                    row=1,
                    column=cells.clean_text(str(value)),
                    value=cells.display(value),
                    expected="only the template's columns",
                )
            )
    return positions


def _converter(column: Column, spec: Spec, sheet_items: list[str]) -> Callable[[Any], Any]:
    """The function that reads one cell of this column, raising CellError when it cannot."""
    if column.type == "count":
        return cells.to_count
    if column.type == "int":
        return cells.to_int
    if column.type == "date":
        return cells.to_date
    if column.type == "code":
        codes = cells.code_lookup(spec.returns.code_values(column.codes or ""))
        return lambda v: cells.to_code(v, codes)
    if column.type == "item":
        items = cells.code_lookup(sheet_items)
        return lambda v: cells.to_code(v, items)
    if column.type == "action_id":
        actions = cells.code_lookup([a.id for a in spec.plan.actions])
        return lambda v: cells.to_code(v, actions)
    return cells.to_text


def typed_frame(data: dict[str, list[Any]], columns: list[Column]) -> pd.DataFrame:
    """The architecture's typing: counts/ints Int64, dates datetime64[ns], the rest str.

    Built from numpy arrays rather than per-value Series inference: this runs for every
    sheet of every return, and inference was most of a return's parsing time.
    """
    n = len(data["excel_row"])
    # "str" resolved once per frame, not once per column: the lookup is most of pd.array's
    # time for a short column (and still honours pandas' string options at call time)
    str_dtype: Any = pd.api.types.pandas_dtype("str")  # the stubs type pd.array by literal
    out: dict[str, Any] = {"excel_row": np.array(data["excel_row"], dtype="int64")}
    for column in columns:
        values = data[column.name]
        if column.type in ("count", "int"):
            mask = np.fromiter((v is None for v in values), dtype=bool, count=n)
            ints = np.fromiter((0 if v is None else v for v in values), dtype="int64", count=n)
            out[column.name] = pd.arrays.IntegerArray(ints, mask)
        elif column.type == "date":
            out[column.name] = np.array(
                [_NAT if v is None else np.datetime64(v, "D") for v in values],
                dtype="datetime64[ns]",
            ).reshape(n)
        else:
            out[column.name] = pd.array(values, dtype=str_dtype)
    return pd.DataFrame(out, copy=False)


_NAT = np.datetime64("NaT")


def _chi_findings(raw: RawSheet, pattern: str) -> list[Finding]:
    """Cells of a record sheet (below the header) that look like CHI numbers."""
    found = []
    hits = sorted(
        key for key, value in raw.cells.items() if key[0] >= 2 and cells.is_chi_like(value, pattern)
    )
    for row, col in hits:
        value = raw.cells[(row, col)]
        found.append(
            make_finding(
                "R-CHI",
                sheet=raw.title,
                cell=f"{get_column_letter(col)}{row}",
                row=row,
                value=cells.display(value),
                expected="no CHI numbers or other identifiers",
            )
        )
    return found
