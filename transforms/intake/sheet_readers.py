"""The two ways a return's sheets are read into `RawSheet`s: calamine, else openpyxl.

calamine (Rust, through python-calamine) reads a return in well under a millisecond, about
twenty times faster than openpyxl, but it cannot tell a formula with no saved result from a
blank, it turns an Excel error into text and it does not report hidden rows. So before
trusting it `calamine_sheets` looks at the worksheet XML itself: when any worksheet holds a
formula (`<f>`), an error cell (`t="e"`) or a hidden row it answers None and the caller
reads the workbook with `openpyxl_sheets`, which sees all three. Only the worksheets the
workbook's relationships name are scanned (the parts calamine reads), and anything
unexpected — no relationships, a missing part, a calamine error — also sends the workbook
to openpyxl: the fast path may only ever give the answer the slow path would.

Values are brought to openpyxl's types (a whole day is a `datetime` at midnight, a whole
number an `int`), so both readers give equal `RawSheet`s; `tests/test_sheet_readers.py`
checks that on the sample returns and on generated cells.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from transforms.intake import cells
from transforms.intake.preflight import Limits


class NoCachedValue:
    """A formula cell the saving tool did not calculate (no `<v>` element)."""

    def __repr__(self) -> str:
        return "(formula with no saved result)"


NO_CACHED_VALUE = NoCachedValue()


@dataclass(frozen=True)
class ExcelError:
    """An Excel error cell (`t="e"`), such as #REF!."""

    code: str

    def __str__(self) -> str:
        return self.code


@dataclass
class RawSheet:
    """The non-blank cells of one sheet as read, keyed (row, column), 1-based."""

    title: str
    hidden: bool
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    too_big: str | None = None

    def value(self, row: int, col: int) -> Any:
        """The raw value at (row, col), None when blank."""
        return self.cells.get((row, col))

    def rows(self) -> list[int]:
        """Row numbers holding any non-blank cell, ascending."""
        return sorted({r for r, _ in self.cells})


@dataclass(frozen=True)
class SheetSource:
    """One worksheet of an open workbook: its title, and how to read its cells."""

    title: str
    read: Callable[[Limits], RawSheet]


class CalamineFailed(Exception):
    """calamine could not read a sheet: read the workbook again with openpyxl."""


def _collect(
    raw: RawSheet, rows: Iterable[tuple[int, Iterable[tuple[int, Any]]]], limits: Limits
) -> RawSheet:
    """Keep the non-blank cells of `rows` in `raw`, stopping at the limits."""
    rows_seen = max_col = 0
    for row_idx, row_cells in rows:
        kept = False
        for col, value in row_cells:
            if value is None or (isinstance(value, str) and cells.is_blank(value)):
                continue
            raw.cells[(row_idx, col)] = value
            max_col = max(max_col, col)
            kept = True
        rows_seen += kept
        if (
            rows_seen > limits.max_rows
            or len(raw.cells) > limits.max_cells
            or max_col > limits.max_columns
        ):
            raw.too_big = (
                f"more than {limits.max_rows:,} rows, {limits.max_columns} "
                f"columns or {limits.max_cells:,} cells"
            )
            raw.cells.clear()
            break
    return raw


# ---------------------------------------------------------------- calamine
# Anything calamine cannot report: a formula element (any namespace prefix), an error cell,
# a hidden row (or column: harmless, it only sends the workbook down the slow path).
NEEDS_CELL_TYPES = re.compile(
    rb"<(?:[\w.-]+:)?f[\s>/]|\st\s*=\s*[\"']e[\"']|\shidden\s*=\s*[\"'](?:1|true)[\"']"
)
_REL = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_ATTR = re.compile(rb"""([\w:]+)\s*=\s*["']([^"']*)["']""")
_WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"


def worksheet_parts(zf: zipfile.ZipFile) -> list[str] | None:
    """The zip names of the workbook's worksheets, from its relationships; None if unsure."""
    try:
        rels = zf.read(_WORKBOOK_RELS)
    except KeyError:
        return None
    names = set(zf.namelist())
    parts = []
    for m in _REL.finditer(rels):
        attrs = {k.lower(): v for k, v in _ATTR.findall(m.group(1))}
        if not attrs.get(b"type", b"").endswith(b"/worksheet"):
            continue
        target = attrs.get(b"target", b"").decode("utf-8", "replace")
        if attrs.get(b"targetmode", b"").lower() == b"external" or not target:
            return None
        part = (
            target.lstrip("/")
            if target.startswith("/")
            else posixpath.normpath(posixpath.join("xl", target))
        )
        if part not in names:
            return None
        parts.append(part)
    return parts or None


def needs_cell_types(zf: zipfile.ZipFile) -> bool:
    """True when a worksheet holds a formula, an error cell or a hidden row, or we cannot tell."""
    parts = worksheet_parts(zf)
    if parts is None:
        return True
    return any(_needs_cell_types(zf.read(part)) for part in parts)


def _needs_cell_types(xml: bytes) -> bool:
    """NEEDS_CELL_TYPES, after cheap substring tests that rule most sheets out.

    Every match holds `hidden`, a quoted `e` (either quote each side) or the formula tag,
    bare or prefixed, followed by what may follow its name (bytes `\\s`, `>` or `/`).
    Looser tests (`f `, `<f`) let ordinary sheets (inline text "Quarter of ...", data
    validation's `<formula1>`) through to the slow regex, and testing every quoted-e
    spelling with `in` cost more than the finds below: quotes are everywhere in XML.
    """
    maybe = (
        b"hidden" in xml
        or _followed_by(xml, (b'"e', b"'e"), b"\"'")
        or _followed_by(xml, (b"<f", b":f"), b" \t\n\r\f\v>/")
    )
    return maybe and NEEDS_CELL_TYPES.search(xml) is not None


