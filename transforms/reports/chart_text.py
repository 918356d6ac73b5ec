"""A chart described in words: the alt text a screen reader speaks for a run chart.

It names the range, the latest value and status and every quarter's value, so the picture
can be read without seeing it (and without colour).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from transforms.quarters import quarter_short

if TYPE_CHECKING:
    from transforms.reports.charts import ChartSeries


def alt_text(s: ChartSeries) -> str:
    """The chart described in words: range, latest value and status, every quarter's value."""
    if not s.quarters:
        return f"{s.measure_id} {s.name}: no data."
    first, last_q = quarter_short(s.quarters[0]), quarter_short(s.quarters[-1])
    parts = [f"Line chart of {s.measure_id} {s.name}, {first} to {last_q}."]
    shown = [
        (q, v, lab, r)
        for q, v, lab, r in zip(s.quarters, s.values, s.labels, s.rags, strict=True)
        if v is not None
    ]
    if shown:
        q0, v0, l0, _ = shown[0]
        q1, v1, l1, r1 = shown[-1]
        if len(shown) > 1:
            verb = "rose" if v1 > v0 else "fell" if v1 < v0 else "was unchanged"
            parts.append(
                f"It {verb} from {l0} in {quarter_short(q0)} to {l1} in {quarter_short(q1)}."
            )
        else:
            parts.append(f"The only value shown is {l1} in {quarter_short(q1)}.")
        if r1:
            parts.append(f"Latest status: {r1}.")
        lo = min(shown, key=lambda t: t[1])
        hi = max(shown, key=lambda t: t[1])
        if len(shown) > 2:
            parts.append(
                f"Lowest {lo[2]} ({quarter_short(lo[0])}), highest {hi[2]} "
                f"({quarter_short(hi[0])})."
            )
    if s.trajectory and any(t is not None for t in s.trajectory):
        parts.append("A dashed line shows the trajectory towards the target.")
    if s.standing_target is not None:
        parts.append(f"A dashed line shows the {s.standing_target[1].lower()}.")
    for _, _, label in s.milestones:
        parts.append(f"Star marker: {label}.")
    if any(s.suppressed):
        parts.append(
            f"Quarters marked {s.symbol} are suppressed to protect confidentiality "
            "and are not plotted."
        )
    values = "; ".join(
        f"{quarter_short(q)} {lab}" for q, lab in zip(s.quarters, s.labels, strict=True)
    )
    parts.append(f"Values by quarter: {values}.")
    return " ".join(parts)
