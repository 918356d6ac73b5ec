"""Targets, trajectory, RAG, trend and run-chart signals (measures.md §4)."""

from __future__ import annotations

import csv
import datetime as dt

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from transforms.measures.figures import BASE_COLUMNS, typed_measures
from transforms.measures.targets import (
    CSV_COLUMNS,
    add_status,
    has_shift,
    has_trend,
    measures_table,
    milestone_results,
    rag_rating,
    run_chart_signal,
    target_in_force,
    trajectory_at,
    trend_label,
    write_measures_csv,
)
from transforms.spec import TargetPoint, default_spec

SPEC = default_spec()
H01 = SPEC.measures.measure("H01")
D = dt.date


def frame_of(rows: list[dict]) -> pd.DataFrame:
    """A measures frame from partial rows (unit filled from the spec)."""
    full = []
    for r in rows:
        base = dict.fromkeys(BASE_COLUMNS)
        base.update(breakdown="all", unit=SPEC.measures.measure(r["measure_id"]).unit)
        base.update(r)
        full.append(base)
    return typed_measures(pd.DataFrame(full, columns=BASE_COLUMNS))


def series(
    mid: str,
    values: list[tuple[dt.date, float | None, int | None]],
    reason_blank: str = "return not received",
) -> list[dict]:
    return [
        {
            "measure_id": mid,
            "quarter_end": q,
            "value": v,
            "numerator": None,
            "denominator": d,
            "reason": None if v is not None else reason_blank,
        }
        for q, v, d in values
    ]


def get(frame: pd.DataFrame, mid: str, q: dt.date, breakdown: str = "all") -> pd.Series:
    hit = frame.loc[
        (frame["measure_id"] == mid)
        & (frame["quarter_end"] == pd.Timestamp(q))
        & (frame["breakdown"] == breakdown)
    ]
    assert len(hit) == 1
    return hit.iloc[0]


# ------------------------------------------------------------------ target and trajectory
def test_target_in_force():
    assert target_in_force(H01, D(2020, 6, 30)) == 50.0
    assert target_in_force(H01, D(2020, 9, 30)) == 50.0  # due on the quarter end
    assert target_in_force(H01, D(2020, 12, 31)) == 75.0
    assert target_in_force(H01, D(2022, 9, 30)) == 90.0
    assert target_in_force(H01, D(2023, 3, 31)) == 90.0  # all passed: the last
    assert target_in_force(SPEC.measures.measure("M01"), D(2019, 6, 30)) == 90.0
    assert target_in_force(SPEC.measures.measure("C01"), D(2020, 6, 30)) is None


def test_trajectory_hand_worked():
    base = (D(2019, 12, 31), 20.0)
    assert trajectory_at(H01, base, D(2019, 9, 30)) is None  # before baseline
    assert trajectory_at(H01, base, D(2019, 12, 31)) == 20.0
    # 2019-12-31 -> 2020-06-30 is 182 days of 274 to 2020-09-30
    assert trajectory_at(H01, base, D(2020, 6, 30)) == pytest.approx(20 + 30 * 182 / 274)
    assert trajectory_at(H01, base, D(2020, 9, 30)) == 50.0
    # 2020-09-30 -> 2021-03-31 is 182 days of 365
    assert trajectory_at(H01, base, D(2021, 3, 31)) == pytest.approx(50 + 25 * 182 / 365)
    assert trajectory_at(H01, base, D(2022, 9, 30)) == 90.0
    assert trajectory_at(H01, base, D(2024, 3, 31)) == 90.0  # flat after the last
    assert trajectory_at(H01, None, D(2020, 9, 30)) is None
    # baseline after every milestone: flat at the last target
    assert trajectory_at(H01, (D(2023, 3, 31), 70.0), D(2023, 6, 30)) == 90.0
    # M01 standing target is flat everywhere
    assert trajectory_at(SPEC.measures.measure("M01"), None, D(2019, 3, 31)) == 90.0


@settings(max_examples=200, deadline=None)
@given(
    base_offset=st.integers(min_value=-800, max_value=1500),
    base_value=st.floats(min_value=0, max_value=100),
    targets=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2000), st.floats(min_value=0, max_value=100)),
        min_size=1,
        max_size=4,
        unique_by=lambda t: t[0],
    ),
)
def test_trajectory_passes_through_every_milestone(base_offset, base_value, targets):
    start = D(2019, 1, 1)
    m = H01.model_copy(
        update={
            "targets": [TargetPoint(date=start + dt.timedelta(days=d), value=v) for d, v in targets]
        }
    )
    base_date = start + dt.timedelta(days=base_offset)
    base = (base_date, base_value)
    points = sorted(m.targets, key=lambda t: t.date)
    for t in points:
        if t.date >= base_date:
            assert trajectory_at(m, base, t.date) == pytest.approx(t.value)
    last = points[-1]
    later = max(last.date, base_date) + dt.timedelta(days=100)
    assert trajectory_at(m, base, later) == pytest.approx(last.value)
    assert trajectory_at(m, base, base_date - dt.timedelta(days=1)) is None
    # between knots the line stays within the range of its ends
    for a, b in zip(points, points[1:], strict=False):
        if a.date > base_date:
            mid = a.date + (b.date - a.date) / 2
            lo, hi = sorted([a.value, b.value])
            assert lo - 1e-9 <= trajectory_at(m, base, mid) <= hi + 1e-9


