"""From `ReportInputs` to what the documents show: formatted figures, tables and key messages.

The Word template only places strings; every number is formatted here (one decimal place for
rates, thousands separators for counts) and every sentence is written from the figures, so
the Word and Excel packs say the same thing. For the public pack nothing that could reveal a
suppressed figure enters the context: values come only from the disclosure-controlled
frame, child references and submitters' notes are left out, and warnings become counts.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from transforms.quarters import quarter_end_for, quarter_label, quarter_short
from transforms.reports.charts import ChartSeries, measure_chart, overview_chart
from transforms.reports.inputs import ReportInputs
from transforms.spec import MeasureDef

TITLE = "Data Summary Report"
RAG_FILL = {"Green": "C6EFCE", "Amber": "FFEB9C", "Red": "FFC7CE", "Not rated": "E7E6E6"}
RAG_FONT = {"Green": "006100", "Amber": "7A4500", "Red": "9C0006", "Not rated": "3A3A3A"}
UNIT_LABEL = {
    "percent": "%",
    "count": "count",
    "pp": "percentage points",
    "per_1000": "per 1,000",
    "days": "days",
}
DIRECTION_TEXT = {"up": "higher is better", "down": "lower is better", "ctx": "context only"}
BREAKDOWN_TEXT = {
    "all": "All",
    "at_home": "Looked after at home",
    "away_from_home": "Looked after away from home",
    "care_experienced": "Care experienced",
}
MAX_KEY_MESSAGES = 8
OVERVIEW_PER_PART = 6
NO_DATA = "no data"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


# ------------------------------------------------------------------ small value helpers
def clean_text(x: Any) -> str:
    """Text as given (blank for missing), minus characters XML cannot hold; `\\r\\n` → `\\n`."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return ""
    s = str(x).replace("\r\n", "\n").replace("\r", "\n")
    return _ILLEGAL.sub(" ", s)


