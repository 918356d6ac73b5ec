"""The rows of the report's tables (action plan, milestones, data quality, revisions,
definitions), each a list of dicts of display strings; the public pack's rows leave out
child references and submitters' notes and show only controlled values."""

from __future__ import annotations

from typing import Any

import pandas as pd

from transforms.quarters import quarter_short
from transforms.reports.formatting import (
    DIRECTION_TEXT,
    UNIT_LABEL,
    as_bool,
    as_date,
    breakdown_label,
    cell,
    clean_text,
    fmt_value,
    long_date,
    word,
)
from transforms.reports.inputs import ReportInputs
from transforms.reports.measure_rows import measure_def, row_at

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
        m = measure_def(inputs, mid)
        d = as_date(rec.get("milestone_date"))
        unit = m.unit if m else "percent"
        if inputs.public:
            row = row_at(ms, mid, d) if d else None
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
        when = None if received is None or pd.isna(received) else pd.Timestamp(received)
        rows.append(
            {
                "code": word(rec.get("code")),
                "name": clean_text(rec.get("name")),
                "kind": word(rec.get("kind")).capitalize(),
                "status": status.capitalize() if status else "–",
                "late": "–"
                if status == "missing"
                else ("Late" if as_bool(rec.get("late")) else "On time"),
                "received": when.strftime("%d %b %Y %H:%M") if when is not None else "–",
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
        m = measure_def(inputs, mid)
        unit = m.unit if m else "count"
        q = as_date(rec.get("quarter_end"))
        bd = word(rec.get("breakdown")) or "all"
        if inputs.public:
            row = row_at(ms, mid, q, bd) if q else None
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