# ------------------------------------------------------------------ RAG
@pytest.mark.parametrize(
    ("value", "ref", "direction", "den", "expected"),
    [
        (50.0, 50.0, "up", 100, ("Green", None)),  # exactly on target
        (45.0, 50.0, "up", 100, ("Amber", None)),  # exactly at tolerance
        (44.9, 50.0, "up", 100, ("Red", None)),
        (60.0, 50.0, "up", 100, ("Green", None)),
        (55.0, 50.0, "down", 100, ("Amber", None)),  # lower is better
        (55.1, 50.0, "down", 100, ("Red", None)),
        (40.0, 50.0, "down", 100, ("Green", None)),
        (30.0, 50.0, "up", 9, ("Not rated", "small base")),
        (90.0, 50.0, "up", 9, ("Not rated", "small base")),
        (30.0, 50.0, "up", 10, ("Red", None)),
        (None, 50.0, "up", 100, ("Not rated", None)),
    ],
)
def test_rag_rating(value, ref, direction, den, expected):
    assert rag_rating(value, ref, direction, 5.0, den, 10) == expected


@settings(max_examples=200, deadline=None)
@given(
    value=st.floats(min_value=0, max_value=100),
    ref=st.floats(min_value=0, max_value=100),
    den=st.integers(min_value=0, max_value=9),
    direction=st.sampled_from(["up", "down"]),
)
def test_rag_never_rates_a_small_base(value, ref, direction, den):
    assert rag_rating(value, ref, direction, 5.0, den, 10) == ("Not rated", "small base")


def test_add_status_h01_series():
    rows = series(
        "H01",
        [
            (D(2019, 9, 30), None, None),  # not received: before baseline
            (D(2019, 12, 31), 20.0, 100),  # baseline
            (D(2020, 3, 31), None, None),  # a gap
            (D(2020, 6, 30), 40.0, 100),  # trajectory 39.93 -> Green
            (D(2020, 9, 30), 45.0, 100),  # milestone 50: exactly 5 below -> Amber
            (D(2020, 12, 31), 51.0, 100),  # trajectory 56.30 -> Red
            (D(2021, 3, 31), 60.0, 9),  # small base
        ],
    )
    rows.append(
        {
            "measure_id": "H01",
            "quarter_end": D(2020, 9, 30),
            "breakdown": "at_home",
            "value": 10.0,
            "numerator": 1,
            "denominator": 10,
        }
    )
    out = add_status(frame_of(rows), SPEC, D(2021, 3, 31))
    assert list(out.columns[: len(CSV_COLUMNS)]) == CSV_COLUMNS
    first = get(out, "H01", D(2019, 9, 30))
    assert pd.isna(first["trajectory"]) and first["target"] == 50.0
    assert first["rag"] == "Not rated" and first["reason"] == "return not received"
    assert pd.isna(first["trend"])
    base = get(out, "H01", D(2019, 12, 31))
    assert base["trajectory"] == 20.0 and base["rag"] == "Green"
    assert pd.isna(base["trend"])  # previous quarter blank
    assert get(out, "H01", D(2020, 6, 30))["rag"] == "Green"
    assert pd.isna(get(out, "H01", D(2020, 6, 30))["trend"])  # 2020-03-31 blank: no trend
    q = get(out, "H01", D(2020, 9, 30))
    assert (q["trajectory"], q["target"], q["rag"], q["trend"]) == (
        50.0,
        50.0,
        "Amber",
        "improving",
    )
    assert get(out, "H01", D(2020, 12, 31))["rag"] == "Red"
    assert get(out, "H01", D(2020, 12, 31))["target"] == 75.0
    assert get(out, "H01", D(2020, 12, 31))["trend_year"] == "improving"  # 20 -> 51
    small = get(out, "H01", D(2021, 3, 31))
    assert (small["rag"], small["reason"], small["value"]) == ("Not rated", "small base", 60.0)
    assert pd.isna(get(out, "H01", D(2021, 3, 31))["trend_year"])  # 2020-03-31 blank
    bd = get(out, "H01", D(2020, 9, 30), "at_home")
    assert pd.isna(bd["target"]) and pd.isna(bd["trajectory"]) and pd.isna(bd["rag"])
    # sorted by measure, quarter, breakdown
    keys = list(zip(out["measure_id"], out["quarter_end"], out["breakdown"], strict=True))
    assert keys == sorted(keys)