def as_date(x: Any) -> dt.date | None:
    """A date from a date, datetime, Timestamp or ISO text; None for blank."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return None
    if isinstance(x, dt.datetime):
        return x.date()
    if isinstance(x, dt.date):
        return x
    return pd.Timestamp(str(x)).date()


def as_bool(x: Any) -> bool:
    """True for True/'true'/'yes'/1; blank is False."""
    if x is None or (not isinstance(x, str) and pd.isna(x)):
        return False
    if isinstance(x, str):
        return x.strip().lower() in ("true", "yes", "y", "1")
    return bool(x)


def cell(x: Any, symbol: str) -> float | str | None:
    """A figure as float, the suppression symbol, or None when blank."""
    if x is None:
        return None
    if isinstance(x, str):
        s = x.strip()
        if s == symbol:
            return symbol
        if not s:
            return None
        try:
            return float(s)
        except ValueError:
            return None
    if pd.isna(x):
        return None
    f = float(x)
    return None if math.isnan(f) else f


def long_date(d: dt.date | None) -> str:
    """'30 September 2020'."""
    return f"{d.day} {d:%B %Y}" if d else ""


def fmt_value(v: float | str | None, unit: str, blank: str = NO_DATA) -> str:
    """A figure as the report prints it: '62.5%', '1,234', '3.2 pp', '24.5 days', 'c'."""
    if v is None:
        return blank
    if isinstance(v, str):
        return v
    if unit == "percent":
        return f"{v:.1f}%"
    if unit == "pp":
        return f"{v:.1f} pp"
    if unit == "per_1000":
        return f"{v:,.1f} per 1,000"
    if unit == "days":
        return f"{v:.0f} days" if float(v).is_integer() else f"{v:.1f} days"
    return f"{v:,.0f}"


def fmt_count(v: float | str | None) -> str:
    if v is None:
        return ""
    return v if isinstance(v, str) else f"{v:,.0f}"


def fmt_n_of_d(n: float | str | None, d: float | str | None) -> str:
    """'25 of 40'; 'n = 29' for a median (a base but no numerator); blank with neither."""
    if n is None and d is None:
        return ""
    if n is None:
        return f"n = {fmt_count(d)}"
    return f"{fmt_count(n)} of {fmt_count(d) or '–'}"


def word(x: Any) -> str:
    """A label cell as text ('' for blank)."""
    return clean_text(x).strip()


def breakdown_label(code: str, spec) -> str:
    """Readable breakdown name: placement types and pupil groups by their spec labels."""
    if code in BREAKDOWN_TEXT:
        return BREAKDOWN_TEXT[code]
    for codes in spec.returns.codes.values():
        for c in codes:
            if c.code == code:
                return c.label
    return code.replace("_", " ").capitalize()


# ------------------------------------------------------------------ normalised frames
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
        vals = df[c] if c in df else [None] * len(df)
        out[c] = pd.Series([cell(x, inputs.symbol) for x in vals], dtype=object)
    for c in ("unit", "rag", "trend", "trend_year", "signal", "reason"):
        vals = df[c] if c in df else [""] * len(df)
        out[c] = [word(x) for x in vals]
    out = out[out["quarter_end"].notna() & (out["quarter_end"] <= inputs.quarter_end)]
    return out.sort_values(["measure_id", "quarter_end", "breakdown"], ignore_index=True)


def _unit(m: MeasureDef | None, row: dict | None) -> str:
    if row and row.get("unit"):
        return row["unit"]
    return m.unit if m else "count"


def _measure_def(inputs: ReportInputs, mid: str) -> MeasureDef | None:
    try:
        return inputs.spec.measures.measure(mid)
    except KeyError:
        return None


def measure_ids(inputs: ReportInputs, ms: pd.DataFrame) -> list[str]:
    """Spec measures in spec order, then any measure the frame has that the spec does not."""
    ids = [m.id for m in inputs.spec.measures.measures]
    return ids + sorted(set(ms["measure_id"]) - set(ids))


def _row(ms: pd.DataFrame, mid: str, q: dt.date, breakdown: str = "all") -> dict | None:
    hit = ms[(ms["measure_id"] == mid) & (ms["quarter_end"] == q) & (ms["breakdown"] == breakdown)]
    return hit.iloc[0].to_dict() if len(hit) else None


def _target_text(m: MeasureDef | None, row: dict | None, q: dt.date) -> str:
    """'trajectory 55.4%; target 75.0% by 30 September 2021', or the standing target."""
    unit = _unit(m, row)
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
    m = _measure_def(inputs, mid)
    row = _row(ms, mid, inputs.quarter_end)
    unit = _unit(m, row)
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


# ------------------------------------------------------------------ key messages
def _compare_word(v: float, ref: float, direction: str) -> str:
    if v == ref:
        return "level with"
    return "above" if v > ref else "below"


def measure_message(inputs: ReportInputs, ms: pd.DataFrame, mid: str) -> str | None:
    """One sentence for a measure with a target, from the quarter's figures."""
    m = _measure_def(inputs, mid)
    row = _row(ms, mid, inputs.quarter_end)
    if row is None or m is None:
        return None
    unit = _unit(m, row)
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
    prev_row = _row(ms, mid, _prev_q(inputs.quarter_end))
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


def _prev_q(q: dt.date) -> dt.date:
    from transforms.quarters import previous_quarter

    return previous_quarter(q)


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


def rule_texts(spec) -> dict[str, str]:
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


