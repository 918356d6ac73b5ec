"""Rules Great Expectations cannot express, as plain pandas on the typed frames.

Items present exactly once, `a ≤ b` between items, blank values needing a note, categories
present, nil returns, the 28-day date warning, the Progress rules (which depend on the lead
and on last quarter), the register continuity check (last quarter again) and the report-level
cross-agency check. Each returns `Finding`s from the same catalogue as the GX suites.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from transforms.catalogue import catalogue, make_finding
from transforms.findings import Cover, Finding
from transforms.intake.sheet_frames import SheetLayout
from transforms.resources import data_path
from transforms.spec import Spec


class PriorData(Protocol):
    """Last quarter's in-force accepted data, for cross-quarter rules.

    `quarter_end` is the quarter being checked; implementations look at the quarter before it.
    """

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        """The item's value in the previous quarter's in-force return; None when none."""
        ...

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        """action_id -> status in the previous quarter's in-force return ({} when none)."""
        ...


class NoPriorData:
    """No history: cross-quarter rules are skipped, Progress needs every update."""

    def previous_item(
        self, submitter: str, sheet: str, item: str, quarter_end: dt.date
    ) -> int | None:
        return None

    def previous_progress(self, submitter: str, quarter_end: dt.date) -> dict[str, str]:
        return {}


def _row(frame: pd.DataFrame, i: int) -> int:
    return int(frame["excel_row"].iloc[i])


def _present(values: list[object]) -> list[object]:
    """The non-missing values of a column's `tolist()`.

    Frames are a handful of rows: a Python pass over the list costs microseconds, where
    `Series.dropna` / `value_counts` cost hundreds of them per call.
    """
    return [v for v in values if not pd.isna(v)]


def _shown(value: object) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "(blank)"
    if isinstance(value, pd.Timestamp):
        return "(blank)" if pd.isna(value) else value.date().isoformat()
    return str(value)


# ---------------------------------------------------------------- items sheets
def items_rules(
    name: str, frame: pd.DataFrame, layout: SheetLayout, spec: Spec, cover: Cover, prior: PriorData
) -> list[Finding]:
    """Items once each, `≤` between items, blank value needs a note, register continuity."""
    sheet = spec.returns.sheets[name]
    title = layout.title
    findings: list[Finding] = []
    if "item" in layout.missing:
        return findings
    items, values = frame["item"].tolist(), frame["value"].tolist()  # one pass, no .iloc
    counts = Counter(_present(items))
    for item in sheet.items:
        if item.item not in counts:
            findings.append(
                make_finding(
                    "R-ITEM-MISSING", sheet=title, item=item.item, expected=f"a row for {item.item}"
                )
            )
    once = {value for value, n in counts.items() if n == 1}
    notes_of = frame["notes"].tolist() if "notes" in frame else [None] * len(frame)
    value_of = {items[i]: (i, values[i]) for i in range(len(frame)) if items[i] in once}
    for item in sheet.items:
        if item.le and item.item in value_of and item.le in value_of:
            i, v = value_of[item.item]
            _, limit = value_of[item.le]
            if not pd.isna(v) and not pd.isna(limit) and v > limit:
                row = _row(frame, i)
                findings.append(
                    make_finding(
                        "R-ITEM-LE",
                        sheet=title,
                        cell=layout.cell("value", row),
                        row=row,
                        column="value",
                        item=item.item,
                        value=str(v),
                        detail=item.le,
                        expected=f"no more than {item.le} ({limit})",
                    )
                )
    for i in range(len(frame)):
        item = items[i]
        if pd.isna(item):
            continue
        notes = notes_of[i]
        if pd.isna(values[i]) and (notes is None or pd.isna(notes)):
            row = _row(frame, i)
            if layout.cell("value", row) is None:
                continue
            findings.append(
                make_finding(
                    "R-VALUE-NO-NOTE",
                    sheet=title,
                    cell=layout.cell("value", row),
                    row=row,
                    column="value",
                    item=item,
                    value="(blank)",
                    expected="a value, or a note saying why it is not available",
                )
            )
    if sheet.register_continuity and cover.submitter and cover.quarter_end:
        findings.extend(register_continuity(name, layout, value_of, frame, spec, cover, prior))
    return findings


