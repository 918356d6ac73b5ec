"""Text from strangers, made safe for spreadsheets: one rule for feedback, reports, CSVs, e-mail.

A lead's text, a file name or a progress update can start with `=`, `+`, `-` or `@`, or look
like an error value (`#N/A`): Excel, LibreOffice and Google Sheets would run it as a formula
(OWASP "CSV injection") or show an error. Workbooks we write keep such text as text with a
quote prefix (`needs_quote`); CSVs prefix it with `'` (`csv_cell`). Every writer uses these.
"""

from __future__ import annotations

import math
import re
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")
_ERROR_LIKE = re.compile(r"^#[A-Z0-9/_]+[!?A-Z]?$|^#N/A$", re.IGNORECASE)
MAX_CELL_CHARS = 32_767  # Excel's limit, in UTF-16 code units
_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")  # as openpyxl's ILLEGAL_CHARACTERS_RE


def needs_quote(text: str) -> bool:
    """True for text a spreadsheet might take as a formula or an error value."""
    return text.startswith(FORMULA_START) or bool(_ERROR_LIKE.match(text.strip()))


def cell_text(value: object) -> str:
    """Text a workbook cell can hold: no control characters, within Excel's cell limit (an
    emoji counts twice), never split inside a character. Quote it if `needs_quote`."""
    text = _ILLEGAL.sub("", "" if value is None else str(value))[:MAX_CELL_CHARS]
    if (
        len(text) > MAX_CELL_CHARS // 2
        and len(text.encode("utf-16-le", "surrogatepass")) > 2 * MAX_CELL_CHARS
    ):
        units = 0
        for i, char in enumerate(text):
            units += 2 if ord(char) > 0xFFFF else 1
            if units > MAX_CELL_CHARS:
                return text[:i]
    return text


def csv_cell(value: Any) -> str:
    """One CSV field that no spreadsheet will evaluate: missing is empty, risky text gets `'`."""
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(csv_safe(str(value)))


def csv_safe(value: Any) -> Any:
    """A text value made CSV-safe (`'` prefix when risky); any other value unchanged."""
    return "'" + value if isinstance(value, str) and needs_quote(value) else value


def _is_missing(value: Any) -> bool:
    """None, NaN, and pandas' NA and NaT (by type name: callers need not import pandas)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return True
    return type(value).__name__ in ("NAType", "NaTType")
