"""Targets, trajectories, RAG, trends and run-chart signals (measures.md §4).

Pure functions over the measures frame of `transforms.measures.figures`. The rules are the
partnership's; every threshold comes from `spec/measures.yaml` (`defaults`, per-measure
`tolerance`, `baseline_quarter`), and the choices the spec leaves open are documented in
docs/measures.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from transforms.atomic import atomic_write_text
from transforms.measures.figures import ALL, compute_measures
from transforms.quarters import quarter_range, shift_quarters
from transforms.spec import MeasureDef, Spec

GREEN, AMBER, RED, NOT_RATED = "Green", "Amber", "Red", "Not rated"
REASON_SMALL_BASE = "small base"
REASON_BEFORE_BASELINE = "before baseline"
EPS = 1e-9  # float noise allowance when comparing with a target or threshold

CSV_COLUMNS = [
    "measure_id",
    "quarter_end",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target",
    "trajectory",
    "rag",
    "trend",
    "trend_year",
    "signal",
    "excluded",
    "pending",
    "reason",
]


# ------------------------------------------------------------------ targets and trajectory
def target_in_force(m: MeasureDef, quarter_end: dt.date) -> float | None:
    """First milestone due on or after the quarter end (the last once all have passed),
    or the standing target; None for a measure without a target."""
    if m.targets:
        points = sorted(m.targets, key=lambda t: t.date)
        for t in points:
            if t.date >= quarter_end:
                return t.value
        return points[-1].value
    return m.standing_target


def trajectory_at(
    m: MeasureDef, baseline: tuple[dt.date, float] | None, when: dt.date
) -> float | None:
    """The trajectory's value on `when` (calendar-day linear interpolation).

    Knots: (baseline date, baseline value), then every milestone dated after the baseline;
    a milestone dated exactly on the baseline date replaces the baseline knot, so the line
    passes through every milestone on or after the baseline. Flat at the last target after
    the last milestone (and from the baseline on, when every milestone is already past).
    Blank before the baseline. A standing target is flat everywhere.
    """
    if not m.targets:
        return m.standing_target
    if baseline is None or when < baseline[0]:
        return None
    points = sorted(m.targets, key=lambda t: t.date)
    base_date, base_value = baseline
    knots: list[tuple[dt.date, float]] = [(base_date, base_value)]
    for t in points:
        if t.date == base_date:
            knots[0] = (t.date, t.value)
        elif t.date > base_date:
            knots.append((t.date, t.value))
    if len(knots) == 1:  # every milestone on or before the baseline: flat at the last
        return points[-1].value
    if when >= knots[-1][0]:
        return knots[-1][1]
    for (d0, v0), (d1, v1) in zip(knots, knots[1:], strict=False):
        if d0 <= when <= d1:
            return v0 + (v1 - v0) * (when - d0).days / (d1 - d0).days
    return None  # pragma: no cover - unreachable: when lies between the first and last knot


def baseline_of(m: MeasureDef, headline: pd.DataFrame) -> tuple[dt.date, float] | None:
    """(date, value) of the baseline: `baseline_quarter` from the spec, else the first
    quarter whose `all` value is not blank. None when there is none (or it is blank)."""
    values = headline.dropna(subset=["value"]).sort_values("quarter_end")
    if m.baseline_quarter is not None:
        hit = values.loc[values["quarter_end"] == pd.Timestamp(m.baseline_quarter)]
        return (m.baseline_quarter, float(hit["value"].iloc[0])) if len(hit) else None
    if values.empty:
        return None
    first = values.iloc[0]
    return (first["quarter_end"].date(), float(first["value"]))


# ------------------------------------------------------------------ RAG
def rag_rating(
    value: float | None,
    reference: float | None,
    direction: str,
    tolerance: float,
    denominator: int | None,
    small_base: int,
) -> tuple[str, str | None]:
    """(RAG, reason). Not rated without a value or on a small base; ↓ compares reversed."""
    if value is None or pd.isna(value):
        return NOT_RATED, None
    if denominator is not None and not pd.isna(denominator) and denominator < small_base:
        return NOT_RATED, REASON_SMALL_BASE
    if reference is None or pd.isna(reference):
        return NOT_RATED, REASON_BEFORE_BASELINE
    better_by = value - reference if direction != "down" else reference - value
    if better_by >= -EPS:
        return GREEN, None
    if better_by >= -tolerance - EPS:
        return AMBER, None
    return RED, None


# ------------------------------------------------------------------ trend
def trend_label(old: float | None, new: float | None, m: MeasureDef, spec: Spec) -> str | None:
    """improving / stable / worsening (ctx: up / stable / down); None if either is blank."""
    if old is None or new is None or pd.isna(old) or pd.isna(new):
        return None
    if m.param("judge_absolute", False):
        old, new = abs(old), abs(new)
    change = new - old
    if m.unit in ("percent", "pp"):
        stable = abs(change) < spec.measures.defaults.stable_pp
    elif old == 0:
        stable = new == 0
    else:
        stable = abs(change) / abs(old) < spec.measures.defaults.stable_rel
    if stable:
        return "stable"
    if m.direction == "ctx":
        return "up" if change > 0 else "down"
    return "improving" if (change > 0) == (m.direction == "up") else "worsening"


# ------------------------------------------------------------------ run-chart signals
def has_shift(values: Sequence[float], length: int) -> bool:
    """`length` or more consecutive points on one side of the median; points on the median
    are skipped (they neither break nor count)."""
    med = float(np.median(values))
    run, side = 0, 0
    for v in values:
        s = (v > med) - (v < med)
        if s == 0:
            continue
        run = run + 1 if s == side else 1
        side = s
        if run >= length:
            return True
    return False


def has_trend(values: Sequence[float], length: int) -> bool:
    """`length` or more consecutive points each higher (or each lower) than the one before.

    Counted in points, not steps: 5 points = 4 successive rises. A point equal to the one
    before is skipped (neither breaks nor counts).
    """
    distinct: list[float] = []
    for v in values:
        if not distinct or v != distinct[-1]:
            distinct.append(v)
    run, direction = 1, 0
    for prev, cur in zip(distinct, distinct[1:], strict=False):
        d = 1 if cur > prev else -1
        run = run + 1 if d == direction else 2
        direction = d
        if run >= length:
            return True
    return False


def run_chart_signal(values: Sequence[float], spec: Spec) -> str | None:
    """'shift', 'trend', 'shift, trend' or None for a series (None under min_points)."""
    rc = spec.measures.defaults.run_chart
    if len(values) < rc.min_points:
        return None
    found = [
        name
        for name, hit in (
            ("shift", has_shift(values, rc.shift_length)),
            ("trend", has_trend(values, rc.trend_length)),
        )
        if hit
    ]
    return ", ".join(found) or None


# ------------------------------------------------------------------ putting it together
_Key = tuple[str, str, pd.Timestamp]  # (measure_id, breakdown, quarter_end)

# The columns add_status fills, in the order they are added to the frame.
STATUS_COLUMNS = (
    "target",
    "trajectory",
    "rag",
    "trend",
    "trend_year",
    "signal",
    "reason",
    "name",
    "action",
    "direction",
)


def _value(lookup: dict[_Key, Any], key: _Key) -> float | None:
    v = lookup.get(key)
    return None if v is None or pd.isna(v) else float(v)


@dataclass(frozen=True)
class _StatusInputs:
    """What every row's status is worked out from: the spec and the frame's own series."""

    spec: Spec
    defs: dict[str, MeasureDef]
    lookup: dict[_Key, Any]  # every row's value, for the trend against earlier quarters
    baselines: dict[str, tuple[dt.date, float] | None]
    series: dict[str, pd.DataFrame]  # headline quarter_end, value per measure, by quarter


def add_status(measures: pd.DataFrame, spec: Spec, report_quarter: dt.date) -> pd.DataFrame:
    """Add target, trajectory, rag, trend, trend_year and signal; refine reason.

    Rows after `report_quarter` are dropped. Target, trajectory and RAG go on `all` rows
    only; trend on every row (each breakdown against itself); signal on `all` rows.
    """
    frame = measures.loc[measures["quarter_end"] <= pd.Timestamp(report_quarter)].copy()
    defs = {m.id: m for m in spec.measures.measures}
    headline = frame.loc[frame["breakdown"] == ALL].dropna(subset=["value"])
    records: list[Any] = list(frame.itertuples(index=False))  # named tuples, one per row
    inputs = _StatusInputs(
        spec=spec,
        defs=defs,
        lookup={
            (str(r.measure_id), str(r.breakdown), pd.Timestamp(r.quarter_end)): r.value
            for r in records
        },
        baselines={
            str(mid): baseline_of(defs[str(mid)], g.loc[g["breakdown"] == ALL])
            for mid, g in frame.groupby("measure_id")
            if mid in defs
        },
        series={
            str(mid): g.sort_values("quarter_end")[["quarter_end", "value"]]
            for mid, g in headline.groupby("measure_id")
        },
    )
    rows = [_row_status(r, inputs) for r in records]
    for name in STATUS_COLUMNS:
        values = [row[name] for row in rows]
        if name in ("target", "trajectory"):
            frame[name] = pd.array(values, dtype="Float64").astype("float64")
        else:
            frame[name] = pd.Series(values, index=frame.index, dtype="str").where(
                pd.Series([v is not None for v in values], index=frame.index)
            )
    frame = frame.sort_values(["measure_id", "quarter_end", "breakdown"], kind="stable")
    extras = [c for c in frame.columns if c not in CSV_COLUMNS]
    return frame[CSV_COLUMNS + extras].reset_index(drop=True)


def _row_status(r: Any, inputs: _StatusInputs) -> dict[str, Any]:
    """One measures row's STATUS_COLUMNS values (None where there is none)."""
    spec = inputs.spec
    measure_id, breakdown = str(r.measure_id), str(r.breakdown)
    m = inputs.defs[measure_id]
    quarter_end = pd.Timestamp(r.quarter_end)
    qe = quarter_end.date()
    value = None if pd.isna(r.value) else float(r.value)
    reason = None if pd.isna(r.reason) else r.reason
    target = trajectory = rag = signal = None
    if breakdown == ALL:
        if m.has_target:
            target = target_in_force(m, qe)
            trajectory = trajectory_at(m, inputs.baselines.get(measure_id), qe)
            reference = trajectory if m.targets else m.standing_target
            den = None if pd.isna(r.denominator) else int(r.denominator)
            rag, rag_reason = rag_rating(
                value,
                reference,
                m.direction,
                spec.measures.tolerance(m),
                den,
                spec.measures.defaults.small_base,
            )
            reason = reason or rag_reason
        s = inputs.series.get(measure_id)
        if s is not None:
            upto = s.loc[s["quarter_end"] <= quarter_end, "value"]
            signal = run_chart_signal(upto.tolist(), spec)
    prev = _value(inputs.lookup, (measure_id, breakdown, pd.Timestamp(shift_quarters(qe, -1))))
    year = _value(inputs.lookup, (measure_id, breakdown, pd.Timestamp(shift_quarters(qe, -4))))
    return {
        "target": target,
        "trajectory": trajectory,
        "rag": rag,
        "trend": trend_label(prev, value, m, spec),
        "trend_year": trend_label(year, value, m, spec),
        "signal": signal,
        "reason": reason,
        "name": m.name,
        "action": m.action,
        "direction": m.direction,
    }