def _listed(items: list[str]) -> str:
    """'A', 'A and B', 'A, B and C'."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


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
        m = _measure_def(inputs, mid)
        row = _row(ms, mid, inputs.quarter_end)
        if m is None or not m.has_target or row is None or row["rag"] not in out:
            continue
        sentence = measure_message(inputs, ms, mid)
        if sentence is None:
            continue
        ref = row["trajectory"] if m.targets and isinstance(row["trajectory"], float) else None
        ref = ref if ref is not None else row["target"]
        if isinstance(row["value"], float) and isinstance(ref, float):
            sentence = sentence[:-1] + f", a gap of {_gap_text(row['value'], ref, _unit(m, row))}."
        out[row["rag"]].append((mid, sentence))
    return out["Red"] + out["Amber"]


def rag_count_message(inputs: ReportInputs, ms: pd.DataFrame) -> str | None:
    """'Of 12 measures with targets: 3 Red, 2 Amber, 6 Green and 1 Not rated.'"""
    rated = [
        mid for mid in measure_ids(inputs, ms) if (m := _measure_def(inputs, mid)) and m.has_target
    ]
    if not rated:
        return None
    rags = [
        (_row(ms, mid, inputs.quarter_end) or {}).get("rag", "") or "Not rated" for mid in rated
    ]
    parts = [
        f"{rags.count(r)} {r}" for r in ("Red", "Amber", "Green", "Not rated") if rags.count(r)
    ]
    return f"Of {len(rated)} measures with targets: {_listed(parts)}."


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
        parts.append(f"measure target{'s' if len(not_met) > 1 else ''} not met: {_listed(not_met)}")
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
        row = _row(ms, mid, inputs.quarter_end)
        if row and row["signal"]:
            for k in (k.strip() for k in row["signal"].split(",")):
                if k:
                    by_kind.setdefault(k, []).append(mid)
    if not by_kind:
        return None
    parts = [f"{rules.get(k, k)} in {_listed(ids)}" for k, ids in by_kind.items()]
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
        f"({_listed(mids)}); see the data-quality annex."
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
        grouped = f"Also off trajectory or target: {_listed([mid for mid, _ in rest])}."
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


# ------------------------------------------------------------------ tables
RESULT_WORDS = {
    "met": "Met",
    "not met": "Not met",
    "no data": "No value",
    "not yet due": "Not yet due",
}


def target_milestone_rows(inputs: ReportInputs, ms: pd.DataFrame) -> list[dict[str, Any]]:
    """Measure target milestones; in the public pack the value is the controlled one."""
    rows = []
    mr = inputs.milestone_results
    for rec in mr.to_dict("records") if len(mr) else []:
        mid = word(rec.get("measure_id"))
        m = _measure_def(inputs, mid)
        d = as_date(rec.get("milestone_date"))
        unit = m.unit if m else "percent"
        if inputs.public:
            row = _row(ms, mid, d) if d else None
            value = row["value"] if row else None
        else:
            value = cell(rec.get("value"), inputs.symbol)
        result = word(rec.get("result"))
        met = (
            "Not yet due" if d and d > inputs.quarter_end else RESULT_WORDS.get(result, "No value")
        )
        rows.append(
            {
                "measure": f"{mid} {m.name if m else ''}".strip(),
                "id": mid,
                "date": long_date(d),
                "date_value": d,
                "target": fmt_value(cell(rec.get("target"), inputs.symbol), unit),
                "value": fmt_value(value, unit),
                "met": met,
            }
        )
    return rows


def _progress_by_action(inputs: ReportInputs) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    pr = inputs.progress
    for rec in pr.to_dict("records") if len(pr) else []:
        aid = word(rec.get("action_id"))
        out[aid] = {
            "status": word(rec.get("status")),
            "update": clean_text(rec.get("progress_update")),
            "submitter": word(rec.get("submitter")),
            "completed": long_date(as_date(rec.get("completion_date"))),
        }
    return out


def _expected_status(inputs: ReportInputs) -> dict[str, str]:
    ex = inputs.expected
    return {word(c): word(s) for c, s in zip(ex.get("code", []), ex.get("status", []), strict=True)}


def action_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """Every plan action with its lead's status and progress update (seed wording kept)."""
    progress = _progress_by_action(inputs)
    expected = _expected_status(inputs)
    rows, seen_outcomes = [], set()
    outcomes = {o.id: o for o in inputs.spec.plan.outcomes}
    for a in inputs.spec.plan.actions:
        p = progress.get(a.id)
        if a.update_from is None:
            status, update = "N/A", "N/A"
        elif p is not None:
            status, update = p["status"] or "–", p["update"] or "(no update text)"
        else:
            st = expected.get(a.update_from, "")
            why = {"missing": "return missing", "rejected": "return rejected"}.get(st, "")
            status = "No update"
            update = f"No update received from {a.update_from}" + (f" ({why})." if why else ".")
        rows.append(
            {
                "id": a.id,
                "outcome": a.outcome,
                "outcome_aim": outcomes[a.outcome].aim if a.outcome not in seen_outcomes else "",
                "driver": a.driver,
                "driver_short": a.driver_short,
                "aim": a.aim,
                "measures_text": a.measures_text,
                "leads": a.leads,
                "update_from": a.update_from or "–",
                "status": status,
                "progress": update,
                "completed": p["completed"] if p else "",
            }
        )
        seen_outcomes.add(a.outcome)
    return rows