def register_continuity(
    name: str,
    layout: SheetLayout,
    value_of: dict[str, tuple[int, object]],
    frame: pd.DataFrame,
    spec: Spec,
    cover: Cover,
    prior: PriorData,
) -> list[Finding]:
    """Warn when the stock does not follow from last quarter's stock and this quarter's flows.

    expected = previous stock + inflow − outflow; warn when |stock − expected| exceeds
    max(min_abs, min_rel × expected). Skipped when any figure is missing.
    """
    rc = spec.returns.sheets[name].register_continuity
    assert rc is not None and cover.submitter and cover.quarter_end
    figures = {k: value_of.get(k, (None, pd.NA)) for k in (rc.stock, rc.inflow, rc.outflow)}
    if any(pd.isna(v) for _, v in figures.values()):
        return []
    previous = prior.previous_item(cover.submitter, name, rc.stock, cover.quarter_end)
    if previous is None:
        return []
    stock = int(figures[rc.stock][1])  # type: ignore[arg-type]
    expected = previous + int(figures[rc.inflow][1]) - int(figures[rc.outflow][1])  # type: ignore[arg-type]
    if abs(stock - expected) <= max(rc.min_abs, rc.min_rel * expected):
        return []
    i = figures[rc.stock][0]
    row = _row(frame, i)  # type: ignore[arg-type]
    detail = (
        f"last quarter {previous} + {rc.inflow} {figures[rc.inflow][1]} − "
        f"{rc.outflow} {figures[rc.outflow][1]} = {expected}"
    )
    return [
        make_finding(
            "R-REGISTER-CONTINUITY",
            sheet=layout.title,
            cell=layout.cell("value", row),
            row=row,
            column="value",
            item=rc.stock,
            value=str(stock),
            detail=detail,
            expected=f"about {expected} ({detail})",
        )
    ]


# ---------------------------------------------------------------- table and record sheets
def table_rules(name: str, frame: pd.DataFrame, layout: SheetLayout, spec: Spec) -> list[Finding]:
    """Every category of the key column present (duplicates are the GX suite's)."""
    sheet = spec.returns.sheets[name]
    key = sheet.key
    if key is None or key in layout.missing:
        return []
    column = next(c for c in sheet.columns if c.name == key)
    present = set(_present(frame[key].tolist()))
    return [
        make_finding(
            "R-CATEGORY-MISSING",
            sheet=layout.title,
            column=key,
            item=code,
            expected=f"a row for {code}",
        )
        for code in spec.returns.code_values(column.codes or "")
        if code not in present
    ]


def records_rules(name: str, frame: pd.DataFrame, layout: SheetLayout, spec: Spec) -> list[Finding]:
    """Nil-return warning and the `max_days_after` date rules."""
    sheet = spec.returns.sheets[name]
    if frame.empty:
        if layout.missing:
            return []
        return [
            make_finding(
                "R-NIL-RETURN",
                sheet=layout.title,
                expected="one row per child, or confirmation of a nil return",
            )
        ]
    findings = []
    for rule in sheet.date_rules:
        if not rule.max_days_after:
            continue
        other, days = rule.max_days_after["column"], int(rule.max_days_after["days"])
        if rule.column not in frame or other not in frame:
            continue
        # Whole days apart (floored, as `.dt.days`) > days  <=>  gap >= days + 1 whole days;
        # NaT compares False, as the blank gap did. numpy: no Series/accessor per rule.
        gap = frame[rule.column].to_numpy() - frame[other].to_numpy()
        for i in np.flatnonzero(gap >= np.timedelta64(days + 1, "D")):
            row = _row(frame, int(i))
            findings.append(
                make_finding(
                    rule.code,
                    severity=rule.severity,
                    sheet=layout.title,
                    cell=layout.cell(rule.column, row),
                    row=row,
                    column=rule.column,
                    value=_shown(frame[rule.column].iloc[i]),
                    detail=days,
                    expected=f"no more than {days} days after {other}",
                )
            )
    return findings


# ---------------------------------------------------------------- Progress
def progress_rules(
    frame: pd.DataFrame, layout: SheetLayout, spec: Spec, cover: Cover, prior: PriorData
) -> list[Finding]:
    """The lead's actions once each; update and completion date as the status requires."""
    if cover.submitter is None or "action_id" in layout.missing:
        return []
    title = layout.title
    mine = [a.id for a in spec.plan.actions_for(cover.submitter)]
    findings: list[Finding] = []
    actions, statuses = frame["action_id"].tolist(), frame["status"].tolist()
    rows = frame["excel_row"].tolist()
    present = set(_present(actions))
    findings.extend(
        make_finding("R-ACTION-MISSING", sheet=title, item=a, expected=f"a row for action {a}")
        for a in mine
        if a not in present
    )
    last = prior.previous_progress(cover.submitter, cover.quarter_end) if cover.quarter_end else {}
    updates = (
        frame["progress_update"].tolist() if "progress_update" in frame else [None] * len(frame)
    )
    dates = (
        frame["completion_date"].tolist() if "completion_date" in frame else [pd.NaT] * len(frame)
    )
    for i in range(len(frame)):
        row = int(rows[i])
        action = actions[i]
        if pd.isna(action):
            continue
        if action not in mine:
            findings.append(
                make_finding(
                    "R-ACTION-UNKNOWN",
                    sheet=title,
                    cell=layout.cell("action_id", row),
                    row=row,
                    column="action_id",
                    item=action,
                    value=str(action),
                    detail="yours are " + ", ".join(mine) if mine else "you lead none",
                    expected="one of " + ", ".join(mine),
                )
            )
            continue
        status, update, done = statuses[i], updates[i], dates[i]
        complete = status == "Complete"
        if (update is None or pd.isna(update)) and not (
            complete and last.get(action) == "Complete"
        ):
            findings.append(
                make_finding(
                    "R-PROGRESS-UPDATE",
                    sheet=title,
                    cell=layout.cell("progress_update", row),
                    row=row,
                    column="progress_update",
                    item=action,
                    value="(blank)",
                    expected="a short description of progress this quarter",
                )
            )
        if complete and pd.isna(done) and "completion_date" in layout.columns:
            findings.append(
                make_finding(
                    "R-COMPLETION-DATE",
                    sheet=title,
                    cell=layout.cell("completion_date", row),
                    row=row,
                    column="completion_date",
                    item=action,
                    value="(blank)",
                    detail="is blank, but the status is Complete",
                    expected="the date the action was completed",
                )
            )
        elif not pd.isna(status) and not complete and not pd.isna(done):
            findings.append(
                make_finding(
                    "R-COMPLETION-DATE",
                    sheet=title,
                    cell=layout.cell("completion_date", row),
                    row=row,
                    column="completion_date",
                    item=action,
                    value=_shown(done),
                    detail=f"is filled in, but the status is {status}",
                    expected="blank unless the status is Complete",
                )
            )
    return findings


