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
from typing import Any, Protocol

import numpy as np
import pandas as pd

from transforms.catalogue import catalogue, make_finding
from transforms.findings import Cover, Finding
from transforms.intake.sheet_frames import SheetLayout
from transforms.resources import data_path
from transforms.spec import Sheet, Spec


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


def _present(values: list[Any]) -> list[Any]:
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


def _at(code: str, layout: SheetLayout, row: int, column: str, **details: Any) -> Finding:
    """A finding at one cell of a sheet: its title, the cell, row and column named once."""
    return make_finding(
        code, sheet=layout.title, cell=layout.cell(column, row), row=row, column=column, **details
    )


def _column_or(frame: pd.DataFrame, column: str, missing: object) -> list[Any]:
    """A column's values, or `missing` for every row when the sheet lacks the column."""
    return frame[column].tolist() if column in frame else [missing] * len(frame)


# ---------------------------------------------------------------- items sheets
ValueOf = dict[str, tuple[int, Any]]  # an item found once -> (frame position, value)


def items_rules(
    name: str, frame: pd.DataFrame, layout: SheetLayout, spec: Spec, cover: Cover, prior: PriorData
) -> list[Finding]:
    """Items once each, `≤` between items, blank value needs a note, register continuity."""
    sheet = spec.returns.sheets[name]
    if "item" in layout.missing:
        return []
    items, values = frame["item"].tolist(), frame["value"].tolist()  # one pass, no .iloc
    counts = Counter(_present(items))
    findings = [
        make_finding(
            "R-ITEM-MISSING", sheet=layout.title, item=item.item, expected=f"a row for {item.item}"
        )
        for item in sheet.items
        if item.item not in counts
    ]
    once = {value for value, n in counts.items() if n == 1}
    value_of: ValueOf = {items[i]: (i, values[i]) for i in range(len(frame)) if items[i] in once}
    findings.extend(_item_le_findings(sheet, value_of, frame, layout))
    notes = _column_or(frame, "notes", None)
    for i, (item, value, note) in enumerate(zip(items, values, notes, strict=True)):
        if pd.isna(item) or not pd.isna(value) or not (note is None or pd.isna(note)):
            continue
        row = _row(frame, i)
        if layout.cell("value", row) is not None:
            findings.append(
                _at(
                    "R-VALUE-NO-NOTE",
                    layout,
                    row,
                    "value",
                    item=item,
                    value="(blank)",
                    expected="a value, or a note saying why it is not available",
                )
            )
    if sheet.register_continuity and cover.submitter and cover.quarter_end:
        findings.extend(register_continuity(name, layout, value_of, frame, spec, cover, prior))
    return findings


def _item_le_findings(
    sheet: Sheet, value_of: ValueOf, frame: pd.DataFrame, layout: SheetLayout
) -> list[Finding]:
    """Items whose value exceeds the item they must not exceed (`le`)."""
    findings: list[Finding] = []
    for item in sheet.items:
        if item.le and item.item in value_of and item.le in value_of:
            i, v = value_of[item.item]
            _, limit = value_of[item.le]
            if not pd.isna(v) and not pd.isna(limit) and v > limit:
                findings.append(
                    _at(
                        "R-ITEM-LE",
                        layout,
                        _row(frame, i),
                        "value",
                        item=item.item,
                        value=str(v),
                        detail=item.le,
                        expected=f"no more than {item.le} ({limit})",
                    )
                )
    return findings


def register_continuity(
    name: str,
    layout: SheetLayout,
    value_of: ValueOf,
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
    stock_at, inflow_at, outflow_at = (value_of.get(k) for k in (rc.stock, rc.inflow, rc.outflow))
    if stock_at is None or inflow_at is None or outflow_at is None:
        return []
    (i, stock_value), (_, inflow), (_, outflow) = stock_at, inflow_at, outflow_at
    if pd.isna(stock_value) or pd.isna(inflow) or pd.isna(outflow):
        return []
    previous = prior.previous_item(cover.submitter, name, rc.stock, cover.quarter_end)
    if previous is None:
        return []
    stock = int(stock_value)
    expected = previous + int(inflow) - int(outflow)
    if abs(stock - expected) <= max(rc.min_abs, rc.min_rel * expected):
        return []
    detail = f"last quarter {previous} + {rc.inflow} {inflow} − {rc.outflow} {outflow} = {expected}"
    return [
        _at(
            "R-REGISTER-CONTINUITY",
            layout,
            _row(frame, i),
            "value",
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
            findings.append(
                _at(
                    rule.code,
                    layout,
                    _row(frame, int(i)),
                    rule.column,
                    severity=rule.severity,
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
    mine = [a.id for a in spec.plan.actions_for(cover.submitter)]
    actions = frame["action_id"].tolist()
    present = set(_present(actions))
    findings = [
        make_finding(
            "R-ACTION-MISSING", sheet=layout.title, item=a, expected=f"a row for action {a}"
        )
        for a in mine
        if a not in present
    ]
    last = prior.previous_progress(cover.submitter, cover.quarter_end) if cover.quarter_end else {}
    rows = zip(
        frame["excel_row"].tolist(),
        actions,
        frame["status"].tolist(),
        _column_or(frame, "progress_update", None),
        _column_or(frame, "completion_date", pd.NaT),
        strict=True,
    )
    for excel_row, action, status, update, done in rows:
        row = int(excel_row)
        if pd.isna(action):
            continue
        if action not in mine:
            findings.append(
                _at(
                    "R-ACTION-UNKNOWN",
                    layout,
                    row,
                    "action_id",
                    item=action,
                    value=str(action),
                    detail="yours are " + ", ".join(mine) if mine else "you lead none",
                    expected="one of " + ", ".join(mine),
                )
            )
            continue
        complete = status == "Complete"
        if (update is None or pd.isna(update)) and not (
            complete and last.get(action) == "Complete"
        ):
            findings.append(
                _at(
                    "R-PROGRESS-UPDATE",
                    layout,
                    row,
                    "progress_update",
                    item=action,
                    value="(blank)",
                    expected="a short description of progress this quarter",
                )
            )
        findings.extend(_completion_date_findings(layout, row, action, status, done))
    return findings


def _completion_date_findings(
    layout: SheetLayout, row: int, action: str, status: Any, done: Any
) -> list[Finding]:
    """A completion date exactly when the status is Complete."""
    complete = status == "Complete"
    if complete and pd.isna(done) and "completion_date" in layout.columns:
        return [
            _at(
                "R-COMPLETION-DATE",
                layout,
                row,
                "completion_date",
                item=action,
                value="(blank)",
                detail="is blank, but the status is Complete",
                expected="the date the action was completed",
            )
        ]
    if not pd.isna(status) and not complete and not pd.isna(done):
        return [
            _at(
                "R-COMPLETION-DATE",
                layout,
                row,
                "completion_date",
                item=action,
                value=_shown(done),
                detail=f"is filled in, but the status is {status}",
                expected="blank unless the status is Complete",
            )
        ]
    return []


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