def milestone_results(measures: pd.DataFrame, spec: Spec) -> pd.DataFrame:
    """Each dated target milestone: met / not met (no tolerance), no data, or not yet due.

    A milestone is judged on the `all` value of the quarter ending on its date; ↓ measures
    meet it at or below the target. Quarters after the frame's last are not yet due.
    """
    last = measures["quarter_end"].max() if len(measures) else None
    rows = []
    for m in spec.measures.measures:
        for t in sorted(m.targets, key=lambda t: t.date):
            hit = measures.loc[
                (measures["measure_id"] == m.id)
                & (measures["breakdown"] == ALL)
                & (measures["quarter_end"] == pd.Timestamp(t.date))
            ]
            value = (
                None if hit.empty or pd.isna(hit["value"].iloc[0]) else float(hit["value"].iloc[0])
            )
            if last is None or pd.Timestamp(t.date) > last:
                result = "not yet due"
            elif value is None:
                result = "no data"
            else:
                ok = value >= t.value - EPS if m.direction != "down" else value <= t.value + EPS
                result = "met" if ok else "not met"
            rows.append(
                {
                    "measure_id": m.id,
                    "milestone_date": t.date,
                    "target": t.value,
                    "value": value,
                    "result": result,
                }
            )
    return pd.DataFrame(rows, columns=["measure_id", "milestone_date", "target", "value", "result"])