def sheet_rules(
    name: str, frame: pd.DataFrame, layout: SheetLayout, spec: Spec, cover: Cover, prior: PriorData
) -> list[Finding]:
    """All pandas rules for one sheet, by the sheet's kind."""
    kind = spec.returns.sheets[name].kind
    if kind == "items":
        return items_rules(name, frame, layout, spec, cover, prior)
    if kind == "table":
        return table_rules(name, frame, layout, spec)
    if kind == "records":
        return records_rules(name, frame, layout, spec)
    return progress_rules(frame, layout, spec, cover, prior)


# ---------------------------------------------------------------- report level
def cross_agency_mismatches(
    lac_starts: pd.DataFrame, health_assessments: pd.DataFrame
) -> pd.DataFrame:
    """Children in one agency's starts for a quarter but not the other's (report level).

    Inputs are accepted frames with `quarter_end` and `child_ref`; references are compared
    ignoring case and surrounding spaces. Only quarters both agencies returned are compared
    (a return not received is "no data", not a mismatch). Changes no workbook's status.
    """
    columns = ["quarter_end", "child_ref", "found_in", "missing_from"]
    sides = {"LAC_Starts": lac_starts, "Health_Assessments": health_assessments}
    keyed = {}
    for label, df in sides.items():
        if df is None or df.empty or "child_ref" not in df or "quarter_end" not in df:
            return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
        k = df[["quarter_end", "child_ref"]].dropna().copy()
        k["key"] = k["child_ref"].astype("str").str.strip().str.upper()
        keyed[label] = k.drop_duplicates(["quarter_end", "key"])
    quarters = set(keyed["LAC_Starts"]["quarter_end"]) & set(
        keyed["Health_Assessments"]["quarter_end"]
    )
    rows = []
    for found, other in (
        ("LAC_Starts", "Health_Assessments"),
        ("Health_Assessments", "LAC_Starts"),
    ):
        a, b = keyed[found], keyed[other]
        a = a[a["quarter_end"].isin(quarters)]
        merged = a.merge(
            b[["quarter_end", "key"]], on=["quarter_end", "key"], how="left", indicator=True
        )
        for _, r in merged[merged["_merge"] == "left_only"].iterrows():
            rows.append(
                {
                    "quarter_end": r["quarter_end"],
                    "child_ref": r["child_ref"],
                    "found_in": found,
                    "missing_from": other,
                }
            )
    out = pd.DataFrame(rows, columns=columns)
    if out.empty:
        return pd.DataFrame({c: pd.Series(dtype="str") for c in columns})
    return out.sort_values(["quarter_end", "child_ref", "found_in"]).reset_index(drop=True)


# ---------------------------------------------------------------- documentation
RULES_DOC = data_path("docs", "rules.md")


def rules_markdown() -> str:
    """docs/rules.md: the catalogue as a table, generated so it cannot drift."""
    lines = [
        "# Validation rules",
        "",
        "Generated from `spec/rules.yaml` by `python -m transforms.intake.suites`; do not edit.",
        "An **error** rejects the whole workbook; a **warning** accepts it with a query.",
        "Stage: `preflight` (before the file is opened), `parse` (reading cells),",
        "`gx` (Great Expectations suite in `expectations/`),",
        "`pandas` (`transforms/intake/rules.py`).",
        "",
        "| code | severity | stage | applies to | message |",
        "|---|---|---|---|---|",
    ]
    for rule in catalogue().values():
        msg = rule.message.replace("|", "\\|")
        lines.append(
            f"| {rule.code} | {rule.severity} | {rule.check} | {rule.applies_to} | {msg} |"
        )
    return "\n".join(lines) + "\n"


def write_rules_doc(path: Path = RULES_DOC) -> Path:
    """Write docs/rules.md."""
    path.write_text(rules_markdown(), encoding="utf-8")
    return path
