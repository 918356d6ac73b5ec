"""Feedback a lead reads: the status, then every problem in the order Excel shows the sheet.

Two forms of one content: plain text (console, e-mail, `datasummary check`) and an xlsx
written next to the inbox. Submitted text goes into the workbook as text only — a value such
as `=HYPERLINK(...)` or `#N/A` must not become a live formula or an error cell in a file we
send back — and the file is replaced atomically so a crash never leaves half a workbook.
"""

from __future__ import annotations

import re
from pathlib import Path

from openpyxl.utils import column_index_from_string

from transforms.atomic import atomic_write
from transforms.findings import Finding, ParsedReturn

HEADERS = ["severity", "sheet", "cell or row", "value found", "expected", "rule code",
           "message"]
_RISKY_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_ERROR_LIKE = re.compile(r"^#[A-Z0-9/_]+[!?A-Z]?$|^#N/A$", re.IGNORECASE)
_CELL_RE = re.compile(r"^([A-Z]{1,3})(\d+)$")
MAX_CELL_CHARS = 32_767


def default_status_line(parsed: ParsedReturn) -> str:
    """'file.xlsx: rejected (2 errors, 1 warning)'."""
    def plural(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    return (f"{parsed.file_name}: {parsed.status} ({plural(parsed.errors, 'error')}, "
            f"{plural(parsed.warnings, 'warning')})")


def sort_key(parsed: ParsedReturn, finding: Finding) -> tuple[int, int, int]:
    """Workbook-level first, then sheets in workbook order, then row, then column."""
    order = {title: i for i, title in enumerate(parsed.sheet_order)}
    sheet = -1 if finding.sheet is None else order.get(finding.sheet, len(order))
    row, col = finding.row or 0, 0
    m = _CELL_RE.match(finding.cell or "")
    if m:
        col = column_index_from_string(m.group(1))
        row = int(m.group(2))
    return sheet, row, col


def sorted_findings(parsed: ParsedReturn) -> list[Finding]:
    """The findings as a lead would walk the workbook (stable for ties)."""
    return sorted(parsed.findings, key=lambda f: sort_key(parsed, f))


def feedback_text(parsed: ParsedReturn, status_line: str | None = None) -> str:
    """The status on the first line, then one line per problem in sheet order."""
    lines = [status_line or default_status_line(parsed)]
    if not parsed.findings:
        lines.append("No problems found. Thank you.")
    for f in sorted_findings(parsed):
        parts = [f"{f.severity.upper()} {f.location()} [{f.rule}]: {f.message}"]
        if f.value is not None:
            parts.append(f"Found: {f.value}.")
        if f.expected:
            parts.append(f"Expected: {f.expected}.")
        lines.append(" ".join(parts))
    return "\n".join(lines) + "\n"


def safe_text(value: object) -> str:
    """Text that a spreadsheet will show, not run: no control characters, within Excel's
    cell limit. Whether it needs a quote prefix is `needs_quote`."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    text = ILLEGAL_CHARACTERS_RE.sub("", "" if value is None else str(value))
    return text[:MAX_CELL_CHARS]


def needs_quote(text: str) -> bool:
    """True for text Excel might take as a formula or an error value."""
    return text.startswith(_RISKY_START) or bool(_ERROR_LIKE.match(text.strip()))


def _put_text(ws: object, row: int, col: int, value: object) -> None:
    """Write `value` as a text cell, whatever it looks like."""
    text = safe_text(value)
    cell = ws.cell(row=row, column=col)  # type: ignore[attr-defined]
    cell.value = text
    cell.data_type = "s"        # never a formula (=...) or an error cell (#N/A)
    if needs_quote(text):
        cell.quotePrefix = True  # Excel keeps it text even when the cell is edited


def write_feedback_workbook(parsed: ParsedReturn, path: Path,
                            status_line: str | None = None) -> Path:
    """The feedback as an xlsx at `path`: status line, then the table of problems."""
    import openpyxl
    from openpyxl.styles import Alignment, Font

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feedback"
    _put_text(ws, 1, 1, status_line or default_status_line(parsed))
    ws.cell(row=1, column=1).font = Font(bold=True)
    for col, header in enumerate(HEADERS, start=1):
        _put_text(ws, 3, col, header)
        ws.cell(row=3, column=col).font = Font(bold=True)
    for r, f in enumerate(sorted_findings(parsed), start=4):
        where = f.cell or (f"row {f.row}" if f.row else "")
        for col, value in enumerate(
                [f.severity, f.sheet or "", where, f.value or "", f.expected or "", f.rule,
                 f.message], start=1):
            _put_text(ws, r, col, value)
            ws.cell(row=r, column=col).alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCDEFG", (9, 18, 10, 20, 32, 16, 60), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A4"
    # Printed, the list fits the page width (landscape) and runs on over as many pages as needed.
    ws.page_setup.orientation = "landscape"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    return _save_atomically(wb, Path(path))


def _save_atomically(wb: object, path: Path) -> Path:
    """Save through a temporary file beside `path`: a crash leaves the old feedback intact."""
    return atomic_write(path, wb.save, suffix=".xlsx")  # type: ignore[attr-defined]