def milestone_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """The plan's dated milestones with their status (met, missed, overdue, due…)."""
    rows = []
    mi = inputs.milestones
    for rec in mi.to_dict("records") if len(mi) else []:
        status = word(rec.get("status"))
        rows.append(
            {
                "id": word(rec.get("milestone_id")),
                "action": word(rec.get("action")),
                "due": long_date(as_date(rec.get("due"))),
                "text": clean_text(rec.get("text")),
                "status": status.capitalize() if status else "–",
                "completed": long_date(as_date(rec.get("completion_date"))) or "–",
            }
        )
    return rows


def dq_return_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """Per expected return: status and timeliness."""
    rows = []
    ex = inputs.expected
    for rec in ex.to_dict("records") if len(ex) else []:
        status = word(rec.get("status"))
        received = rec.get("received_at")
        when = "" if received is None or pd.isna(received) else pd.Timestamp(received)
        rows.append(
            {
                "code": word(rec.get("code")),
                "name": clean_text(rec.get("name")),
                "kind": word(rec.get("kind")).capitalize(),
                "status": status.capitalize() if status else "–",
                "late": "–"
                if status == "missing"
                else ("Late" if as_bool(rec.get("late")) else "On time"),
                "received": when.strftime("%d %b %Y %H:%M") if when != "" else "–",
            }
        )
    return rows


def warning_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """Warnings with submitters' notes (internal pack only)."""
    if inputs.public:
        return []
    w = inputs.warnings
    return [
        {
            k: clean_text(rec.get(k))
            for k in ("submitter", "file", "sheet", "location", "rule", "message", "note")
        }
        for rec in (w.to_dict("records") if len(w) else [])
    ]


def warning_counts(inputs: ReportInputs) -> list[dict[str, str]]:
    """Warnings per submitter as counts (what the public pack shows)."""
    w = inputs.warnings
    if not len(w):
        return []
    subs = [word(s) for s in w["submitter"]]
    notes = [bool(clean_text(n).strip()) for n in w.get("note", [""] * len(w))]
    out = []
    for s in sorted(set(subs)):
        idx = [i for i, x in enumerate(subs) if x == s]
        out.append(
            {"submitter": s, "count": str(len(idx)), "with_note": str(sum(notes[i] for i in idx))}
        )
    return out


def mismatch_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """Cross-agency mismatches with child references: internal pack only, never public."""
    if inputs.public:
        return []
    mm = inputs.mismatches
    return [
        {
            "quarter": quarter_short(q) if (q := as_date(rec.get("quarter_end"))) else "",
            "child_ref": clean_text(rec.get("child_ref")),
            "found_in": clean_text(rec.get("found_in")),
            "missing_from": clean_text(rec.get("missing_from")),
        }
        for rec in (mm.to_dict("records") if len(mm) else [])
    ]


def revision_rows(inputs: ReportInputs, ms: pd.DataFrame) -> list[dict[str, str]]:
    """Revisions since the last report; the public pack shows only the controlled new value."""
    rows = []
    rv = inputs.revisions
    for rec in rv.to_dict("records") if len(rv) else []:
        mid = word(rec.get("measure_id"))
        m = _measure_def(inputs, mid)
        unit = m.unit if m else "count"
        q = as_date(rec.get("quarter_end"))
        bd = word(rec.get("breakdown")) or "all"
        if inputs.public:
            row = _row(ms, mid, q, bd) if q else None
            old, new = "see previous public pack", fmt_value(row["value"] if row else None, unit)
        else:
            old = fmt_value(cell(rec.get("old_value"), inputs.symbol), unit)
            new = fmt_value(cell(rec.get("new_value"), inputs.symbol), unit)
        rows.append(
            {
                "measure": mid,
                "quarter": quarter_short(q) if q else "",
                "breakdown": breakdown_label(bd, inputs.spec),
                "old": old,
                "new": new,
                "version": clean_text(rec.get("issued_version")),
            }
        )
    return rows