def test_baseline_quarter_from_spec_and_down_measure():
    c04 = SPEC.measures.measure("C04").model_copy(
        update={
            "targets": [TargetPoint(date=D(2020, 12, 31), value=10.0)],
            "baseline_quarter": D(2020, 6, 30),
            "tolerance": 2.0,
        }
    )
    spec = SPEC.model_copy(
        update={"measures": SPEC.measures.model_copy(update={"measures": [c04]})}
    )
    rows = series(
        "C04",
        [
            (D(2020, 3, 31), 30.0, 50),  # before the declared baseline
            (D(2020, 6, 30), 20.0, 50),  # baseline 20 -> 10 by 2020-12-31
            (D(2020, 9, 30), 16.0, 50),  # trajectory 20 - 10*92/184 = 15; 1 worse -> Amber
            (D(2020, 12, 31), 12.0, 50),  # target 10; exactly 2 worse -> Amber
            (D(2021, 3, 31), 12.5, 50),  # 2.5 worse -> Red
            (D(2021, 6, 30), 9.0, 50),  # better -> Green
        ],
    )
    out = add_status(frame_of(rows), spec, D(2021, 6, 30))
    before = get(out, "C04", D(2020, 3, 31))
    assert pd.isna(before["trajectory"]) and before["rag"] == "Not rated"
    assert before["reason"] == "before baseline"
    assert get(out, "C04", D(2020, 9, 30))["trajectory"] == pytest.approx(15.0)
    assert [
        get(out, "C04", q)["rag"]
        for q in (D(2020, 6, 30), D(2020, 9, 30), D(2020, 12, 31), D(2021, 3, 31), D(2021, 6, 30))
    ] == ["Green", "Amber", "Amber", "Red", "Green"]
    assert get(out, "C04", D(2020, 9, 30))["trend"] == "improving"  # 20 -> 16, down is good
    assert get(out, "C04", D(2021, 3, 31))["trend"] == "stable"  # 12 -> 12.5
    assert get(out, "C04", D(2021, 6, 30))["trend"] == "improving"


def test_rag_blank_without_target_and_standing_target():
    rows = series("C01", [(D(2020, 6, 30), 40.0, None)]) + series(
        "M01", [(D(2020, 6, 30), 86.0, 50), (D(2020, 9, 30), 90.0, 8)]
    )
    out = add_status(frame_of(rows), SPEC, D(2020, 9, 30))
    c01 = get(out, "C01", D(2020, 6, 30))
    assert pd.isna(c01["rag"]) and pd.isna(c01["target"]) and pd.isna(c01["trajectory"])
    m = get(out, "M01", D(2020, 6, 30))
    assert (m["target"], m["trajectory"], m["rag"]) == (90.0, 90.0, "Amber")
    assert get(out, "M01", D(2020, 9, 30))["rag"] == "Not rated"


# ------------------------------------------------------------------ trend
@pytest.mark.parametrize(
    ("mid", "old", "new", "expected"),
    [
        ("H01", 40.0, 40.9, "stable"),
        ("H01", 40.0, 41.0, "improving"),  # exactly 1 pp is a change
        ("H01", 41.0, 40.0, "worsening"),
        ("H01", 0.0, 0.0, "stable"),
        ("C04", 10.0, 12.0, "worsening"),  # down measure
        ("L01", 100.0, 104.0, "stable"),  # 4% relative
        ("L01", 100.0, 105.0, "up"),  # exactly 5% is a change; ctx
        ("L01", 100.0, 95.0, "down"),
        ("L01", 0.0, 0.0, "stable"),
        ("L01", 0.0, 1.0, "up"),  # from 0 to anything is a change
        ("L04", 100.0, 95.0, "worsening"),
        ("H03", 20.0, 19.0, "improving"),  # days, down: 5% relative
        ("H03", 20.0, 20.9, "stable"),
        ("G01", -8.0, 6.0, "improving"),  # judged on the absolute gap
        ("G01", 6.0, -7.5, "worsening"),
        ("G01", 6.0, -6.5, "stable"),
        ("G02", 150.0, 100.0, "improving"),
        ("H01", None, 40.0, None),
        ("H01", 40.0, None, None),
    ],
)
def test_trend_label(mid, old, new, expected):
    assert trend_label(old, new, SPEC.measures.measure(mid), SPEC) == expected


