"""The report's key messages and the run summary: sentences written from the quarter's
figures, the most important first, the same in the documents and the Prefect artifact."""

from __future__ import annotations

from typing import Any

import pandas as pd

from transforms.quarters import previous_quarter, quarter_label
from transforms.reports.formatting import (
    as_bool,
    as_date,
    clean_text,
    fmt_n_of_d,
    fmt_value,
    listed,
    long_date,
    word,
)
from transforms.reports.inputs import ReportInputs
from transforms.reports.measure_rows import (
    measure_def,
    measure_ids,
    normalised_measures,
    row_at,
    rule_texts,
    unit_of,
)
from transforms.reports.tables import target_milestone_rows

MAX_KEY_MESSAGES = 8


def _compare_word(v: float, ref: float, direction: str) -> str:
    if v == ref:
        return "level with"
    return "above" if v > ref else "below"


def measure_message(inputs: ReportInputs, ms: pd.DataFrame, mid: str) -> str | None:
    """One sentence for a measure with a target, from the quarter's figures."""
    m = measure_def(inputs, mid)
    row = row_at(ms, mid, inputs.quarter_end)
    if row is None or m is None:
        return None
    unit = unit_of(m, row)
    v, rag = row["value"], row["rag"]
    label = f"{mid} ({m.name})"
    if v is None:
        why = row["reason"] or "no data"
        return f"{label} has no value this quarter ({why})."
    n_of_d = fmt_n_of_d(row["numerator"], row["denominator"])
    figure = fmt_value(v, unit) + (f" ({n_of_d})" if n_of_d else "")
    if isinstance(v, str):
        return f"{label} is suppressed this quarter ({v}) to protect confidentiality" + (
            f"; status {rag}." if rag else "."
        )
    prev_row = row_at(ms, mid, previous_quarter(inputs.quarter_end))
    prev = prev_row["value"] if prev_row else None
    if isinstance(prev, float):
        verb = "rose to" if v > prev else "fell to" if v < prev else "was unchanged at"
    else:
        verb = "was"
    sentence = f"{label} {verb} {figure}"
    ref, ref_name = row["trajectory"], "trajectory"
    if not m.targets or not isinstance(ref, float):
        ref, ref_name = row["target"], "target"
    if isinstance(ref, float):
        sentence += f", {_compare_word(v, ref, m.direction)} the {fmt_value(ref, unit)} {ref_name}"
    if rag:
        sentence += (
            f" ({rag})"
            if rag != "Not rated"
            else " (not rated: " + (row["reason"] or "small base") + ")"
        )
    return sentence + "."


def returns_summary(inputs: ReportInputs) -> dict[str, Any]:
    """Counts of expected returns by outcome, and a sentence saying them."""
    ex = inputs.expected
    statuses = [word(s) for s in ex["status"]] if len(ex) else []
    expected = len(statuses)
    missing = [word(c) for c, s in zip(ex["code"], statuses, strict=True) if s == "missing"]
    rejected = [word(c) for c, s in zip(ex["code"], statuses, strict=True) if s == "rejected"]
    late = sum(as_bool(x) for x, s in zip(ex["late"], statuses, strict=True) if s != "missing")
    received = expected - len(missing)
    text = f"{received} of {expected} expected returns were received ({late} late"
    text += f", {len(rejected)} rejected)." if rejected else ")."
    if rejected:
        text += f" Rejected: {', '.join(rejected)}."
    if missing:
        text += f" Missing: {', '.join(missing)}."
    return {
        "expected": expected,
        "received": received,
        "late": late,
        "missing": len(missing),
        "rejected": len(rejected),
        "text": text,
    }


def _gap_text(v: float, ref: float, unit: str) -> str:
    """The distance from the reference in the measure's own unit ('2.8 percentage points')."""
    gap = abs(v - ref)
    if unit in ("percent", "pp"):
        return f"{gap:.1f} percentage points"
    return fmt_value(gap, unit)


def off_track_messages(inputs: ReportInputs, ms: pd.DataFrame) -> list[tuple[str, str]]:
    """(measure id, sentence) for each rated measure that is Red, then each Amber, with value,
    trajectory or target, and the gap."""
    out: dict[str, list[tuple[str, str]]] = {"Red": [], "Amber": []}
    for mid in measure_ids(inputs, ms):
        m = measure_def(inputs, mid)
        row = row_at(ms, mid, inputs.quarter_end)
        if m is None or not m.has_target or row is None or row["rag"] not in out:
            continue
        sentence = measure_message(inputs, ms, mid)
        if sentence is None:
            continue
        ref = row["trajectory"] if m.targets and isinstance(row["trajectory"], float) else None
        ref = ref if ref is not None else row["target"]
        if isinstance(row["value"], float) and isinstance(ref, float):
            gap = _gap_text(row["value"], ref, unit_of(m, row))
            sentence = sentence[:-1] + f", a gap of {gap}."
        out[row["rag"]].append((mid, sentence))
    return out["Red"] + out["Amber"]


