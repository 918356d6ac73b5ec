"""From `ReportInputs` to what the documents show: formatted figures, tables and key messages.

The Word template only places strings; every number is formatted here (one decimal place for
rates, thousands separators for counts) and every sentence is written from the figures, so
the Word and Excel packs say the same thing. For the public pack nothing that could reveal a
suppressed figure enters the context: values come only from the disclosure-controlled
frame, child references and submitters' notes are left out, and warnings become counts.

This module assembles the template context and the chart series; the parts live beside it:
`formatting` (values), `measure_rows` (the measures frame, a measure's line), `tables`
(table rows) and `messages` (key messages, run summary). Their names are re-exported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from transforms.quarters import quarter_end_for, quarter_label, quarter_short
from transforms.reports.charts import ChartJob, ChartSeries, measure_chart, overview_chart
from transforms.reports.formatting import (
    BREAKDOWN_TEXT,
    DIRECTION_TEXT,
    NO_DATA,
    RAG_FILL,
    RAG_FONT,
    UNIT_LABEL,
    as_bool,
    as_date,
    breakdown_label,
    cell,
    clean_text,
    fmt_count,
    fmt_n_of_d,
    fmt_value,
    long_date,
    word,
)
from transforms.reports.inputs import ReportInputs
from transforms.reports.measure_rows import (
    breakdown_rows,
    measure_def,
    measure_ids,
    measure_row,
    normalised_measures,
    rule_texts,
    unit_of,
)
from transforms.reports.messages import (
    MAX_KEY_MESSAGES,
    key_messages,
    measure_message,
    milestone_message,
    off_track_messages,
    rag_count_message,
    returns_summary,
    revision_message,
    signal_message,
    summary_markdown,
)
from transforms.reports.tables import (
    RESULT_WORDS,
    action_rows,
    definition_rows,
    dq_return_rows,
    milestone_rows,
    mismatch_rows,
    revision_rows,
    target_milestone_rows,
    warning_counts,
    warning_rows,
)

__all__ = [
    "BREAKDOWN_TEXT",
    "DIRECTION_TEXT",
    "MAX_KEY_MESSAGES",
    "NO_DATA",
    "OVERVIEW_PER_PART",
    "RAG_FILL",
    "RAG_FONT",
    "RESULT_WORDS",
    "TITLE",
    "UNIT_LABEL",
    "Chart",
    "action_rows",
    "as_bool",
    "as_date",
    "breakdown_label",
    "breakdown_rows",
    "build_context",
    "cell",
    "chart_series",
    "charts_for",
    "clean_text",
    "definition_rows",
    "dq_return_rows",
    "fmt_count",
    "fmt_n_of_d",
    "fmt_value",
    "header_context",
    "headline_series",
    "key_messages",
    "long_date",
    "measure_ids",
    "measure_message",
    "measure_row",
    "milestone_message",
    "milestone_rows",
    "mismatch_rows",
    "normalised_measures",
    "off_track_messages",
    "overview_parts",
    "planned_charts",
    "rag_count_message",
    "returns_summary",
    "revision_message",
    "revision_rows",
    "rule_texts",
    "signal_message",
    "summary_markdown",
    "target_milestone_rows",
    "warning_counts",
    "warning_rows",
    "word",
]

TITLE = "Data Summary Report"

OVERVIEW_PER_PART = 6


def chart_series(inputs: ReportInputs, ms: pd.DataFrame, mid: str) -> ChartSeries | None:
    """The headline series of a measure up to the quarter, or None when < 2 values to draw."""
    return _series(inputs, mid, ms[(ms["measure_id"] == mid) & (ms["breakdown"] == "all")])


def headline_series(
    inputs: ReportInputs, ms: pd.DataFrame, ids: list[str]
) -> dict[str, ChartSeries]:
    """`chart_series` of each of `ids` that has one, in that order, from one pass over the
    frame (a document asks for each series twice, and each selection scans every row)."""
    heads = ms[ms["breakdown"] == "all"]
    groups = {str(k): g for k, g in heads.groupby("measure_id", sort=False)}
    out = {}
    for mid in ids:
        if mid in groups and (s := _series(inputs, mid, groups[mid])) is not None:
            out[mid] = s
    return out


def _series(inputs: ReportInputs, mid: str, hs: pd.DataFrame) -> ChartSeries | None:
    m = measure_def(inputs, mid)
    if not len(hs):
        return None
    unit = unit_of(m, hs.iloc[-1].to_dict())
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


def charts_for(series: dict[str, ChartSeries], ids: list[str]) -> list[Chart]:
    out = []
    for mid in ids:
        if (s := series.get(mid)) is not None:
            png, alt = measure_chart(s)
            out.append(Chart(mid, f"{mid} {s.name}", png, alt))
    return out


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


def planned_charts(inputs: ReportInputs) -> list[ChartJob]:
    """Every chart `build_context` will ask for, in its order, without drawing any: so the
    quarterly run can draw them all at once, in parallel, before the documents are built."""
    ms = normalised_measures(inputs)
    ids = measure_ids(inputs, ms)
    plan = inputs.spec.plan
    series = headline_series(inputs, ms, ids)
    jobs: list[ChartJob] = []
    for o in plan.outcomes:
        action_ids = {a.id for a in plan.actions if a.outcome == o.id}
        o_ids = [mid for mid in ids if (m := measure_def(inputs, mid)) and m.action in action_ids]
        jobs += [("measure", series[mid]) for mid in o_ids if mid in series]
    headline = list(series.values())
    jobs += [
        ("overview", headline[i : i + OVERVIEW_PER_PART])
        for i in range(0, len(headline), OVERVIEW_PER_PART)
    ]
    return jobs


def build_context(
    inputs: ReportInputs, image: Callable[[Chart], Any] | None = None
) -> dict[str, Any]:
    """The template context; `image` turns a `Chart` into what the template embeds."""
    embed = image or (lambda c: c)
    ms = normalised_measures(inputs)
    plan = inputs.spec.plan
    ids = measure_ids(inputs, ms)
    actions = action_rows(inputs)
    series = headline_series(inputs, ms, ids)
    outcomes = []
    for o in plan.outcomes:
        action_ids = {a.id for a in plan.actions if a.outcome == o.id}
        o_ids = [mid for mid in ids if (m := measure_def(inputs, mid)) and m.action in action_ids]
        charts = charts_for(series, o_ids)
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
    overview = overview_parts(list(series.values()), embed)
    rated = [mid for mid in ids if (m := measure_def(inputs, mid)) and m.has_target]
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
