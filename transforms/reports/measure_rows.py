"""The measures frame as the documents read it (dates as dates, figures as float, the
suppression symbol or None) and one measure's line for the quarter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from transforms.reports.formatting import (
    RAG_FILL,
    as_date,
    breakdown_label,
    cell,
    fmt_n_of_d,
    fmt_value,
    long_date,
    word,
)
from transforms.reports.inputs import ReportInputs
from transforms.spec import MeasureDef, Spec


def normalised_measures(inputs: ReportInputs) -> pd.DataFrame:
    """The measures frame with dates as dates and figures as float / symbol / None."""
    df = inputs.measures.copy()
    out = pd.DataFrame(
        {
            "measure_id": [word(x) for x in df["measure_id"]],
            "quarter_end": [as_date(x) for x in df["quarter_end"]],
            "breakdown": [word(x) or "all" for x in df["breakdown"]],
        }
    )
    for c in ("numerator", "denominator", "value", "target", "trajectory", "excluded", "pending"):
        vals: Any = df[c] if c in df else [None] * len(df)
        out[c] = pd.Series([cell(x, inputs.symbol) for x in vals], dtype=object)
    for c in ("unit", "rag", "trend", "trend_year", "signal", "reason"):
        vals = df[c] if c in df else [""] * len(df)
        out[c] = [word(x) for x in vals]
    out = out[out["quarter_end"].notna() & (out["quarter_end"] <= inputs.quarter_end)]
    return out.sort_values(["measure_id", "quarter_end", "breakdown"], ignore_index=True)


def unit_of(m: MeasureDef | None, row: Mapping[Any, Any] | None) -> str:
    if row and row.get("unit"):
        return str(row["unit"])
    return m.unit if m else "count"


def measure_def(inputs: ReportInputs, mid: str) -> MeasureDef | None:
    try:
        return inputs.spec.measures.measure(mid)
    except KeyError:
        return None


def measure_ids(inputs: ReportInputs, ms: pd.DataFrame) -> list[str]:
    """Spec measures in spec order, then any measure the frame has that the spec does not."""
    ids = [m.id for m in inputs.spec.measures.measures]
    return ids + sorted(set(ms["measure_id"]) - set(ids))


def row_at(ms: pd.DataFrame, mid: str, q: dt.date, breakdown: str = "all") -> dict[str, Any] | None:
    hit = ms[(ms["measure_id"] == mid) & (ms["quarter_end"] == q) & (ms["breakdown"] == breakdown)]
    return cast(dict[str, Any], hit.iloc[0].to_dict()) if len(hit) else None


def _target_text(m: MeasureDef | None, row: dict[str, Any] | None, q: dt.date) -> str:
    """'trajectory 55.4%; target 75.0% by 30 September 2021', or the standing target."""
    unit = unit_of(m, row)
    parts = []
    traj = row.get("trajectory") if row else None
    target = row.get("target") if row else None
    if m is not None and m.targets:
        if traj is not None:
            parts.append(f"trajectory {fmt_value(traj, unit)}")
        due = next((t.date for t in m.targets if t.date >= q), m.targets[-1].date)
        tv = target if target is not None else next(t.value for t in m.targets if t.date == due)
        parts.append(f"target {fmt_value(tv, unit)} by {long_date(due)}")
    elif m is not None and m.standing_target is not None:
        parts.append(f"target {fmt_value(m.standing_target, unit)}")
    elif target is not None:
        parts.append(f"target {fmt_value(target, unit)}")
    return "; ".join(parts) or "–"


def measure_row(inputs: ReportInputs, ms: pd.DataFrame, mid: str) -> dict[str, str]:
    """One measure's line for the quarter: value, n/N, target, RAG (word and fill), trend."""
    m = measure_def(inputs, mid)
    row = row_at(ms, mid, inputs.quarter_end)
    unit = unit_of(m, row)
    rag = row["rag"] if row else ""
    reason = (row or {}).get("reason") or ("" if row else "no data for this quarter")
    value = fmt_value(row["value"] if row else None, unit)
    return {
        "id": mid,
        "name": m.name if m else mid,
        "label": f"{mid} {m.name if m else ''}".strip(),
        "value": value,
        "n_of_d": fmt_n_of_d(row["numerator"], row["denominator"]) if row else "",
        "target": _target_text(m, row, inputs.quarter_end),
        "rag": rag or ("–" if not (m and m.has_target) else "Not rated"),
        "rag_fill": RAG_FILL.get(rag, "FFFFFF"),
        "trend": (row["trend"] if row else "").capitalize() or "–",
        "trend_year": (row["trend_year"] if row else "").capitalize() or "–",
        "note": reason,
    }


def breakdown_rows(inputs: ReportInputs, ms: pd.DataFrame, ids: list[str]) -> list[dict[str, str]]:
    """The quarter's breakdown rows for these measures."""
    q = ms[
        (ms["quarter_end"] == inputs.quarter_end)
        & (ms["breakdown"] != "all")
        & ms["measure_id"].isin(ids)
    ]
    out = []
    for mid in ids:
        m = measure_def(inputs, mid)
        for rec in q[q["measure_id"] == mid].to_dict("records"):
            unit = unit_of(m, rec)
            out.append(
                {
                    "measure": mid,
                    "breakdown": breakdown_label(rec["breakdown"], inputs.spec),
                    "value": fmt_value(rec["value"], unit),
                    "n_of_d": fmt_n_of_d(rec["numerator"], rec["denominator"]),
                }
            )
    return out


def rule_texts(spec: Spec) -> dict[str, str]:
    """The rules explained in words, every number from the spec (tolerance, small base,
    run-chart rules), so changing `spec/measures.yaml` changes the published explanation."""
    d = spec.measures.defaults
    rc = d.run_chart
    tol = f"{d.tolerance_pp:g} percentage point{'' if d.tolerance_pp == 1 else 's'}"
    shift = f"a shift ({rc.shift_length} or more quarters on one side of the median)"
    trend = f"a trend ({rc.trend_length} or more quarters each rising or each falling)"
    return {
        "tolerance": tol,
        "small_base": f"under {d.small_base}",
        "shift": shift,
        "trend": trend,
        "min_points": f"{rc.min_points} or more",
        "rag": (
            "RAG compares the quarter's value with the trajectory where there is one, else the "
            "standing target: Green at or better; Amber worse by no more than the tolerance "
            f"({tol} unless stated); Red worse by more; Not rated when there is no value or "
            f"the denominator is under {d.small_base}."
        ),
        "signal": (
            f"Signal: run-chart rules ({shift}; {trend}), once {rc.min_points} or more "
            "quarters have a value."
        ),
    }
