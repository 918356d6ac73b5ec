"""Reading a workbook per the return specification: Cover, sheets, headers, typed cells.

The sheets come from `transforms.intake.sheet_readers`: calamine when the workbook holds nothing it
cannot report, otherwise openpyxl's own streaming parser, extended to see what pandas and
`data_only` hide (a formula with no saved result, an Excel error cell, hidden rows). Neither
trusts the `<dimension>` tag. Values are converted by `transforms.intake.cells`, never by pandas,
and anything that does not convert becomes a finding naming its cell — the frame gets NA
there, so frames are only trustworthy when the workbook is not rejected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from transforms.catalogue import make_finding
from transforms.findings import Cover, Finding, ParsedReturn
from transforms.intake import cells
from transforms.intake.bounds import scan_workbook
from transforms.intake.preflight import DEFAULT_LIMITS, Limits
from transforms.intake.sheet_readers import (
    NO_CACHED_VALUE,
    CalamineFailed,
    ExcelError,
    NoCachedValue,
    RawSheet,
    SheetSource,
    calamine_sheets,
    openpyxl_sheets,
)
from transforms.quarters import is_quarter_end
from transforms.spec import Column, Spec, default_spec


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


@dataclass
class Parsed:
    """A parsed return plus what validation needs to locate its findings."""

    result: ParsedReturn
    layouts: dict[str, SheetLayout] = field(default_factory=dict)
    raw_values: dict[str, dict[tuple[int, str], Any]] = field(default_factory=dict)


# ---------------------------------------------------------------- the workbook
def parse_workbook(
    path: Path,
    *,
    spec: Spec | None = None,
    today: dt.date | None = None,
    original_name: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> Parsed:
    """The Cover and the submitter's sheets of a pre-flighted workbook, typed, with findings.

    Never raises on a bad workbook: a parser failure becomes a P-UNREADABLE finding. Every
    part is first inflated and measured as a stream (`transforms.intake.bounds`), so neither
    reader is handed a sheet past the limits or a part that inflates past its declared size;
    a sheet whose dense grid would be large is read by openpyxl, which keeps only what is set.
    """
    spec = spec or default_spec()
    today = today or london_today()
    result = ParsedReturn(file_name=original_name or path.name)
    parsed = Parsed(result=result)
    scan = scan_workbook(path, limits)
    if scan.findings:
        result.findings.extend(scan.findings)
        return parsed
    try:
        dense_ok = scan.largest_area <= limits.max_dense_cells
        sources = calamine_sheets(path) if dense_ok else None
        if sources is not None:
            try:
                _parse_sheets(sources, parsed, spec, today, limits)
                return parsed
            except CalamineFailed:
                result = ParsedReturn(file_name=result.file_name)
                parsed = Parsed(result=result)
        with openpyxl_sheets(path) as sources:
            _parse_sheets(sources, parsed, spec, today, limits)
    except MemoryError:
        result.findings.append(
            make_finding("P-TOO-LARGE", detail="reading it needed more memory than a return can")
        )
    except Exception as exc:  # noqa: BLE001 - a hostile or damaged file must not crash intake
        result.findings.append(
            make_finding(
                "P-UNREADABLE", detail=f"the workbook's contents are damaged: {type(exc).__name__}"
            )
        )
    return parsed


def london_today() -> dt.date:
    """Today's date in Europe/London (the specification's time zone)."""
    from transforms.quarters import LONDON

    return dt.datetime.now(LONDON).date()


def _parse_sheets(
    sheets: list[SheetSource], parsed: Parsed, spec: Spec, today: dt.date, limits: Limits
) -> None:
    result = parsed.result
    result.sheet_order = [ws.title for ws in sheets]
    rspec = spec.returns
    cover_ws = _find_sheet(sheets, rspec.cover.sheet, result.findings)
    if cover_ws is None:
        return
    cover_raw = _read_checked(cover_ws, limits, result.findings)
    if cover_raw is None:
        return
    result.cover = parse_cover(cover_raw, spec, today, result.findings)
    if result.cover.submitter is None:
        return
    for name in rspec.submitter(result.cover.submitter).sheets:
        ws = _find_sheet(sheets, name, result.findings)
        if ws is None:
            continue
        raw = _read_checked(ws, limits, result.findings)
        if raw is None:
            continue
        frame, layout, raw_values = parse_sheet(raw, name, spec, result.findings)
        result.sheets[name] = frame
        parsed.layouts[name] = layout
        parsed.raw_values[name] = raw_values


def _find_sheet(
    sheets: list[SheetSource], name: str, findings: list[Finding]
) -> SheetSource | None:
    """The worksheet whose name matches `name` ignoring case, spaces and `_`."""
    matches = [ws for ws in sheets if cells.sheet_key(ws.title) == cells.sheet_key(name)]
    if not matches:
        findings.append(
            make_finding("S-SHEET-MISSING", sheet=name, expected=f"a sheet named {name}")
        )
        return None
    if len(matches) > 1:
        findings.append(
            make_finding(
                "S-SHEET-DUPLICATE",
                sheet=name,
                detail=", ".join(ws.title for ws in matches),
                expected=f"one sheet named {name}",
            )
        )
        return None
    return matches[0]


def _read_checked(ws: SheetSource, limits: Limits, findings: list[Finding]) -> RawSheet | None:
    raw = ws.read(limits)
    if raw.too_big:
        findings.append(make_finding("S-TOO-MANY-ROWS", sheet=raw.title, detail=raw.too_big))
        return None
    if raw.hidden:
        findings.append(make_finding("S-SHEET-HIDDEN", sheet=raw.title, expected="a visible sheet"))
    if raw.hidden_rows:  # rarely: no set of every row for the usual sheet
        for row in sorted(raw.hidden_rows & {r for r, _ in raw.cells}):
            findings.append(
                make_finding("S-ROW-HIDDEN", sheet=raw.title, row=row, expected="a visible row")
            )
    return raw


def _cell_problem(
    value: Any, sheet: str, cell: str, row: int, column: str | None
) -> Finding | None:
    """A finding for a formula with no saved result or an Excel error cell."""
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


# ---------------------------------------------------------------- Cover
def parse_cover(raw: RawSheet, spec: Spec, today: dt.date, findings: list[Finding]) -> Cover:
    """The Cover values (labels in column A, any row; values in column B)."""
    rspec = spec.returns
    sheet = raw.title
    wanted = {cells.header_key(f.label): f for f in rspec.cover.fields}
    rows_for: dict[str, list[int]] = {}
    for (row, col), value in raw.cells.items():
        if col == 1 and not isinstance(value, (ExcelError, NoCachedValue)):
            f = wanted.get(cells.header_key(value))
            if f is not None:
                rows_for.setdefault(f.key, []).append(row)
    values: dict[str, Any] = {}
    for f in rspec.cover.fields:
        rows = sorted(rows_for.get(f.key, []))
        if not rows:
            findings.append(
                make_finding(
                    "C-LABEL-MISSING",
                    sheet=sheet,
                    column=f.label,
                    expected=f"the label {f.label} in column A",
                )
            )
            continue
        if len(rows) > 1:
            for r in rows[1:]:
                findings.append(
                    make_finding(
                        "C-LABEL-DUPLICATE",
                        sheet=sheet,
                        cell=f"A{r}",
                        row=r,
                        column=f.label,
                        value=f.label,
                        expected="each label once",
                    )
                )
            continue
        row = rows[0]
        value = raw.value(row, 2)
        problem = _cell_problem(value, sheet, f"B{row}", row, f.label)
        if problem:
            findings.append(problem)
            continue
        values[f.key] = (row, value)
    return _cover_values(values, rspec, sheet, today, findings)


def _cover_values(
    values: dict[str, tuple[int, Any]],
    rspec: Any,
    sheet: str,
    today: dt.date,
    findings: list[Finding],
) -> Cover:
    cover = Cover()

    def add(code: str, key: str, expected: str, detail: str | None = None) -> None:
        row, value = values[key]
        findings.append(
            make_finding(
                code,
                sheet=sheet,
                cell=f"B{row}",
                row=row,
                column=_label(rspec, key),
                value=cells.display(value),
                expected=expected,
                detail=detail,
            )
        )

    if "submitter" in values:
        codes = [s.code for s in rspec.submitters]
        code = cells.to_code(values["submitter"][1], cells.code_lookup(codes))
        if code in codes:
            cover.submitter = code
        else:
            add("C-SUBMITTER", "submitter", "one of " + ", ".join(codes), ", ".join(codes))
    if "quarter_end" in values:
        qe = _try_date(values["quarter_end"][1])
        if qe is not None and is_quarter_end(qe):
            cover.quarter_end = qe
        else:
            add(
                "C-QUARTER-END",
                "quarter_end",
                "a quarter end (31 March, 30 June, 30 September or 31 December)",
            )
    if "template_version" in values:
        version = _try_int(values["template_version"][1])
        if version == rspec.template_version:
            cover.template_version = str(version)
        else:
            add(
                "C-TEMPLATE-VERSION",
                "template_version",
                str(rspec.template_version),
                str(rspec.template_version),
            )
    if "completed_by" in values:
        cover.completed_by = cells.to_text(values["completed_by"][1])
        if cover.completed_by is None:
            add("C-COMPLETED-BY", "completed_by", "the name of the person who completed it")
    if "email" in values:
        email = cells.to_text(values["email"][1])
        cover.email = email
        if email is None or not cells.is_email(email):
            add("C-EMAIL", "email", "an e-mail address such as name@example.org")
    if "date_completed" in values:
        done = _try_date(values["date_completed"][1])
        expected = "a date on or after the quarter end and not in the future"
        if done is None:
            add(
                "C-DATE-COMPLETED",
                "date_completed",
                expected,
                "is not a date (use an Excel date, or text such as 31/12/2020)",
            )
        elif cover.quarter_end is not None and done < cover.quarter_end:
            add("C-DATE-COMPLETED", "date_completed", expected, "is before the quarter end")
        elif done > today:
            add("C-DATE-COMPLETED", "date_completed", expected, "is in the future")
        else:
            cover.date_completed = done
    return cover


def _label(rspec: Any, key: str) -> str:
    return next(f.label for f in rspec.cover.fields if f.key == key)


def _try_date(value: Any) -> dt.date | None:
    try:
        return cells.to_date(value)
    except cells.CellError:
        return None


def _try_int(value: Any) -> int | None:
    try:
        return cells.to_int(value)
    except cells.CellError:
        return None


# ---------------------------------------------------------------- data sheets
def _header_positions(
    raw: RawSheet,
    name: str,
    columns: list[Column],
    is_records: bool,
    identifier_words: list[str],
    findings: list[Finding],
) -> tuple[dict[str, int], frozenset[str]]:
    """Specification column -> index from row 1, with header findings."""
    by_key = {cells.header_key(c.name): c.name for c in columns}
    positions: dict[str, list[int]] = {}
    words = [w.replace(" ", "") for w in identifier_words]
    header = sorted((col, value) for (row, col), value in raw.cells.items() if row == 1)
    for col, value in header:
        if isinstance(value, (ExcelError, NoCachedValue)):
            continue
        key = cells.header_key(value)
        letter = get_column_letter(col)
        if key in by_key:
            positions.setdefault(by_key[key], []).append(col)
        elif is_records and any(w in key.replace(" ", "") for w in words):
            findings.append(
                make_finding(
                    "S-IDENTIFIER-HEADER",
                    sheet=raw.title,
                    cell=f"{letter}1",
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
                    cell=f"{letter}1",
                    row=1,
                    column=cells.clean_text(str(value)),
                    value=cells.display(value),
                    expected="only the template's columns",
                )
            )
    result: dict[str, int] = {}
    for col_name, found in positions.items():
        result[col_name] = found[0]
        for dup in found[1:]:
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


def _converter(column: Column, spec: Spec, sheet_items: list[str]) -> Any:
    """The function that reads one cell of this column, raising CellError when it cannot."""
    if column.type == "count":
        return cells.to_count
    if column.type == "int":
        return cells.to_int
    if column.type == "date":
        return cells.to_date
    if column.type == "code":
        lookup = cells.code_lookup(spec.returns.code_values(column.codes or ""))
        return lambda v: cells.to_code(v, lookup)
    if column.type == "item":
        lookup = cells.code_lookup(sheet_items)
        return lambda v: cells.to_code(v, lookup)
    if column.type == "action_id":
        lookup = cells.code_lookup([a.id for a in spec.plan.actions])
        return lambda v: cells.to_code(v, lookup)
    return cells.to_text


_CONVERT_CODES = {"count": "V-COUNT", "int": "V-INT", "date": "V-DATE"}


def parse_sheet(
    raw: RawSheet, name: str, spec: Spec, findings: list[Finding]
) -> tuple[pd.DataFrame, SheetLayout, dict[tuple[int, str], Any]]:
    """A typed frame (`excel_row` + the specification's columns) for one sheet."""
    sheet_spec = spec.returns.sheets[name]
    columns = spec.returns.sheet_columns(name)
    is_records = sheet_spec.kind == "records"
    positions, missing = _header_positions(
        raw, name, columns, is_records, spec.returns.records.identifier_header_words, findings
    )
    layout = SheetLayout(name=name, title=raw.title, columns=positions, missing=missing)
    spec_cols = set(positions.values())
    store = raw.cells
    data_rows = sorted({r for r, c in store if r >= 2 and c in spec_cols})
    if is_records:
        findings.extend(_chi_findings(raw, spec.returns.records.chi_pattern))
    items = [i.item for i in sheet_spec.items]
    data: dict[str, list[Any]] = {"excel_row": data_rows}
    raw_values: dict[tuple[int, str], Any] = {}
    for column in columns:
        convert = _converter(column, spec, items)
        out: list[Any] = [None] * len(data_rows)
        data[column.name] = out
        col_idx = positions.get(column.name)
        if not col_idx:
            continue
        letter = get_column_letter(col_idx)
        for i, row in enumerate(data_rows):
            value = store.get((row, col_idx))
            if value is None:
                continue
            raw_values[(row, column.name)] = value
            if isinstance(value, (NoCachedValue, ExcelError)):
                findings.append(_cell_problem(value, raw.title, f"{letter}{row}", row, column.name))
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
    return typed_frame(data, columns), layout, raw_values


def typed_frame(data: dict[str, list[Any]], columns: list[Column]) -> pd.DataFrame:
    """The architecture's typing: counts/ints Int64, dates datetime64[ns], the rest str.

    Built from numpy arrays rather than per-value Series inference: this runs for every
    sheet of every return, and inference was most of a return's parsing time.
    """
    n = len(data["excel_row"])
    # "str" resolved once per frame, not once per column: the lookup is most of pd.array's
    # time for a short column (and still honours pandas' string options at call time)
    str_dtype = pd.api.types.pandas_dtype("str")
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
