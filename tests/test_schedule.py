"""Schedules derived from the deadline: cron lines, next run times, the clock change."""

from __future__ import annotations

import asyncio
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from transforms.quarters import quarter_end_for, shift_quarters
from transforms.schedule import (
    chase_offsets,
    chase_quarter,
    cron_strings,
    report_offset,
)

UTC = dt.UTC


def next_run_times(
    offset_days: int,
    hour: int,
    minute: int,
    after: dt.datetime,
    n: int = 4,
    timezone: str = "Europe/London",
) -> list[dt.datetime]:
    """The next `n` run instants (UTC) strictly after `after`, as the cron lines should fire.

    Worked out independently of the cron strings (plain `zoneinfo`): the truth they and
    Prefect are checked against.
    """
    tz = ZoneInfo(timezone)
    after_utc = after if after.tzinfo else after.replace(tzinfo=dt.UTC)
    q = shift_quarters(quarter_end_for(after_utc.date()), -2)
    out: list[dt.datetime] = []
    while len(out) < n:
        day = q + dt.timedelta(days=offset_days)
        local = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
        instant = local.astimezone(dt.UTC)
        if instant > after_utc:
            out.append(instant)
        q = shift_quarters(q, 1)
    return out


def test_report_cron_is_day_after_the_deadline():
    assert cron_strings(report_offset(21), 7) == ["0 7 22 1,4,7,10 *"]


def test_chase_crons_week_before_and_morning_after():
    lines = [c for off in chase_offsets(21) for c in cron_strings(off, 9)]
    assert lines == ["0 9 14 1,4,7,10 *", "0 9 22 1,4,7,10 *"]


def test_cron_follows_the_deadline_not_a_constant():
    # 30 days after 31 Mar is 30 Apr; after 30 Jun is 30 Jul: one line, day 30 / 31.
    assert cron_strings(30, 7) == ["0 7 30 1,4,7,10 *"]
    # 31 days: 1 May but 31 Jul, 31 Oct, 31 Jan -> two lines.
    assert cron_strings(31, 7) == ["0 7 1 5 *", "0 7 31 1,7,10 *"]
    # before the quarter end (a 5-day deadline chased 7 days early): 29 Mar, 28 Jun...
    assert cron_strings(-2, 9) == ["0 9 28 6,9 *", "0 9 29 3,12 *"]


def test_offset_moving_with_leap_years_is_refused():
    with pytest.raises(ValueError, match="leap"):
        cron_strings(60, 7)  # 31 Dec + 60 = 1 Mar, or 29 Feb in a leap year


def test_next_run_times_across_the_clock_change():
    after = dt.datetime(2026, 9, 1, tzinfo=UTC)
    runs = next_run_times(report_offset(21), 7, 0, after, n=3)
    assert runs == [
        dt.datetime(2026, 10, 22, 6, 0, tzinfo=UTC),  # BST: 07:00 London = 06:00 UTC
        dt.datetime(2027, 1, 22, 7, 0, tzinfo=UTC),  # GMT
        dt.datetime(2027, 4, 22, 6, 0, tzinfo=UTC),
    ]


def test_next_run_times_strictly_after():
    at = dt.datetime(2026, 10, 22, 6, 0, tzinfo=UTC)
    assert next_run_times(22, 7, 0, at, n=1) == [dt.datetime(2027, 1, 22, 7, 0, tzinfo=UTC)]


def test_prefect_agrees_with_our_next_run_times():
    """The cron line as Prefect's server evaluates it gives the same instants."""
    from prefect.server.schemas.schedules import CronSchedule

    after = dt.datetime(2026, 9, 1, tzinfo=UTC)
    sched = CronSchedule(cron=cron_strings(22, 7)[0], timezone="Europe/London")
    dates = asyncio.run(sched.get_dates(n=5, start=after))
    assert [d.astimezone(UTC) for d in dates] == next_run_times(22, 7, 0, after, n=5)


@pytest.mark.parametrize(
    ("today", "quarter"),
    [
        (dt.date(2026, 10, 14), dt.date(2026, 9, 30)),  # a week before the 21 Oct deadline
        (dt.date(2026, 10, 22), dt.date(2026, 9, 30)),  # the morning after
        (dt.date(2027, 1, 14), dt.date(2026, 12, 31)),
        (dt.date(2027, 1, 22), dt.date(2026, 12, 31)),
        (dt.date(2026, 4, 22), dt.date(2026, 3, 31)),
    ],
)
def test_chase_quarter(today, quarter):
    assert chase_quarter(today, 21) == quarter


def test_chase_quarter_short_deadline_before_quarter_end():
    # 5-day deadline: the reminder 7 days before falls on 29 March, about the March quarter.
    assert chase_quarter(dt.date(2027, 3, 29), 5) == dt.date(2027, 3, 31)
