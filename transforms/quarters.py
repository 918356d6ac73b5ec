"""Reporting periods: quarter-end dates, their labels and deadlines (returns.md §1).

A quarter is identified by its quarter-end date. Labels follow Scottish local-government
financial years (Q1 = April–June), so 2020-09-30 is "Quarter 2 2020/21 (July to September
2020)".
"""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

QUARTER_END_MONTHS = (3, 6, 9, 12)
LONDON = ZoneInfo("Europe/London")
# The years a Data Summary can plausibly cover: a typo (1899, 9999) is an error, not a report
# of empty quarters or a date overflow deep inside a run.
FIRST_YEAR, LAST_YEAR = 2000, 2099


def london_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Aberdeen of `moment`: the date an issued report carries."""
    return moment.astimezone(LONDON).date()


def is_quarter_end(d: dt.date) -> bool:
    """True for 31 March, 30 June, 30 September and 31 December."""
    return d.month in QUARTER_END_MONTHS and d.day == calendar.monthrange(d.year, d.month)[1]


def parse_quarter(text: str) -> dt.date:
    """The quarter-end date in ISO text, or ValueError saying what a quarter end is."""
    try:
        d = dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(
            f"{text!r} is not a date in the form YYYY-MM-DD (for example 2020-09-30)"
        ) from exc
    if not is_quarter_end(d):
        raise ValueError(
            f"{text} is not a quarter end: use 31 March, 30 June, 30 September or 31 December"
        )
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        raise ValueError(
            f"{text} is outside the years a Data Summary can cover "
            f"({FIRST_YEAR} to {LAST_YEAR}): check the year"
        )
    return d


def quarter_end_for(d: dt.date) -> dt.date:
    """The end of the quarter containing `d`."""
    month = ((d.month - 1) // 3 + 1) * 3
    return dt.date(d.year, month, calendar.monthrange(d.year, month)[1])


def quarter_start(qe: dt.date) -> dt.date:
    """The first day of the quarter ending `qe`."""
    return dt.date(qe.year, qe.month - 2, 1)


def shift_quarters(qe: dt.date, n: int) -> dt.date:
    """The quarter end `n` quarters after `qe` (negative: before)."""
    months = qe.year * 12 + (qe.month - 1) + 3 * n
    year, month = divmod(months, 12)
    month += 1
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def previous_quarter(qe: dt.date) -> dt.date:
    """The quarter end before `qe`."""
    return shift_quarters(qe, -1)


def quarter_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every quarter end from `first` to `last` inclusive."""
    out, q = [], quarter_end_for(first)
    while q <= last:
        out.append(q)
        q = shift_quarters(q, 1)
    return out


def due_date(qe: dt.date, deadline_days: int = 21) -> dt.date:
    """The last day a return for quarter `qe` is on time."""
    return qe + dt.timedelta(days=deadline_days)


def is_late(qe: dt.date, first_seen: dt.datetime, deadline_days: int = 21) -> bool:
    """Whether a workbook first seen at `first_seen` is after the end of its due date (London)."""
    seen = first_seen if first_seen.tzinfo else first_seen.replace(tzinfo=dt.UTC)
    return london_date(seen) > due_date(qe, deadline_days)


def latest_due_quarter(today: dt.date, deadline_days: int = 21) -> dt.date:
    """The last quarter whose deadline has passed by `today`."""
    q = previous_quarter(quarter_end_for(today))
    while due_date(q, deadline_days) >= today:
        q = previous_quarter(q)
    return q


def financial_quarter(qe: dt.date) -> tuple[int, str]:
    """(quarter number 1–4, financial year 'YYYY/YY') for a quarter end."""
    number = {6: 1, 9: 2, 12: 3, 3: 4}[qe.month]
    start = qe.year if qe.month >= 4 else qe.year - 1
    return number, f"{start}/{(start + 1) % 100:02d}"


def quarter_label(qe: dt.date) -> str:
    """'Quarter 2 2020/21 (July to September 2020)'."""
    number, fy = financial_quarter(qe)
    start = quarter_start(qe)
    return (
        f"Quarter {number} {fy} "
        f"({calendar.month_name[start.month]} to {calendar.month_name[qe.month]} {qe.year})"
    )


def quarter_short(qe: dt.date) -> str:
    """'Q2 2020/21', for chart axes and table headers."""
    number, fy = financial_quarter(qe)
    return f"Q{number} {fy}"
