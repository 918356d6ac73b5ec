"""When the scheduled runs happen, derived from the return deadline (returns.yaml `periods`).

Nothing here is hard-coded to day 22: the report runs the morning after the deadline and the
chaser a week before it and the morning after, whatever `deadline_days` says. Cron strings
are what Prefect stores (tests/test_schedule.py computes the instants they fire at
independently, across clock changes, and checks Prefect agrees).
"""

from __future__ import annotations

import datetime as dt

from transforms.quarters import QUARTER_END_MONTHS, due_date, quarter_end_for, shift_quarters

#: Years used to turn "days after a quarter end" into days of the month: 2023 is followed by a
#: leap February (31 Dec 2023 + n), 2021 is not; a day that differs cannot be one cron line.
_REFERENCE_YEARS = (2021, 2023)


def _run_dates(offset_days: int, year: int) -> list[dt.date]:
    """The dates `offset_days` after each quarter end of `year`."""
    ends = [quarter_end_for(dt.date(year, m, 1)) for m in QUARTER_END_MONTHS]
    return [qe + dt.timedelta(days=offset_days) for qe in ends]


def cron_strings(offset_days: int, hour: int, minute: int = 0) -> list[str]:
    """Cron lines firing at hh:mm local time `offset_days` after every quarter end.

    One line per distinct day of month (months joined by commas), e.g. offset 22 at 07:00 →
    ["0 7 22 1,4,7,10 *"]. Raises ValueError when leap years would move the day.
    """
    by_year = [
        sorted((d.month, d.day) for d in _run_dates(offset_days, y)) for y in _REFERENCE_YEARS
    ]
    if by_year[0] != by_year[1]:
        raise ValueError(
            f"{offset_days} days after a quarter end falls on a different day in "
            "leap years: choose another deadline or offset"
        )
    months_by_day: dict[int, list[int]] = {}
    for month, day in by_year[0]:
        months_by_day.setdefault(day, []).append(month)
    return [
        f"{minute} {hour} {day} {','.join(str(m) for m in sorted(months))} *"
        for day, months in sorted(months_by_day.items())
    ]


def report_offset(deadline_days: int) -> int:
    """The quarterly report runs the day after the deadline (returns due `deadline_days`)."""
    return deadline_days + 1


def chase_offsets(deadline_days: int, days_before: int = 7) -> list[int]:
    """The chaser runs `days_before` the deadline and the morning after it."""
    return [deadline_days - days_before, deadline_days + 1]


def chase_quarter(today: dt.date, deadline_days: int) -> dt.date:
    """The quarter whose deadline is nearest `today` (the one a reminder is about)."""
    here = quarter_end_for(today)
    candidates = [shift_quarters(here, k) for k in (-2, -1, 0)]
    return min(
        candidates, key=lambda q: (abs((due_date(q, deadline_days) - today).days), -q.toordinal())
    )