def _followed_by(xml: bytes, starts: tuple[bytes, ...], after: bytes) -> bool:
    """True when an occurrence of one of `starts` is directly followed by a byte of `after`."""
    end = len(xml)
    for start in starts:
        i = xml.find(start)
        while i >= 0:
            j = i + len(start)
            if j < end and xml[j] in after:
                return True
            i = xml.find(start, i + 1)
    return False


def openpyxl_value(value: Any) -> Any:
    """A calamine value as openpyxl reads the same cell (None for blank)."""
    if value == "":
        return None
    if type(value) is dt.date:
        return dt.datetime(value.year, value.month, value.day)
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _calamine_reader(workbook: Any, title: str, hidden: bool) -> Callable[[Limits], RawSheet]:
    def read(limits: Limits) -> RawSheet:
        try:
            rows = workbook.get_sheet_by_name(title).to_python(skip_empty_area=False)
        except Exception as exc:  # noqa: BLE001 - openpyxl will read it and say what is wrong
            raise CalamineFailed(title) from exc
        return _collect_calamine(RawSheet(title=title, hidden=hidden), rows, limits)

    return read


def _collect_calamine(raw: RawSheet, rows: list[list[Any]], limits: Limits) -> RawSheet:
    """`_collect` of calamine's rows through `openpyxl_value`, with both inlined.

    The same cells and the same limits, without two generators and two calls per cell:
    this runs for every cell of every sheet, and most cells are padding ("") or numbers.
    """
    store = raw.cells
    rows_seen = max_col = 0
    for row_idx, row in enumerate(rows, start=1):
        kept = 0
        for col, value in enumerate(row, start=1):
            kind = type(value)
            if kind is str:
                if not value or (not value.strip() if value.isascii() else cells.is_blank(value)):
                    continue
            elif kind is float:
                if value.is_integer() and abs(value) < 2**53:
                    value = int(value)
            elif kind is not int and kind is not dt.datetime:
                value = openpyxl_value(value)
                if value is None or (isinstance(value, str) and cells.is_blank(value)):
                    continue
            store[(row_idx, col)] = value
            if col > max_col:
                max_col = col
            kept = 1
        rows_seen += kept
        if (
            rows_seen > limits.max_rows
            or len(store) > limits.max_cells
            or max_col > limits.max_columns
        ):
            raw.too_big = (
                f"more than {limits.max_rows:,} rows, {limits.max_columns} "
                f"columns or {limits.max_cells:,} cells"
            )
            store.clear()
            break
    return raw


def calamine_sheets(path: Path) -> list[SheetSource] | None:
    """The workbook's worksheets in order, read by calamine; None when openpyxl must read it."""
    from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

    data = Path(path).read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            if needs_cell_types(zf):
                return None
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return [
            SheetSource(
                meta.name,
                _calamine_reader(workbook, meta.name, meta.visible != SheetVisibleEnum.Visible),
            )
            for meta in workbook.sheets_metadata
            if meta.typ == SheetTypeEnum.WorkSheet
        ]  # openpyxl skips chart sheets too
    except Exception:  # noqa: BLE001 - anything odd: openpyxl reads it and says what is wrong
        return None


# ---------------------------------------------------------------- openpyxl
def _parser_class() -> type:
    """openpyxl's sheet parser, told to keep formula-without-value and error cells apart."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

    class _CellParser(WorkSheetParser):  # type: ignore[misc]  # openpyxl ships no types
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            if cell["data_type"] == "e":
                cell["value"] = ExcelError(str(cell["value"]))
            elif cell["value"] is None and element.find(FORMULA_TAG) is not None:
                # No <v>, or an empty <v> on a non-text cell: the tool saved no result.
                # (An empty <v> on a text cell, t="str", is a formula that returned "".)
                cached = element.find(VALUE_TAG)
                if cached is None or element.get("t", "n") not in ("str", "s", "inlineStr"):
                    cell["value"] = NO_CACHED_VALUE
            return cell

    return _CellParser


def read_sheet(ws: Any, limits: Limits) -> RawSheet:
    """Every non-blank cell of a read-only openpyxl worksheet, with hidden rows.

    openpyxl's own streaming parser, so the `<dimension>` tag is never trusted: every row
    element is read.
    """
    parser_cls = _parser_class()
    wb = ws.parent
    raw = RawSheet(title=ws.title, hidden=ws.sheet_state != "visible")
    with ws._get_source() as src:  # noqa: SLF001 - the documented way read-only sheets stream
        parser = parser_cls(
            src,
            ws._shared_strings,
            data_only=True,
            epoch=wb.epoch,  # noqa: SLF001
            date_formats=wb._date_formats,  # noqa: SLF001
            timedelta_formats=wb._timedelta_formats,
        )  # noqa: SLF001
        _collect(
            raw,
            ((r, ((c["column"], c["value"]) for c in row)) for r, row in parser.parse()),
            limits,
        )
        if not raw.too_big:
            for key, attrs in parser.row_dimensions.items():
                if str(attrs.get("hidden", "")).lower() in ("1", "true"):
                    raw.hidden_rows.add(int(key))
    return raw


@contextmanager
def openpyxl_sheets(path: Path) -> Iterator[list[SheetSource]]:
    """The workbook's worksheets in order, read by openpyxl (read-only, saved values)."""
    import warnings

    import openpyxl

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    try:
        yield [SheetSource(ws.title, _sheet_reader(ws)) for ws in wb.worksheets]
    finally:
        wb.close()


def _sheet_reader(ws: Any) -> Callable[[Limits], RawSheet]:
    """Reading this worksheet later, when the parse asks for it with its limits."""
    return lambda limits: read_sheet(ws, limits)
