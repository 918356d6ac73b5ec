"""Quarter arithmetic and labels (returns.md §1)."""

from __future__ import annotations

import datetime as dt

import pytest

from transforms.quarters import (
    due_date,
    is_late,
    latest_due_quarter,
    parse_quarter,
    quarter_label,
    quarter_range,
    shift_quarters,
)

D = dt.date


@pytest.mark.parametrize(
    "qe,label",
    [
        (D(2020, 9, 30), "Quarter 2 2020/21 (July to September 2020)"),
        (D(2020, 6, 30), "Quarter 1 2020/21 (April to June 2020)"),
        (D(2020, 12, 31), "Quarter 3 2020/21 (October to December 2020)"),
        (D(2021, 3, 31), "Quarter 4 2020/21 (January to March 2021)"),
    ],
)
def test_financial_year_labels(qe, label):
    assert quarter_label(qe) == label


@pytest.mark.parametrize("text", ["2020-09-29", "2020-02-29", "30/09/2020", "2020-13-31", ""])
def test_only_quarter_ends_parse(text):
    with pytest.raises(ValueError):
        parse_quarter(text)


@pytest.mark.parametrize("text", ["9999-12-31", "1899-12-31", "1999-12-31", "2100-03-31"])
def test_quarters_outside_plausible_years_are_refused_with_a_clear_error(text):
    with pytest.raises(ValueError, match="outside the years a Data Summary can cover"):
        parse_quarter(text)
    assert parse_quarter("2000-03-31") == D(2000, 3, 31)
    assert parse_quarter("2099-12-31") == D(2099, 12, 31)


def test_run_quarter_out_of_range_is_a_usage_error_not_a_traceback(capsys):
    from datasummary.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["run", "--quarter", "9999-12-31"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "outside the years a Data Summary can cover" in err and "Traceback" not in err


def test_shift_and_range():
    assert shift_quarters(D(2020, 3, 31), -1) == D(2019, 12, 31)
    assert shift_quarters(D(2019, 9, 30), 4) == D(2020, 9, 30)
    assert len(quarter_range(D(2019, 9, 30), D(2022, 9, 30))) == 13


def test_late_is_after_the_end_of_the_due_date_in_london():
    qe = D(2021, 3, 31)
    assert due_date(qe) == D(2021, 4, 21)
    # 23:30 UTC on 21 April is 00:30 BST on 22 April: late.
    assert is_late(qe, dt.datetime(2021, 4, 21, 23, 30, tzinfo=dt.UTC))
    assert not is_late(qe, dt.datetime(2021, 4, 21, 22, 30, tzinfo=dt.UTC))


def test_latest_due_quarter():
    assert latest_due_quarter(D(2026, 10, 21)) == D(2026, 6, 30)
    assert latest_due_quarter(D(2026, 10, 22)) == D(2026, 9, 30)
    assert latest_due_quarter(D(2026, 1, 5)) == D(2025, 9, 30)