def definition_rows(inputs: ReportInputs) -> list[dict[str, str]]:
    """Every measure's definition; BIU definitions are labelled as such."""
    rows = []
    for m in inputs.spec.measures.measures:
        if m.targets:
            target = "; ".join(
                f"{fmt_value(t.value, m.unit)} by {long_date(t.date)}" for t in m.targets
            )
        elif m.standing_target is not None:
            target = f"{fmt_value(m.standing_target, m.unit)} (standing)"
        else:
            target = "None set"
        source = "Action plan (seed)" if m.source == "seed" else "BIU definition"
        rows.append(
            {
                "id": m.id,
                "name": m.name,
                "action": m.action,
                "unit": UNIT_LABEL.get(m.unit, m.unit),
                "direction": DIRECTION_TEXT[m.direction],
                "target": target,
                "definition": m.definition,
                "source": source,
                "bi_note": m.bi_definition or "",
                "breakdowns": ", ".join(m.breakdowns),
            }
        )
    return rows


def breakdown_rows(inputs: ReportInputs, ms: pd.DataFrame, ids: list[str]) -> list[dict]:
    """The quarter's breakdown rows for these measures."""
    q = ms[
        (ms["quarter_end"] == inputs.quarter_end)
        & (ms["breakdown"] != "all")
        & ms["measure_id"].isin(ids)
    ]
    out = []
    for mid in ids:
        m = _measure_def(inputs, mid)
        for rec in q[q["measure_id"] == mid].to_dict("records"):
            unit = _unit(m, rec)
            out.append(
                {
                    "measure": mid,
                    "breakdown": breakdown_label(rec["breakdown"], inputs.spec),
                    "value": fmt_value(rec["value"], unit),
                    "n_of_d": fmt_n_of_d(rec["numerator"], rec["denominator"]),
                }
            )
    return out