def measures_table(
    data: Mapping[str, pd.DataFrame], spec: Spec, report_quarter: dt.date, first_quarter: dt.date
) -> pd.DataFrame:
    """compute_measures for every quarter from `first_quarter` to the report, then status."""
    quarters = quarter_range(first_quarter, report_quarter)
    return add_status(compute_measures(data, spec, quarters), spec, report_quarter)


# ------------------------------------------------------------------ measures.csv
def _csv_number(v: Any) -> str:
    if v is None or pd.isna(v):
        return ""
    f = float(v)
    return str(int(f)) if f.is_integer() and abs(f) < 2**53 else repr(f)


def measures_csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The measures.csv text: ISO quarter ends, blanks empty (never 0), numbers unrounded."""
    out = pd.DataFrame(index=frame.index)
    for col in CSV_COLUMNS:
        s = frame[col]
        if col == "quarter_end":
            out[col] = pd.to_datetime(s).dt.strftime("%Y-%m-%d")
        elif col in (
            "numerator",
            "denominator",
            "value",
            "target",
            "trajectory",
            "excluded",
            "pending",
        ):
            out[col] = [_csv_number(v) for v in s]
        else:
            out[col] = ["" if v is None or pd.isna(v) else str(v) for v in s]
    return out


def write_measures_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write measures.csv atomically (a crash leaves the previous file intact)."""
    text = measures_csv_frame(frame).to_csv(index=False, lineterminator="\n")
    return atomic_write_text(Path(path), text)
