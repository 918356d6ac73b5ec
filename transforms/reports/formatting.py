"""How the documents write a value: figures formatted by unit, dates, labels, and text made
safe for XML. Shared by the Word and Excel packs so both print a figure the same way."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

from transforms.spec import Spec

RAG_FILL = {"Green": "C6EFCE", "Amber": "FFEB9C", "Red": "FFC7CE", "Not rated": "E7E6E6"}

RAG_FONT = {"Green": "006100", "Amber": "7A4500", "Red": "9C0006", "Not rated": "3A3A3A"}

UNIT_LABEL = {
    "percent": "%",
    "count": "count",
    "pp": "percentage points",
    "per_1000": "per 1,000",
    "days": "days",
}

DIRECTION_TEXT = {"up": "higher is better", "down": "lower is better", "ctx": "context only"}

BREAKDOWN_TEXT = {
    "all": "All",
    "at_home": "Looked after at home",
    "away_from_home": "Looked after away from home",
    "care_experienced": "Care experienced",
}

NO_DATA = "no data"

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean_text(x: Any) -> str:
    """Text as given (blank for missing), minus characters XML cannot hold; `\\r\\n` → `\\n`."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return ""
    s = str(x).replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub(" ", s)


def as_date(x: Any) -> dt.date | None:
    """A date from a date, datetime, Timestamp or ISO text; None for blank."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return None
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    return pd.Timestamp(str(x)).date()


def as_bool(x: Any) -> bool:
    """True for True/'true'/'yes'/1; blank is False."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return False
    if isinstance(x, str):
        return x.strip().lower() in ("true", "yes", "y", "1")
    return bool(x)


def cell(x: Any, symbol: str) -> float | str | None:
    """A figure as float, the suppression symbol, or None when blank."""
    if x is None:
        return None
    if isinstance(x, str):
        s = x.strip()
        if s == symbol:
            return symbol
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            return None
    if pd.isna(x):
        return None
    f = float(x)
    return None if math.isnan(f) else f


def long_date(d: dt.date | None) -> str:
    """'30 September 2020'."""
    return f"{d.day} {d:%B %Y}" if d else ""


def fmt_value(v: float | str | None, unit: str, blank: str = NO_DATA) -> str:
    """A figure as the report prints it: '62.5%', '1,234', '3.2 pp', '24.5 days', 'c'."""
    if v is None:
        return blank
    if isinstance(v, str):
        return v
    if unit == "percent":
        return f"{v:.1f}%"
    if unit == "pp":
        return f"{v:.1f} pp"
    if unit == "per_1000":
        return f"{v:,.1f} per 1,000"
    if unit == "days":
        return f"{v:.0f} days" if float(v).is_integer() else f"{v:.1f} days"
    return f"{v:,.0f}"


def fmt_count(v: float | str | None) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else f"{v:,.0f}"


def fmt_n_of_d(n: float | str | None, d: float | str | None) -> str:
    """'25 of 40'; 'n = 29' for a median (a base but no numerator); blank with neither."""
    if n is None and d is None:
        return ""
    if n is None:
        return f"n = {fmt_count(d)}"
    return f"{fmt_count(n)} of {fmt_count(d) or '–'}"


def word(x: Any) -> str:
    """A label cell as text ('' for blank)."""
    return clean_text(x).strip()


def breakdown_label(code: str, spec: Spec) -> str:
    """Readable breakdown name: placement types and pupil groups by their spec labels."""
    if code in BREAKDOWN_TEXT:
        return BREAKDOWN_TEXT[code]
    for codes in spec.returns.codes.values():
        for c in codes:
            if c.code == code:
                return str(c.label)
    return code.replace("_", " ").capitalize()


def listed(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
