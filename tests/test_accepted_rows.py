"""Rows as insert parameters. Accepted sheet rows: many workbooks converted at once give the
values (and Python types) each workbook gives on its own, in the workbooks' order. Ledger
rows: field by field, as `dataclasses.asdict` gives them."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from transforms.findings import Cover, ParsedReturn
from transforms.store.accepted import LONG_COLUMN, accepted_rows_of


def _starts(rows: list[tuple[int, str, str | None, int | None]], *, dates_as_text=False):
    """A typed LAC_Starts frame as the parser builds it (or, with `dates_as_text`, a frame
    whose date column is plain objects: a different shape, converted on its own)."""
    start = [None if d is None else pd.Timestamp(d) for _, _, d, _ in rows]
    return pd.DataFrame(
        {
            "excel_row": pd.array([r for r, _, _, _ in rows], dtype="int64"),
            "child_ref": pd.array([c for _, c, _, _ in rows], dtype="string"),
            "start_date": pd.Series(start, dtype=object if dates_as_text else "datetime64[ns]"),
            "age_at_start": pd.array([a for _, _, _, a in rows], dtype="Int64"),
        }
    )


def _workbook(submitter: str, frame: pd.DataFrame) -> ParsedReturn:
    cover = Cover(
        submitter=submitter,
        quarter_end=dt.date(2022, 6, 30),
        date_completed=dt.date(2022, 7, 14),
    )
    return ParsedReturn(file_name=f"{submitter}.xlsx", cover=cover, sheets={"LAC_Starts": frame})


def _row(sha: str, submitter: str, excel_row: int, child: str, start, age) -> dict[str, object]:
    return {
        "sha256": sha,
        "submitter": submitter,
        "quarter_end": dt.date(2022, 6, 30),
        "date_completed": dt.date(2022, 7, 14),
        "excel_row": excel_row,
        "child_ref": child,
        "start_date": start,
        "age_at_start": age,
    }


def test_rows_of_many_workbooks_in_order_with_plain_values():
    a = _workbook("ABC", _starts([(5, "C1", "2022-04-02", 7), (6, "C2", None, None)]))
    empty = _workbook("EMP", _starts([]))
    b = _workbook("DEF", _starts([(5, "C3", "2022-05-09", 12)], dates_as_text=True))
    c = _workbook("GHI", _starts([(7, "C4", "2022-06-01", 3)]))
    rows = accepted_rows_of([("a", a), ("e", empty), ("b", b), ("c", c)])
    assert list(rows) == ["LAC_Starts"]  # an empty sheet gives no rows
    assert rows["LAC_Starts"] == [
        _row("a", "ABC", 5, "C1", dt.date(2022, 4, 2), 7),
        _row("a", "ABC", 6, "C2", None, None),
        _row("b", "DEF", 5, "C3", pd.Timestamp("2022-05-09"), 12),
        _row("c", "GHI", 7, "C4", dt.date(2022, 6, 1), 3),
    ]
    # plain Python values for the driver: dates not Timestamps, ints not numpy ints
    first = rows["LAC_Starts"][0]
    assert type(first["start_date"]) is dt.date and type(first["age_at_start"]) is int
    assert type(first["excel_row"]) is int and type(first["child_ref"]) is str


def test_rows_of_many_workbooks_equal_each_converted_alone():
    books = [
        ("a", _workbook("ABC", _starts([(5, "C1", "2022-04-02", 7), (6, "C2", None, None)]))),
        ("b", _workbook("DEF", _starts([(5, "C3", None, 12)], dates_as_text=True))),
        ("c", _workbook("GHI", _starts([(7, "C4", "2022-06-01", None)]))),
    ]
    together = accepted_rows_of(books)["LAC_Starts"]
    alone = [row for book in books for row in accepted_rows_of([book])["LAC_Starts"]]
    assert together == alone
    assert [[type(v) for v in r.values()] for r in together] == [
        [type(v) for v in r.values()] for r in alone
    ]


def test_a_long_run_of_like_frames_gives_the_dates_each_frame_gives_alone():
    """Past `LONG_COLUMN` values a datetime column is converted another way (`.dt.date`):
    the same dates (time of day dropped, missing as None) and the same Python types."""
    days = ["2022-04-02 13:45", None, "1969-12-31 23:59", "1900-02-28", "2022-06-30 00:00:01"]
    books = [
        (
            f"s{i}",
            _workbook(
                f"P{i:02d}", _starts([(5 + k, f"C{i}-{k}", days[(i + k) % 5], i) for k in range(3)])
            ),
        )
        for i in range(30)
    ]
    together = accepted_rows_of(books)["LAC_Starts"]
    assert len(together) == 90 > LONG_COLUMN  # one run: the long way was taken
    alone = [row for book in books for row in accepted_rows_of([book])["LAC_Starts"]]
    assert together == alone
    assert [type(r["start_date"]) for r in together] == [type(r["start_date"]) for r in alone]
    # workbook 0 has days 0, 1, 2; workbook 1 starts with day 1 (missing)
    first = [r["start_date"] for r in together[:4]]
    assert first == [dt.date(2022, 4, 2), None, dt.date(1969, 12, 31), None]


def test_a_ledger_row_gives_the_insert_parameters_asdict_gives():
    """`ledger.row_of` (field by field, no deep copy) stands in for `dataclasses.asdict`."""
    import dataclasses

    from transforms.intake.ledgering import SubmissionRow
    from transforms.store.ledger import row_of

    row = SubmissionRow(
        sha256="a" * 64,
        seq=3,
        submitter="CSW",
        quarter_end=dt.date(2020, 9, 30),
        date_completed=None,
        status="accepted",
        errors=0,
        warnings=2,
        late=True,
        revision=False,
        processed_at=dt.datetime(2022, 11, 15, 12, tzinfo=dt.UTC),
        superseded_by=None,
    )
    assert row_of(row) == dataclasses.asdict(row)
    assert list(row_of(row)) == [f.name for f in dataclasses.fields(row)]
