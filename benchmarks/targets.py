"""The performance targets, as data, and how each pass of a run measures against them.

Every ratio is taken within one pass (a stage against the read floor measured in the same
pass, minutes apart on the same machine), so the machine's drift between passes cancels; a
target is met only when every pass meets it, not the best one.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    """One target: `measure` compared with `limit` by `op` ("<=" or ">=")."""

    measure: str
    op: str
    limit: float
    says: str

    def met(self, value: float | None) -> bool | None:
        if value is None:
            return None
        compare = {"<=": operator.le, ">=": operator.ge}[self.op]
        return bool(compare(value, self.limit))


TARGETS = (
    Target("cold_intake_over_read_floor", "<=", 2.0, "cold intake ≤ 2 × read floor"),
    Target("quarterly_13_over_read_floor", "<=", 0.7, "quarterly stage (13 q) ≤ 0.7 × read floor"),
    Target("rerun_over_cold", "<=", 0.02, "re-run ≤ 2 % of cold intake"),
    Target("quarterly_history_over_13", "<=", 1.5, "quarterly, 40 q ≤ 1.5 × 13 q"),
    Target("intake_peak_rss_mib", "<=", 1024.0, "intake peak memory ≤ 1 GiB"),
    Target("max_drop_to_feedback_s", "<=", 30.0, "drop to feedback ≤ 30 s"),
    Target("national_1_over_stage_sum", "<=", 1.2, "national, 1 worker ≤ 1.2 × sum of stages"),
    Target("national_speedup", ">=", 1.8, "national, 2 workers ≥ 1.8 × faster than 1"),
    Target("help_heavy_imports", "<=", 0.0, "`--help` imports no heavy library"),
)


def pass_ratios(passes: dict[str, list[dict[str, Any]]]) -> list[dict[str, float]]:
    """The within-pass ratios of each pass of the intake and quarterly sequence."""
    out = []
    for i in range(len(passes["read_floor"])):
        floor = passes["read_floor"][i]["wall_s"]
        cold = passes["intake_cold"][i]["wall_s"]
        q13 = passes["quarterly_13"][i]["wall_s"]
        out.append(
            {
                "cold_intake_over_read_floor": cold / floor,
                "quarterly_13_over_read_floor": q13 / floor,
                "rerun_over_cold": passes["intake_rerun"][i]["wall_s"] / cold,
                "quarterly_history_over_13": passes["quarterly_history"][i]["wall_s"] / q13,
                "intake_peak_rss_mib": max(
                    passes["intake_cold"][i]["peak_rss_mib"],
                    passes["intake_history"][i]["peak_rss_mib"],
                ),
            }
        )
    return out


def national_ratios(nat: dict[str, Any]) -> dict[str, list[float] | None]:
    """The national targets' measures, one per pair of runs (`benchmarks.run.national`):
    the 1-worker run against the partnerships' stages one by one, and the speed-up of the
    many-worker run over the 1-worker run of the same pair."""
    pairs = nat.get("pairs") or []
    ones = [p["1"] for p in pairs if "1" in p]
    speedups = [p["1"] / v for p in pairs for k, v in p.items() if k != "1" and "1" in p]
    return {
        "national_1_over_stage_sum": [o / nat["stage_sum_s"] for o in ones] or None,
        "national_speedup": speedups or None,
    }


def judged(per_pass: list[dict[str, float]], once: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with its value in every pass (or in each of its own measurements, a
    number or a list of them) and whether it holds in all of them."""
    rows = []
    for t in TARGETS:
        values = [p[t.measure] for p in per_pass if t.measure in p]
        measured = once.get(t.measure)
        if not values and measured is not None:
            values = list(measured) if isinstance(measured, list) else [measured]
        verdicts = [t.met(v) for v in values]
        rows.append(
            {
                "target": t.says,
                "measure": t.measure,
                "op": t.op,
                "limit": t.limit,
                "values": [round(v, 4) for v in values],
                "met": bool(verdicts) and all(verdicts),
                "measured": bool(values),
            }
        )
    return rows
