"""Feedback a lead reads: the status, then every problem in the order Excel shows the sheet.

Two forms of one content: plain text (console, e-mail, `datasummary check`) and an xlsx
written next to the inbox. Submitted text goes into the workbook as text only — a value such
as `=HYPERLINK(...)` or `#N/A` must not become a live formula or an error cell in a file we
send back — and the file is replaced atomically so a crash never leaves half a workbook.
"""

from __future__ import annotations

import datetime as dt
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


# Stored column widths (the `<col width>` openpyxl used to write), A to G.
COLUMN_WIDTHS = (9, 18, 10, 20, 32, 16, 60)
_PX_PER_CHAR = 7              # Calibri 11: xlsxwriter stores pixels / 7 as the column width
_FIXED_CREATED = dt.datetime(2000, 1, 1)   # same content, same bytes (zip times are fixed)


def write_feedback_workbook(parsed: ParsedReturn, path: Path,
                            status_line: str | None = None) -> Path:
    """The feedback as an xlsx at `path`: status line, then the table of problems."""
    path = Path(path)
    return atomic_write(path, lambda tmp: _write_xlsx(parsed, tmp, status_line),
                        suffix=".xlsx")


def _write_xlsx(parsed: ParsedReturn, path: Path, status_line: str | None) -> None:
    """Write the workbook to `path` with xlsxwriter (several times faster than openpyxl).

    Every value goes in with `write_string` — never `write`, which would turn `=...` into a
    formula and `1234` into a number — and text Excel could take for a formula or an error
    gets the quote prefix, so it stays text when a lead edits the cell.
    """
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {
        "in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False})
    wb.set_properties({"created": _FIXED_CREATED})
    bold = wb.add_format({"bold": True})
    bold_q = wb.add_format({"bold": True, "quote_prefix": True})
    body = wb.add_format({"text_wrap": True, "valign": "top"})
    body_q = wb.add_format({"text_wrap": True, "valign": "top", "quote_prefix": True})
    ws = wb.add_worksheet("Feedback")

    def put(row: int, col: int, value: object, fmt: object, fmt_q: object) -> None:
        text = safe_text(value)
        ws.write_string(row, col, text, fmt_q if needs_quote(text) else fmt)

    put(0, 0, status_line or default_status_line(parsed), bold, bold_q)
    for col, header in enumerate(HEADERS):
        put(2, col, header, bold, bold_q)
    for r, f in enumerate(sorted_findings(parsed), start=3):
        where = f.cell or (f"row {f.row}" if f.row else "")
        for col, value in enumerate(
                [f.severity, f.sheet or "", where, f.value or "", f.expected or "", f.rule,
                 f.message]):
            put(r, col, value, body, body_q)
    for col, width in enumerate(COLUMN_WIDTHS):
        ws.set_column_pixels(col, col, width * _PX_PER_CHAR)
    ws.freeze_panes(3, 0)                                   # A4
    # Printed, the list fits the page width (landscape) and runs on over as many pages as needed.
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    wb.close()
