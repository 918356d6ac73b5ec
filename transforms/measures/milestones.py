"""Dated plan milestones, with their action's lead-reported status (measures.md §1).

A milestone is **met** when its action is reported `Complete` with a completion_date on or
before the due date; **missed** when the due date has passed without that; **overdue** while
missed and the action is still not complete. Before its due date a milestone is **due** when
it falls within the next quarter after `as_of`, else **not yet due**. Yearly milestones repeat
from their first due date; each occurrence is met by a completion within the year up to it.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from transforms.quarters import shift_quarters
from transforms.spec import Milestone, Plan

MET, MISSED, OVERDUE, DUE, NOT_YET_DUE = "met", "missed", "overdue", "due", "not yet due"
COMPLETE = "Complete"

MILESTONE_COLUMNS = [
    "milestone_id",
    "action",
    "text",
    "due",
    "status",
    "completion_date",
    "action_status",
]


def _add_years(d: dt.date, years: int) -> dt.date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


def occurrences(m: Milestone, as_of: dt.date) -> list[tuple[str, dt.date, dt.date | None]]:
    """(id, due, start of its window) for each occurrence: one for a one-off milestone; for a
    yearly one every due date up to `as_of` plus the next one to come, each with its
    year-long window (a completion counts for the occurrence whose window holds it)."""
    if m.recurring != "yearly":
        return [(m.id, m.due, None)]
    out: list[tuple[str, dt.date, dt.date | None]] = []
    n = 0
    while True:
        due = _add_years(m.due, n)
        out.append((f"{m.id}-{due.year}", due, _add_years(due, -1)))
        if due > as_of:
            return out
        n += 1


def _progress_up_to(progress: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    if progress is None or progress.empty:
        return pd.DataFrame(columns=["action_id", "status", "completion_date", "quarter_end"])
    qe = pd.to_datetime(progress["quarter_end"])
    return progress.loc[qe <= pd.Timestamp(as_of)].assign(quarter_end=qe)


def milestone_status(plan: Plan, progress: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """One row per milestone occurrence with its status on `as_of` (see module docstring).

    progress: accepted Progress rows (action_id, status, completion_date, quarter_end).
    """
    rows = _progress_up_to(progress, as_of)
    next_quarter = shift_quarters(as_of, 1) if as_of.month in (3, 6, 9, 12) else as_of
    out = []
    for m in plan.milestones:
        mine = rows.loc[rows["action_id"] == m.action].sort_values("quarter_end")
        latest = mine.iloc[-1]["status"] if len(mine) else None
        complete = mine.loc[mine["status"] == COMPLETE]
        dates = pd.to_datetime(complete["completion_date"]).dropna().dt.date.tolist()
        done: dt.date | None
        for occ_id, due, window_start in occurrences(m, as_of):
            in_time = [d for d in dates if d <= due and (window_start is None or d > window_start)]
            if in_time:
                status, done = MET, max(in_time)
            elif due <= as_of:
                status = MISSED if latest == COMPLETE else OVERDUE
                done = max(dates) if latest == COMPLETE and dates else None
            else:
                status = DUE if due <= next_quarter else NOT_YET_DUE
                done = None
            out.append(
                {
                    "milestone_id": occ_id,
                    "action": m.action,
                    "text": m.text,
                    "due": due,
                    "status": status,
                    "completion_date": done,
                    "action_status": latest,
                }
            )
    return pd.DataFrame(out, columns=MILESTONE_COLUMNS)
