"""History of computed figures per run and of what each issued report showed.

A report is *issued* when approved; a workbook accepted afterwards for that quarter is a
revision, and the next run compares its figures with what was issued.

Version scheme (per report quarter): the first issue is "1.0"; a later issue whose figures
were revised against what was issued before is the previous version with its minor number
plus one ("1.1", "1.2", ...); a re-issue with no revised figure keeps the previous version.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from transforms.store.db import metadata

if TYPE_CHECKING:  # pandas is imported where used: intake creates these tables too
    import pandas as pd

issued_reports = sa.Table(
    "issued_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("quarter_end", sa.Date, nullable=False, index=True),
    sa.Column("version", sa.String(16), nullable=False),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("approved_by", sa.Text, nullable=True),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Column("run_id", sa.String(64), nullable=True),
)

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("quarter_end", sa.Date, nullable=False, index=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.String(16), nullable=True),
    sa.Column("status", sa.String(32), nullable=False),
)

run_figures = sa.Table(
    "run_figures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.String(64), sa.ForeignKey("runs.run_id"), nullable=False, index=True),
    sa.Column("measure_id", sa.String(16), nullable=False),
    sa.Column("quarter_end", sa.Date, nullable=False),
    sa.Column("breakdown", sa.String(64), nullable=False),
    sa.Column("numerator", sa.BigInteger, nullable=True),
    sa.Column("denominator", sa.BigInteger, nullable=True),
    sa.Column("value", sa.Float, nullable=True),
    sa.Column("target", sa.Float, nullable=True),
    sa.Column("trajectory", sa.Float, nullable=True),
    sa.Column("rag", sa.String(16), nullable=True),
    sa.Column("reason", sa.Text, nullable=True),
    sa.UniqueConstraint("run_id", "measure_id", "quarter_end", "breakdown", name="uq_run_figure"),
)

FIGURE_COLUMNS = [
    "measure_id",
    "quarter_end",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "target",
    "trajectory",
    "rag",
    "reason",
]
REVISION_COLUMNS = [
    "measure_id",
    "quarter_end",
    "breakdown",
    "old_value",
    "new_value",
    "old_numerator",
    "new_numerator",
    "old_denominator",
    "new_denominator",
    "issued_version",
    "issued_quarter",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _plain(v: Any, kind: str) -> object:
    """`v`, a DataFrame cell (pandas types cells as Any), as a plain value of `kind` or None."""
    import pandas as pd

    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    if kind == "int":
        return int(v)
    if kind == "float":
        return float(v)
    if kind == "date":
        return pd.Timestamp(v).date()
    return str(v)


_KINDS = {
    "numerator": "int",
    "denominator": "int",
    "value": "float",
    "target": "float",
    "trajectory": "float",
    "quarter_end": "date",
}


def issued_quarters(conn: sa.Connection) -> set[dt.date]:
    """Quarters whose report has been issued (approved) at least once."""
    rows = conn.execute(sa.select(issued_reports.c.quarter_end).distinct()).scalars()
    return set(rows)


RUN_RUNNING, RUN_COMPLETED, RUN_FAILED = "running", "completed", "failed"


def start_run(
    conn: sa.Connection,
    run_id: str,
    report_quarter: dt.date,
    started_at: dt.datetime | None = None,
    status: str = RUN_RUNNING,
) -> None:
    """Record a run (idempotent: a second call for the same run id changes nothing)."""
    exists = conn.execute(sa.select(runs.c.run_id).where(runs.c.run_id == run_id)).first()
    if exists is None:
        conn.execute(
            runs.insert().values(
                run_id=run_id,
                quarter_end=report_quarter,
                started_at=started_at or _now(),
                status=status,
            )
        )


def finish_run(conn: sa.Connection, run_id: str, status: str, version: str | None = None) -> None:
    """Set a run's final status (e.g. 'completed', 'failed') and the version it produced."""
    values: dict[str, object] = {"status": status}
    if version is not None:
        values["version"] = version
    conn.execute(runs.update().where(runs.c.run_id == run_id).values(**values))


def record_figures(
    conn: sa.Connection, run_id: str, report_quarter: dt.date, frame: pd.DataFrame
) -> int:
    """Store every figure of a run's measures frame (replacing any stored for that run)."""
    start_run(conn, run_id, report_quarter)
    conn.execute(run_figures.delete().where(run_figures.c.run_id == run_id))
    rows: list[dict[str, object]] = []
    for rec in frame.to_dict(orient="records"):
        row: dict[str, object] = {"run_id": run_id}
        for col in FIGURE_COLUMNS:
            row[col] = _plain(rec.get(col), _KINDS.get(col, "str"))
        rows.append(row)
    if rows:
        conn.execute(run_figures.insert(), rows)
    return len(rows)