# ------------------------------------------------------------------ run-chart signals
def test_shift_and_trend_rules():
    assert has_trend([1, 2, 3, 4, 5], 5)
    assert has_trend([5, 4, 3, 2, 1], 5)
    assert not has_trend([1, 2, 3, 4, 1, 2, 3, 4], 5)  # 4 points only (5 = 4 rises)
    assert has_trend([1, 2, 2, 3, 4, 5], 5)  # equal neighbour skipped
    assert not has_trend([1, 2, 2, 3, 4, 4, 1], 5)
    # median 5: the 5 between two runs of 2s neither breaks nor counts
    assert has_shift([2, 2, 2, 5, 2, 2, 2, 9, 9, 9, 9, 5, 5], 6)
    assert not has_shift([2, 2, 2, 9, 2, 2, 2, 9, 9, 9, 5, 5, 5], 6)
    assert not has_shift([1, 2, 3, 4, 5, 6, 7, 8], 6)


def test_run_chart_signal_needs_eight_points():
    assert run_chart_signal([1, 2, 3, 4, 5, 6, 7], SPEC) is None
    assert run_chart_signal([1, 2, 3, 4, 5, 6, 7, 8], SPEC) == "trend"
    assert run_chart_signal([3, 3, 3, 3, 3, 3, 8, 9, 10, 11, 12, 13], SPEC) == "shift, trend"
    assert run_chart_signal([3, 9, 3, 9, 3, 9, 3, 9], SPEC) is None
    assert run_chart_signal([3, 3, 3, 3, 3, 3, 8, 9, 10, 11], SPEC) == "trend"  # median 3


def test_signal_in_frame_skips_blank_quarters():
    quarters = [
        D(2019, 3, 31),
        D(2019, 6, 30),
        D(2019, 9, 30),
        D(2019, 12, 31),
        D(2020, 3, 31),
        D(2020, 6, 30),
        D(2020, 9, 30),
        D(2020, 12, 31),
        D(2021, 3, 31),
        D(2021, 6, 30),
    ]
    values = [10.0, 20.0, None, 30.0, 40.0, 50.0, None, 45.0, 47.0, 44.0]
    rows = series(
        "C02",
        [(q, v, 100 if v is not None else None) for q, v in zip(quarters, values, strict=True)],
    )
    out = add_status(frame_of(rows), SPEC, D(2021, 6, 30))
    sig = {q: get(out, "C02", q)["signal"] for q in quarters}
    # points: 10 20 30 40 50 (a rising run of 5 points) ... the 8th non-blank is 2021-06-30
    assert all(pd.isna(sig[q]) for q in quarters[:-1])
    assert sig[D(2021, 6, 30)] == "trend"


# ------------------------------------------------------------------ milestones, table, csv
def test_milestone_results_no_tolerance():
    rows = series("H01", [(D(2020, 9, 30), 50.0, 100), (D(2021, 9, 30), 74.99, 100)]) + series(
        "S01", [(D(2020, 9, 30), None, None)]
    )
    res = milestone_results(frame_of(rows), SPEC)
    got = {(r.measure_id, r.milestone_date): r.result for r in res.itertuples()}
    assert got[("H01", D(2020, 9, 30))] == "met"
    assert got[("H01", D(2021, 9, 30))] == "not met"
    assert got[("H01", D(2022, 9, 30))] == "not yet due"
    assert got[("S01", D(2020, 9, 30))] == "no data"


def test_measures_table_with_no_data_and_csv(tmp_path):
    out = measures_table({}, SPEC, D(2020, 9, 30), D(2020, 6, 30))
    heads = out.loc[out["breakdown"] == "all"]
    assert heads["value"].isna().all()
    assert set(heads["reason"]) == {"return not received"}
    h01 = get(out, "H01", D(2020, 9, 30))
    assert h01["rag"] == "Not rated" and pd.isna(h01["trajectory"]) and h01["target"] == 50.0
    path = write_measures_csv(out, tmp_path / "q" / "measures.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == CSV_COLUMNS
    assert len(rows) == len(out)
    r = next(
        r
        for r in rows
        if r["measure_id"] == "H01" and r["quarter_end"] == "2020-09-30" and r["breakdown"] == "all"
    )
    assert (r["value"], r["numerator"], r["excluded"], r["target"]) == ("", "", "", "50")
    assert not list(tmp_path.joinpath("q").glob("*.tmp"))


def test_csv_numbers_unrounded(tmp_path):
    rows = series("A04", [(D(2020, 9, 30), 500 / 7, 7)])
    rows[0]["numerator"] = 5
    path = write_measures_csv(add_status(frame_of(rows), SPEC, D(2020, 9, 30)), tmp_path / "m.csv")
    r = next(csv.DictReader(path.open(encoding="utf-8")))
    assert float(r["value"]) == 500 / 7 and r["numerator"] == "5" and r["denominator"] == "7"
    assert r["quarter_end"] == "2020-09-30"