def rag_count_message(inputs: ReportInputs, ms: pd.DataFrame) -> str | None:
    """'Of 12 measures with targets: 3 Red, 2 Amber, 6 Green and 1 Not rated.'"""
    rated = [
        mid for mid in measure_ids(inputs, ms) if (m := measure_def(inputs, mid)) and m.has_target
    ]
    if not rated:
        return None
    rags = [
        (row_at(ms, mid, inputs.quarter_end) or {}).get("rag", "") or "Not rated" for mid in rated
    ]
    parts = [
        f"{rags.count(r)} {r}" for r in ("Red", "Amber", "Green", "Not rated") if rags.count(r)
    ]
    return f"Of {len(rated)} measures with targets: {listed(parts)}."


def milestone_message(inputs: ReportInputs, ms: pd.DataFrame) -> str | None:
    """One sentence on what fell behind: measure targets not met this quarter, plan
    milestones missed or overdue."""
    parts = []
    not_met = [
        f"{r['id']} {r['target']} by {r['date']} (value {r['value']})"
        for r in target_milestone_rows(inputs, ms)
        if r["date_value"] == inputs.quarter_end and r["met"] == "Not met"
    ]
    if not_met:
        parts.append(f"measure target{'s' if len(not_met) > 1 else ''} not met: {listed(not_met)}")
    mi = inputs.milestones
    statuses = [word(s) for s in mi.get("status", [])]
    texts = [word(x) for x in mi.get("text", [""] * len(statuses))]
    actions = [word(x) for x in mi.get("action", [""] * len(statuses))]
    dues = [long_date(as_date(x)) for x in mi.get("due", [None] * len(statuses))]
    for kind in ("overdue", "missed"):
        hit = [
            f"{t} ({', '.join(filter(None, (a and f'action {a}', d and f'due {d}')))})"
            if a or d
            else t
            for t, a, d, s in zip(texts, actions, dues, statuses, strict=True)
            if s == kind
        ]
        if hit:
            n = len(hit)
            parts.append(
                f"{n} action plan milestone{'s' if n > 1 else ''} {kind}: {'; '.join(hit)}"
            )
    if not parts:
        return None
    text = "Milestones: " + "; ".join(parts) + "."
    return text


def signal_message(inputs: ReportInputs, ms: pd.DataFrame) -> str | None:
    """ONE sentence grouping this quarter's run-chart signals by kind."""
    rules = rule_texts(inputs.spec)
    by_kind: dict[str, list[str]] = {}
    for mid in measure_ids(inputs, ms):
        row = row_at(ms, mid, inputs.quarter_end)
        if row and row["signal"]:
            for k in (k.strip() for k in row["signal"].split(",")):
                if k:
                    by_kind.setdefault(k, []).append(mid)
    if not by_kind:
        return None
    parts = [f"{rules.get(k, k)} in {listed(ids)}" for k, ids in by_kind.items()]
    return "Run-chart signals, changes unlikely to be chance: " + "; ".join(parts) + "."


def revision_message(inputs: ReportInputs) -> str | None:
    """How many issued figures were revised, and of which measures."""
    rv = inputs.revisions
    if not len(rv):
        return None
    mids = sorted({word(x) for x in rv["measure_id"]})
    n = len(rv)
    return (
        f"{n} figure{'s were' if n > 1 else ' was'} revised since the last report "
        f"({listed(mids)}); see the data-quality annex."
    )


def key_messages(inputs: ReportInputs, ms: pd.DataFrame) -> list[str]:
    """At most `MAX_KEY_MESSAGES` sentences, the most important first: returns; measures
    off trajectory or target (Red, then Amber); milestones missed or overdue; run-chart
    signals in one sentence; revisions. Off-track measures beyond the room left are grouped
    into one closing sentence of their own."""
    head = [returns_summary(inputs)["text"]]
    if (counts := rag_count_message(inputs, ms)) is not None:
        head.append(counts)
    tail = [
        s
        for s in (
            milestone_message(inputs, ms),
            signal_message(inputs, ms),
            revision_message(inputs),
        )
        if s
    ]
    off = off_track_messages(inputs, ms)
    room = MAX_KEY_MESSAGES - len(head) - len(tail)
    if len(off) > room:
        shown, rest = off[: room - 1], off[room - 1 :]
        grouped = f"Also off trajectory or target: {listed([mid for mid, _ in rest])}."
        measures = [s for _, s in shown] + [grouped]
    else:
        measures = [s for _, s in off]
    return head + measures + tail


def summary_markdown(inputs: ReportInputs) -> str:
    """The run summary an operator reads in the Prefect UI: the report's key messages
    (the same sentences as the documents) and what needs attention."""
    ms = normalised_measures(inputs)
    rs = returns_summary(inputs)
    lines = [
        f"# Data Summary — {quarter_label(inputs.quarter_end)}",
        "",
        f"Version {clean_text(inputs.version)}.",
        "",
        "## Returns",
        f"- received: {rs['received']} of {rs['expected']} expected",
        f"- late: {rs['late']}",
        f"- missing: {rs['missing']}",
        f"- rejected: {rs['rejected']}",
        "",
        "## Key messages",
        *(f"- {m}" for m in key_messages(inputs, ms)),
    ]
    return "\n".join(lines)