def mark_issued(
    conn: sa.Connection,
    quarter_end: dt.date,
    run_id: str,
    version: str,
    approved_by: str | None,
    comment: str | None = None,
    issued_at: dt.datetime | None = None,
) -> int:
    """Record that the report of `run_id` was issued (approved); returns the issue's id."""
    result = conn.execute(
        issued_reports.insert().values(
            quarter_end=quarter_end,
            version=version,
            issued_at=issued_at or _now(),
            approved_by=approved_by,
            comment=comment,
            run_id=run_id,
        )
    )
    conn.execute(
        runs.update().where(runs.c.run_id == run_id).values(status="issued", version=version)
    )
    key = result.inserted_primary_key
    assert key is not None  # an INSERT of one row always has its key
    return int(key[0])


def _figures_query(where: sa.ColumnElement[bool]) -> sa.Select[*tuple[Any, ...]]:
    return (
        sa.select(
            run_figures.c.measure_id,
            run_figures.c.quarter_end,
            run_figures.c.breakdown,
            run_figures.c.numerator,
            run_figures.c.denominator,
            run_figures.c.value,
            run_figures.c.target,
            run_figures.c.trajectory,
            run_figures.c.rag,
            run_figures.c.reason,
            issued_reports.c.version,
            issued_reports.c.quarter_end.label("issued_quarter"),
            issued_reports.c.id.label("issue_id"),
        )
        .join(issued_reports, issued_reports.c.run_id == run_figures.c.run_id)
        .where(where)
    )


def _frame(result: sa.Result[*tuple[Any, ...]]) -> pd.DataFrame:
    import pandas as pd

    cols = [*FIGURE_COLUMNS, "version", "issued_quarter", "issue_id"]
    return pd.DataFrame(result.mappings().all(), columns=cols)


def _differs(a: Any, b: Any) -> bool:
    """Whether two DataFrame cells (typed Any by pandas) hold different figures."""
    import pandas as pd

    a_blank = a is None or (isinstance(a, float) and math.isnan(a)) or pd.isna(a)
    b_blank = b is None or (isinstance(b, float) and math.isnan(b)) or pd.isna(b)
    if a_blank or b_blank:
        return a_blank != b_blank
    return not math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def revisions(conn: sa.Connection, frame: pd.DataFrame) -> pd.DataFrame:
    """Figures in `frame` that differ from what the latest issued report showing them said.

    A figure is (measure_id, quarter_end, breakdown); it differs when its value, numerator or
    denominator changed (blank to a number counts: a late or revised return).
    """
    import pandas as pd

    issued = _frame(conn.execute(_figures_query(sa.true())))
    if issued.empty or frame.empty:
        return pd.DataFrame(columns=REVISION_COLUMNS)
    issued["quarter_end"] = pd.to_datetime(issued["quarter_end"])
    latest = issued.sort_values("issue_id").drop_duplicates(
        ["measure_id", "quarter_end", "breakdown"], keep="last"
    )
    now = frame.assign(quarter_end=pd.to_datetime(frame["quarter_end"]))
    merged = now.merge(
        latest, on=["measure_id", "quarter_end", "breakdown"], suffixes=("_new", "_old")
    )
    out = []
    for r in merged.to_dict(orient="records"):
        if any(
            _differs(r[f"{c}_old"], r[f"{c}_new"]) for c in ("value", "numerator", "denominator")
        ):
            out.append(
                {
                    "measure_id": r["measure_id"],
                    "quarter_end": r["quarter_end"].date(),
                    "breakdown": r["breakdown"],
                    "old_value": _plain(r["value_old"], "float"),
                    "new_value": _plain(r["value_new"], "float"),
                    "old_numerator": _plain(r["numerator_old"], "int"),
                    "new_numerator": _plain(r["numerator_new"], "int"),
                    "old_denominator": _plain(r["denominator_old"], "int"),
                    "new_denominator": _plain(r["denominator_new"], "int"),
                    "issued_version": r["version"],
                    "issued_quarter": r["issued_quarter"],
                }
            )
    result = pd.DataFrame(out, columns=REVISION_COLUMNS)
    return result.sort_values(["measure_id", "quarter_end", "breakdown"]).reset_index(drop=True)


def next_version(conn: sa.Connection, quarter_end: dt.date, revised: bool) -> str:
    """The version the next issue of `quarter_end`'s report carries (see module docstring)."""
    last: str | None = conn.execute(
        sa.select(issued_reports.c.version)
        .where(issued_reports.c.quarter_end == quarter_end)
        .order_by(issued_reports.c.id.desc())
        .limit(1)
    ).scalar()
    if last is None:
        return "1.0"
    if not revised:
        return last
    major, _, minor = last.partition(".")
    return f"{major}.{int(minor or 0) + 1}"