# ------------------------------------------------------------------ chart series
def chart_series(inputs: ReportInputs, ms: pd.DataFrame, mid: str) -> ChartSeries | None:
    """The headline series of a measure up to the quarter, or None when < 2 values to draw."""
    m = _measure_def(inputs, mid)
    hs = ms[(ms["measure_id"] == mid) & (ms["breakdown"] == "all")]
    if not len(hs):
        return None
    unit = _unit(m, hs.iloc[-1].to_dict())
    recs = hs.to_dict("records")
    values = [r["value"] if isinstance(r["value"], float) else None for r in recs]
    if sum(v is not None for v in values) < 2:
        return None
    first, last = recs[0]["quarter_end"], recs[-1]["quarter_end"]
    dated = [t for t in (m.targets if m else []) if quarter_end_for(t.date) >= first]
    upcoming = [t for t in dated if quarter_end_for(t.date) > last][:1]
    milestones = [
        (t.date, t.value, f"{fmt_value(t.value, unit)} by {quarter_short(t.date)}")
        for t in dated
        if quarter_end_for(t.date) <= last or t in upcoming
    ]
    standing = None
    if m is not None and m.standing_target is not None:
        standing = (m.standing_target, f"Target {fmt_value(m.standing_target, unit)}")
    return ChartSeries(
        measure_id=mid,
        name=m.name if m else mid,
        unit_label=UNIT_LABEL.get(unit, unit),
        quarters=[r["quarter_end"] for r in recs],
        values=values,
        labels=[fmt_value(r["value"], unit) for r in recs],
        suppressed=[r["value"] == inputs.symbol for r in recs],
        rags=[r["rag"] for r in recs],
        trajectory=[r["trajectory"] if isinstance(r["trajectory"], float) else None for r in recs]
        if (m and m.targets)
        else [],
        milestones=milestones,
        standing_target=standing,
        symbol=inputs.symbol,
    )


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes, alt text, and what it shows."""

    measure_id: str
    title: str
    png: bytes
    alt: str


def charts_for(inputs: ReportInputs, ms: pd.DataFrame, ids: list[str]) -> list[Chart]:
    out = []
    for mid in ids:
        s = chart_series(inputs, ms, mid)
        if s is not None:
            png, alt = measure_chart(s)
            out.append(Chart(mid, f"{mid} {s.name}", png, alt))
    return out


# ------------------------------------------------------------------ the context
def overview_parts(
    headline: list[ChartSeries], embed: Callable[[Chart], Any]
) -> list[dict[str, Any]]:
    """The small multiples split into parts of `OVERVIEW_PER_PART` charts, each small enough
    to sit on a page under its own heading ('Headline measures over time (2 of 4)')."""
    chunks = [
        headline[i : i + OVERVIEW_PER_PART] for i in range(0, len(headline), OVERVIEW_PER_PART)
    ]
    parts = []
    for k, chunk in enumerate(chunks, start=1):
        png, alt = overview_chart(chunk)
        title = "Headline measures over time"
        if len(chunks) > 1:
            title += f" ({k} of {len(chunks)})"
        ids = f"{chunk[0].measure_id} to {chunk[-1].measure_id}"
        parts.append(
            {"title": title, "image": embed(Chart(f"overview-{k}", f"{title}: {ids}", png, alt))}
        )
    return parts


def build_context(
    inputs: ReportInputs, image: Callable[[Chart], Any] | None = None
) -> dict[str, Any]:
    """The template context; `image` turns a `Chart` into what the template embeds."""
    embed = image or (lambda c: c)
    ms = normalised_measures(inputs)
    plan = inputs.spec.plan
    ids = measure_ids(inputs, ms)
    actions = action_rows(inputs)
    outcomes = []
    for o in plan.outcomes:
        action_ids = {a.id for a in plan.actions if a.outcome == o.id}
        o_ids = [mid for mid in ids if (m := _measure_def(inputs, mid)) and m.action in action_ids]
        charts = charts_for(inputs, ms, o_ids)
        outcomes.append(
            {
                "id": o.id,
                "title": f"Stretch outcome {o.id}: {o.short}",
                "aim": o.aim,
                "question": o.question,
                "actions": [a for a in actions if a["outcome"] == o.id],
                "measures": [measure_row(inputs, ms, mid) for mid in o_ids],
                "charts": [{"title": c.title, "image": embed(c), "alt": c.alt} for c in charts],
                "breakdowns": breakdown_rows(inputs, ms, o_ids),
            }
        )
    headline = [s for mid in ids if (s := chart_series(inputs, ms, mid)) is not None]
    overview = overview_parts(headline, embed)
    rated = [mid for mid in ids if (m := _measure_def(inputs, mid)) and m.has_target]
    return {
        **header_context(inputs),
        "key_messages": key_messages(inputs, ms),
        "rag_rows": [measure_row(inputs, ms, mid) for mid in rated],
        "overview_parts": overview,
        "has_overview": bool(overview),
        "rules": rule_texts(inputs.spec),
        "outcomes": outcomes,
        "action_plan": actions,
        "milestones": milestone_rows(inputs),
        "target_milestones": target_milestone_rows(inputs, ms),
        "dq_returns": dq_return_rows(inputs),
        "show_detail": not inputs.public,
        "dq_warnings": warning_rows(inputs),
        "dq_warning_counts": warning_counts(inputs),
        "warning_total": len(inputs.warnings),
        "dq_mismatches": mismatch_rows(inputs),
        "mismatch_total": len(inputs.mismatches),
        "revisions": revision_rows(inputs, ms),
        "definitions": definition_rows(inputs),
    }


def header_context(inputs: ReportInputs) -> dict[str, Any]:
    """Cover facts both packs print: title, quarter, partnership, marking, data as at
    (the latest receipt), version, and DRAFT or the approval date and approver."""
    plan, spec = inputs.spec.plan, inputs.spec
    marking = plan.protective_marking if not inputs.public else f"{plan.public_marking} – public"
    if inputs.approved_on is None:
        status = "DRAFT – not yet approved for issue"
    else:
        by = clean_text(inputs.approved_by).strip() or "not recorded"
        status = f"Issued: approved on {long_date(inputs.approved_on)} by {by}"
    return {
        "title": TITLE,
        "quarter_label": quarter_label(inputs.quarter_end),
        "quarter_short": quarter_short(inputs.quarter_end),
        "quarter_end": long_date(inputs.quarter_end),
        "partnership": plan.partnership_long,
        "plan_title": plan.title,
        "plan_period": plan.plan_period,
        "marking": marking,
        "public": inputs.public,
        "pack": "Public pack (disclosure-controlled)" if inputs.public else "Internal pack",
        "footnote": spec.measures.disclosure.footnote if inputs.public else "",
        "data_as_at": long_date(inputs.generated),
        "version": clean_text(inputs.version),
        "draft": inputs.approved_on is None,
        "status": status,
        "returns": returns_summary(inputs),
    }
