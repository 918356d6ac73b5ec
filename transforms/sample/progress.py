"""Leads' Progress sheets for the sample: statuses that move, updates with awkward text.

Statuses follow a seeded walk per action, with a script for the actions that carry the
plan's dated milestones (spec/plan.yaml) so some milestones are met and one is missed:
5.3 and 5.1 complete before 31 October 2019 (met), 3.3 completes on 16 December 2019
(workshop due 30 November missed, charter due 31 December met) and then reopens for the
trajectory phase. Updates contain `&` and `<`, and one starts with `=`, to test that every
writer downstream treats submitted text as text.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from transforms.spec import Spec

# action -> {quarter end: (status, completion date or None)}
SCRIPT: dict[str, dict[dt.date, tuple[str, dt.date | None]]] = {
    "5.3": {
        dt.date(2019, 9, 30): ("On track", None),
        dt.date(2019, 12, 31): ("Complete", dt.date(2019, 10, 28)),
    },
    "5.1": {
        dt.date(2019, 9, 30): ("At risk", None),
        dt.date(2019, 12, 31): ("Complete", dt.date(2019, 10, 30)),
    },
    "3.3": {
        dt.date(2019, 9, 30): ("Not started", None),
        dt.date(2019, 12, 31): ("Complete", dt.date(2019, 12, 16)),
        dt.date(2020, 3, 31): ("On track", None),
    },
}
PLAN_START = dt.date(2019, 10, 1)
STEP = {
    "Not started": {"Not started": 2, "On track": 5, "At risk": 2},
    "On track": {"On track": 12, "At risk": 2, "Complete": 1},
    "At risk": {"On track": 4, "At risk": 3, "Off track": 2},
    "Off track": {"At risk": 3, "Off track": 2, "On track": 1},
    "Complete": {"Complete": 1},
}
UPDATES = {
    "Not started": "Scoping with partners & leads; work starts next quarter.",
    "On track": "Actions agreed at the board & progressing; next review in {month}.",
    "At risk": "Capacity < planned in {month}: mitigation agreed with CSW & NHS Grampian.",
    "Off track": "Delayed: data < expected & staffing gaps; recovery plan to board in {month}.",
    "Complete": "Completed & signed off by the lead; evidence held by BIU.",
}
FORMULA_LIKE = "=Data Summary now issued quarterly (see annex) & shared with leads."


def _next_month(qe: dt.date) -> str:
    return (qe + dt.timedelta(days=40)).strftime("%B %Y")


def progress_content(
    spec: Spec, quarters: list[dt.date], seed: int
) -> dict[tuple[str, dt.date], list[dict[str, Any]]]:
    """Progress rows per (lead code, quarter end)."""
    rng = random.Random(seed)
    state: dict[str, tuple[str, dt.date | None]] = {}
    out: dict[tuple[str, dt.date], list[dict[str, Any]]] = {}
    formula_done = False
    for qe in quarters:
        for lead in (s for s in spec.returns.submitters if s.kind == "lead"):
            rows = []
            for action in spec.plan.actions_for(lead.code):
                prev = state.get(action.id)
                status, done = _status(rng, action.id, qe, prev)
                state[action.id] = (status, done)
                update: str | None = UPDATES[status].format(month=_next_month(qe))
                if status == "Complete" and prev and prev[0] == "Complete":
                    # a blank update is allowed here, but only a validator that knows last
                    # quarter can tell: keep every sample return valid on its own
                    update = "Complete; no further update."
                if not formula_done and lead.code == "BIU":
                    update, formula_done = FORMULA_LIKE, True
                rows.append(
                    {
                        "action_id": action.id,
                        "action": action.driver_short,
                        "status": status,
                        "progress_update": update,
                        "completion_date": done if status == "Complete" else None,
                    }
                )
            out[(lead.code, qe)] = rows
    return out


def _status(
    rng: random.Random, action_id: str, qe: dt.date, prev: tuple[str, dt.date | None] | None
) -> tuple[str, dt.date | None]:
    scripted = SCRIPT.get(action_id, {})
    if qe in scripted:
        return scripted[qe]
    if qe < PLAN_START:
        return "Not started", None
    if prev is None:
        prev = ("Not started", None)
    if prev[0] == "Complete":
        return prev
    weights = STEP[prev[0]]
    status = rng.choices(list(weights), weights=list(weights.values()))[0]
    if status == "Complete":
        start = qe.replace(day=1) - dt.timedelta(days=60)
        return status, start + dt.timedelta(days=rng.randint(0, 55))
    return status, None
