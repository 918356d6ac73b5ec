"""Cells and tables of the Excel workbook: the rules every sheet keeps.

Text that came from submitters is always written as a string cell: openpyxl would otherwise
store `=…` as a formula and `#N/A` as an error value, and it cuts cells over 32,767
characters silently (we cut visibly and count). Figures are numbers with a display format.
"""

from __future__ import annotations

import copy
import datetime as dt
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from transforms.reports.context import RAG_FILL, RAG_FONT, clean_text
from transforms.reports.inputs import ReportInputs
from transforms.safe_text import needs_quote

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
class SheetWriter:
    """Writes cells and tables and keeps the counts a run should report."""

    inputs: ReportInputs
    truncated: int = 0
    table_names: set[str] = field(default_factory=set)
    #: Restyled cells' styles, by (change, workbook, style before): see `restyle`.
    styles: dict[tuple[str, int, tuple[int, ...]], Any] = field(default_factory=dict)

    def restyle(self, cell: Any, change: str, apply: Callable[[Any], None]) -> None:
        """`apply(cell)` once per distinct style a cell starts from; later cells starting
        from the same style take the resulting style as it is.

        openpyxl builds and hashes a new style object for every cell it restyles, most of a
        big table's writing time; the style ids copied here are the ones `apply` gave, so
        the workbook is byte for byte the same.
        """
        key = (change, id(cell.parent.parent), tuple(cell._style or ()))  # noqa: SLF001
        done = self.styles.get(key)
        if done is None:
            apply(cell)
            self.styles[key] = copy.copy(cell._style)  # noqa: SLF001
        else:
            cell._style = copy.copy(done)  # noqa: SLF001

    def text(self, ws: Any, row: int, col: int, value: Any) -> Any:
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

    def put(self, ws: Any, row: int, col: int, value: Any, fmt: str | None = None) -> Any:
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
        ws: Any,
        name: str,
        headers: list[str],
        rows: list[list[Any]],
        formats: list[str | None] | None = None,
        top: int = 3,
        widths: Mapping[int, float] | None = None,
        note: str = "",
    ) -> str:
        """A titled Excel table from row `top`, with frozen header and sensible widths."""
        from openpyxl.styles import Font
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
                # top-aligned, so a row grown for wrapped text still reads across
                self.restyle(self.put(ws, i, j, v, fmt), "top", _top_aligned)
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
                    self.restyle(ws.cell(row=i, column=j), "wrapped", _wrapped)
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


def _top_aligned(cell: Any) -> None:
    from openpyxl.styles import Alignment

    cell.alignment = Alignment(horizontal=cell.alignment.horizontal, vertical="top")


def _wrapped(cell: Any) -> None:
    from openpyxl.styles import Alignment

    cell.alignment = Alignment(wrap_text=True, vertical="top")


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
    out: list[str | None] = []
    for f in formats:
        if f and f.startswith("unit:"):
            out.append(NUMBER_FORMAT.get(str(row[int(f[5:])]), "0.0"))
        else:
            out.append(f)
    return out


def title_row(sh: SheetWriter, ws: Any, text: str, marking: str) -> None:
    from openpyxl.styles import Font

    sh.text(ws, 1, 1, text).font = Font(bold=True, size=14, color=NAVY)
    sh.text(ws, 1, 3, marking).font = Font(bold=True, color="9C0006")


def rag_formatting(ws: Any, ref_col: str, first: int, last: int) -> None:
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
