"""Small stand-ins for the quarterly flow's heavy steps (see flows/steps.py).

Selected with DATASUMMARY_QUARTERLY_STEPS=tests.fake_steps, so the real flows run (also in a
Prefect runner subprocess, which inherits the environment) without the intake, measure and
report modules. FAKE_RENDER_FAIL=error makes rendering fail with a ValueError;
FAKE_RENDER_FAIL=oserror-once fails once with an OSError, then succeeds.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from transforms.quarterly import QuarterData, document_paths

#: Status of each submitter's return in the fake quarter (others: accepted).
STATUSES = {
    "NHSG": "rejected",
    "EDU": "missing",
    "ICSB": "missing",
    "CPC": "accepted with warnings",
}
MEASURES = [  # measure_id, breakdown, numerator, denominator, target, rag
    ("M01", "all", 40, 50, 0.75, "Green"),
    ("M02", "all", 10, 40, 0.50, "Red"),
    ("M03", "all", None, None, None, None),
]


def expected_returns(conn, quarter_end: dt.date, now: dt.datetime, spec) -> pd.DataFrame:
    """One row per submitter of the spec, statuses from STATUSES."""
    due = quarter_end + dt.timedelta(days=spec.returns.periods.deadline_days)
    rows = []
    for s in spec.returns.submitters:
        status = STATUSES.get(s.code, "accepted")
        rows.append(
            {
                "code": s.code,
                "name": s.name,
                "kind": s.kind,
                "status": status,
                "late": s.code == "CPC",
                "received_at": None if status == "missing" else pd.Timestamp(due, tz="UTC"),
                "due_date": due.isoformat(),
                "overdue": status in ("missing", "rejected") and now.date() > due,
            }
        )
    return pd.DataFrame(rows)


def measures_frame(quarter_end: dt.date) -> pd.DataFrame:
    rows = []
    for mid, bd, num, den, target, rag in MEASURES:
        rows.append(
            {
                "measure_id": mid,
                "quarter_end": pd.Timestamp(quarter_end),
                "breakdown": bd,
                "numerator": num,
                "denominator": den,
                "value": None if num is None else num / den,
                "target": target,
                "trajectory": None,
                "rag": rag,
                "trend": None,
                "reason": "no return received" if num is None else None,
            }
        )
    return pd.DataFrame(rows)


def gather(settings, quarter_end: dt.date, now: dt.datetime) -> QuarterData:
    from transforms.spec import default_spec

    empty = pd.DataFrame()
    measures = measures_frame(quarter_end)
    return QuarterData(
        quarter_end=quarter_end,
        measures=measures,
        public_measures=measures,
        returns=empty,
        expected=expected_returns(None, quarter_end, now, default_spec()),
        progress=empty,
        milestones=empty,
        milestone_results=empty,
        warnings=empty,
        mismatches=empty,
        revisions=empty,
        version="1.0",
        generated_on=quarter_end,
    )


def write_tables(qd: QuarterData, out_dir: Path) -> dict[str, Path]:
    paths = document_paths(out_dir, qd.quarter_end)
    qd.measures.to_csv(paths["measures_csv"], index=False)
    qd.expected.to_csv(paths["returns_csv"], index=False)
    return {"measures_csv": paths["measures_csv"], "returns_csv": paths["returns_csv"]}


def render_documents(
    qd: QuarterData, out_dir: Path, approved_on=None, approved_by=None
) -> dict[str, Path]:
    fail = os.environ.get("FAKE_RENDER_FAIL", "")
    marker = Path(out_dir) / ".failed-once"
    if fail == "error":
        raise ValueError("template field {{ rag_table }} is undefined")
    if fail == "oserror-once" and not marker.exists():
        marker.touch()
        raise OSError("the network share went away")
    paths = document_paths(out_dir, qd.quarter_end)
    out = {}
    for role in ("docx", "xlsx", "public_docx", "public_xlsx"):
        tmp = paths[role].with_suffix(".tmp")
        status = f"approved on {approved_on} by {approved_by}" if approved_by else "DRAFT"
        tmp.write_text(f"{role} {qd.quarter_end} version {qd.version} {status}\n", encoding="utf-8")
        os.replace(tmp, paths[role])
        out[role] = paths[role]
    return out


def record_figures(conn: sa.Connection, run_id: str, qd: QuarterData) -> None:
    """Nothing to keep in the fake."""


def mark_issued(
    conn: sa.Connection,
    quarter_end: dt.date,
    run_id: str,
    version: str,
    approved_by: str,
    comment: str,
) -> None:
    from transforms.store.history import issued_reports

    conn.execute(
        issued_reports.insert().values(
            quarter_end=quarter_end,
            version=version,
            issued_at=dt.datetime.now(dt.UTC),
            approved_by=approved_by,
            comment=comment,
            run_id=run_id,
        )
    )
