"""Dated milestones (met / missed / overdue / due / not yet due) and action status."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from transforms.measures.milestones import milestone_status
from transforms.spec import default_spec

PLAN = default_spec().plan
D = dt.date


def progress(rows: list[tuple]) -> pd.DataFrame:
    """rows: (quarter_end, action_id, status, completion_date or None)."""
    return pd.DataFrame(
        {
            "submitter": ["CPIG"] * len(rows),
            "quarter_end": pd.to_datetime([r[0] for r in rows]),
            "action_id": pd.array([r[1] for r in rows], dtype="str"),
            "status": pd.array([r[2] for r in rows], dtype="str"),
            "progress_update": pd.array(["update"] * len(rows), dtype="str"),
            "completion_date": pd.to_datetime(pd.Series([r[3] for r in rows], dtype="object")),
        }
    )


def status_of(frame: pd.DataFrame, mid: str) -> str:
    return frame.loc[frame["milestone_id"] == mid, "status"].iloc[0]


def test_milestone_statuses():
    prog = progress(
        [
            ("2019-12-31", "5.1", "Complete", "2019-10-20"),  # QAF on time
            ("2019-12-31", "5.3", "On track", None),  # comms strategy not done
            ("2020-03-31", "5.3", "Complete", "2020-02-01"),  # ... completed late
            ("2019-12-31", "3.3", "On track", None),  # workshop, charter: not done
        ]
    )
    out = milestone_status(PLAN, prog, D(2020, 3, 31))
    assert status_of(out, "M-5.1-QAF") == "met"
    assert status_of(out, "M-5.3-COMMS") == "missed"  # completed after the due date
    assert status_of(out, "M-3.3-WORKSHOP") == "overdue"  # missed, still not complete
    assert status_of(out, "M-3.3-CHARTER") == "overdue"
    # the yearly report: first due 2020-10-31, not in the next quarter (to 2020-06-30)
    yearly = out.loc[out["milestone_id"].str.startswith("M-5.1-ANNUAL")]
    assert list(yearly["milestone_id"]) == ["M-5.1-ANNUAL-2020"]
    assert yearly["status"].iloc[0] == "not yet due"
    # 5.1 was completed in 2019 (the QAF), before the annual report's year: not counted
    assert status_of(milestone_status(PLAN, prog, D(2020, 9, 30)), "M-5.1-ANNUAL-2020") == "due"


def test_due_date_is_inclusive_and_before_due_is_not_yet():
    prog = progress([("2019-12-31", "3.3", "Complete", "2019-11-30")])
    assert status_of(milestone_status(PLAN, prog, D(2019, 12, 31)), "M-3.3-WORKSHOP") == "met"
    out = milestone_status(PLAN, progress([]), D(2019, 9, 30))
    assert status_of(out, "M-3.3-WORKSHOP") == "due"  # due in the next quarter
    assert status_of(out, "M-5.1-QAF") == "due"
    # progress reported after as_of is not used
    later = progress([("2020-03-31", "3.3", "Complete", "2019-11-01")])
    assert status_of(milestone_status(PLAN, later, D(2019, 12, 31)), "M-3.3-WORKSHOP") == "overdue"


def test_yearly_expansion():
    prog = progress(
        [
            ("2020-12-31", "5.1", "Complete", "2020-10-15"),  # 2020 report on time
            ("2022-03-31", "5.1", "On track", None),  # then reopened, 2021 not done
        ]
    )
    out = milestone_status(PLAN, prog, D(2022, 3, 31))
    yearly = out.loc[out["milestone_id"].str.startswith("M-5.1-ANNUAL")]
    assert list(yearly["due"]) == [D(2020, 10, 31), D(2021, 10, 31), D(2022, 10, 31)]
    assert list(yearly["status"]) == ["met", "overdue", "not yet due"]
