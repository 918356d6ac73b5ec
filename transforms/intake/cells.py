"""Reading one cell's value by the return specification's own rules (returns.md §3).

pandas and the Excel readers guess: `"1,234"` becomes NaN, `"NA"` becomes missing,
`2024-04-02` may be read day-first. Every conversion here is explicit, so a value is either
read exactly as the specification allows or refused with the reason in plain words
(`CellError.expected`) — never silently turned into a blank or a zero.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

# Characters that look like nothing: BOM, zero-width space/joiners, word joiner, soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u2060\u00ad\u180e"), None)
_COUNT_RE = re.compile(r"^(\d+|\d{1,3}(,\d{3})+)$")
_DMY_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SHEET_KEY_DROP = re.compile(r"[\s_]+")

COUNT_EXPECTED = "a whole number of 0 or more, such as 12 or 1,234 (leave no text or symbols)"
DATE_EXPECTED = "a date: an Excel date, or text in the form 31/12/2020 or 2020-12-31"


class CellError(ValueError):
    """A value the specification does not allow; `expected` says what is allowed."""

    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def clean_text(value: str) -> str:
    """Text without invisible characters, with non-breaking spaces as spaces, trimmed."""
    if value.isascii():  # NFKC leaves ASCII alone, and every character replaced is not ASCII
        return value.strip()
    text = unicodedata.normalize("NFKC", value).translate(_INVISIBLE)
    return text.replace("\u00a0", " ").strip()


def header_key(value: Any) -> str:
    """A header or label reduced for matching: case, spaces, `_` and invisibles ignored."""
    if value is None:
        return ""
    text = clean_text(str(value)).lower().replace("_", " ")
    return " ".join(text.split())


def sheet_key(name: str) -> str:
    """A sheet name reduced for matching: case, spaces and `_` ignored."""
    return _SHEET_KEY_DROP.sub("", clean_text(name).lower())


def is_blank(value: Any) -> bool:
    """True for an empty cell or text that is only spaces/invisible characters."""
    return value is None or (isinstance(value, str) and clean_text(value) == "")


def display(value: Any) -> str:
    """A cell value as a person would recognise it in their sheet (for feedback only)."""
    if value is None:
        return "(blank)"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def to_count(value: Any) -> int | None:
    """A count (whole number ≥ 0) from a number or digit text; None when blank."""
    return _whole_number(value, allow_negative=False, expected=COUNT_EXPECTED)


def to_int(value: Any) -> int | None:
    """A whole number (sign allowed; range is checked later); None when blank."""
    return _whole_number(value, allow_negative=True, expected="a whole number, such as 14")


def _whole_number(value: Any, *, allow_negative: bool, expected: str) -> int | None:
    if type(value) is int:  # the usual cell, first: not blank, not a bool
        return value
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise CellError(expected)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or not value.is_integer():  # NaN or a fraction
            raise CellError(expected)
        return int(value)
    if isinstance(value, str):
        text = clean_text(value)
        sign = 1
        if allow_negative and text.startswith("-"):
            sign, text = -1, text[1:].strip()
        if _COUNT_RE.match(text):
            return sign * int(text.replace(",", ""))
    raise CellError(expected)


def to_date(value: Any) -> dt.date | None:
    """A date from an Excel date cell or text d/m/yyyy or yyyy-mm-dd; None when blank.

    The year must be in `DATE_YEARS`: typed frames hold dates as datetime64[ns], which
    cannot hold years before 1678 or after 2261, and would turn "31/12/9999" into a
    different date without a word.
    """
    if type(value) is dt.datetime:  # the usual cell, first: not blank
        return _in_range(value.date())
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return _in_range(value.date())
    if isinstance(value, dt.date):
        return _in_range(value)
    if isinstance(value, str):
        text = clean_text(value)
        for pattern, order in ((_DMY_RE, (3, 2, 1)), (_ISO_RE, (1, 2, 3))):
            m = pattern.match(text)
            if m:
                y, mo, d = (int(m.group(i)) for i in order)
                try:
                    day = dt.date(y, mo, d)
                except ValueError:
                    raise CellError(DATE_EXPECTED + " (this day does not exist)") from None
                return _in_range(day)
    raise CellError(DATE_EXPECTED)


DATE_YEARS = range(1900, 2200)  # any date a return can mean; Excel's own dates start in 1900


def _in_range(day: dt.date) -> dt.date:
    if day.year not in DATE_YEARS:
        raise CellError(
            f"{DATE_EXPECTED} (with a year from {DATE_YEARS.start} to {DATE_YEARS.stop - 1})"
        )
    return day


def to_text(value: Any) -> str | None:
    """Free text as written (numbers shown as Excel shows them); None when blank."""
    if type(value) is str and value.isascii():  # clean_text of ASCII is strip()
        return value.strip() or None
    if is_blank(value):
        return None
    if isinstance(value, str):
        return clean_text(value)
    return display(value)


def to_code(value: Any, codes: dict[str, str]) -> str | None:
    """The canonical code for `value` (case and surrounding spaces ignored).

    An unknown code is returned as written so the suite can report it with its row;
    `codes` maps the lower-case code to its canonical spelling.
    """
    text = to_text(value)
    if text is None:
        return None
    return codes.get(text.lower(), text)


def code_lookup(values: list[str]) -> dict[str, str]:
    """The lower-case → canonical map that `to_code` uses."""
    return {v.lower(): v for v in values}


def is_email(text: str) -> bool:
    """A plausible e-mail address (one @, a dot in the domain, no spaces)."""
    return bool(_EMAIL_RE.match(text))


CHI_PATTERN = r"^[0-9]{10}$"
# str() of these always holds "-" or ":", so it is never digits only
_NOT_CHI_TYPES = (dt.datetime, dt.date, dt.time, dt.timedelta)


def is_chi_like(value: Any, pattern: str = CHI_PATTERN) -> bool:
    """True when a cell matches the CHI pattern once spaces are removed (10 digits).

    The specification's own pattern is answered without regexes for the common cells
    (it runs on every cell of every record sheet); anything else takes the general path.
    """
    if pattern == CHI_PATTERN:
        kind = type(value)
        if kind is str and value.isascii():
            # clean_text of ASCII is strip(); split() drops what \s+ matches (isspace)
            text = "".join(value.split())
            return len(text) == 10 and text.isdigit()
        if kind is int:
            whole: int = value
            return 10**9 <= whole < 10**10
        if kind is float:
            # repr of a float that is not whole always holds ".", "e", "nan" or "inf"
            return value.is_integer() and 10**9 <= int(value) < 10**10
        if kind in _NOT_CHI_TYPES:
            return False
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = re.sub(r"\s+", "", clean_text(str(value)))
    return re.match(pattern, text) is not None
