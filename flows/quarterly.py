"""The quarterly flow: intake, then the Data Summary report for one quarter."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE

from datasummary.settings import Settings
from flows.common import engine_for, table_rows
from flows.intake import file_new_returns


@task(name="Compute measures and gather the report", cache_policy=NO_CACHE)
def gather_quarter(settings: Settings, quarter_end: dt.date, now: dt.datetime):
    """Measures, targets, RAG and the report's context from accepted returns."""
    from transforms.quarterly import gather
    from transforms.spec import default_spec

    engine = engine_for(settings)
    try:
        with engine.connect() as conn:
            return gather(conn, default_spec(), quarter_end, now)
    finally:
        engine.dispose()


@task(name="Write measures.csv and returns.csv", cache_policy=NO_CACHE)
def write_tables(qd, out_dir: Path) -> dict[str, Path]:
    """The tidy figures and the returns register, unsuppressed (internal)."""
    from transforms.quarterly import document_paths
    from transforms.returns_status import write_returns_csv
    from transforms.targets import write_measures_csv

    paths = document_paths(out_dir, qd.quarter_end)
    write_measures_csv(qd.measures, paths["measures_csv"])
    write_returns_csv(qd.returns, paths["returns_csv"])
    return {"measures_csv": paths["measures_csv"], "returns_csv": paths["returns_csv"]}


@task(name="Render Word and Excel documents", cache_policy=NO_CACHE)
def render_documents(qd, out_dir: Path) -> dict[str, Path]:
    """Internal and public packs; each file written atomically."""
    from transforms.docx_report import write_docx
    from transforms.xlsx_report import write_xlsx

    from transforms.quarterly import document_paths, report_inputs
    from transforms.spec import default_spec

    spec = default_spec()
    paths = document_paths(out_dir, qd.quarter_end)
    internal = report_inputs(qd, spec, public=False)
    public = report_inputs(qd, spec, public=True)
    write_docx(internal, paths["docx"])
    write_xlsx(internal, paths["xlsx"])
    write_docx(public, paths["public_docx"])
    write_xlsx(public, paths["public_xlsx"])
    return {k: paths[k] for k in ("docx", "xlsx", "public_docx", "public_xlsx")}


@task(name="Record figures and issue", cache_policy=NO_CACHE)
def record_run(settings: Settings, qd, run_id: str, approve: bool, approved_by: str | None):
    """Keep this run's figures; when approved, mark the report issued (revisions key on it)."""
    from transforms.store import history

    engine = engine_for(settings)
    try:
        with engine.begin() as conn:
            history.record_figures(conn, run_id, qd.quarter_end, qd.measures)
            if approve:
                history.mark_issued(conn, qd.quarter_end, run_id, qd.version,
                                    approved_by or "command line")
    finally:
        engine.dispose()


def summary_markdown(qd) -> str:
    """The run summary an operator reads in the UI: returns, RAG counts, key figures."""
    from transforms.quarters import quarter_label

    exp = qd.expected
    counts = exp["status"].value_counts().to_dict() if not exp.empty else {}
    late = int(exp["late"].fillna(False).astype(bool).sum()) if "late" in exp else 0
    headline = qd.measures[(qd.measures["breakdown"] == "all")
                           & (qd.measures["quarter_end"].astype(str)
                              == qd.quarter_end.isoformat())]
    rag = headline["rag"].fillna("").replace("", "no target").value_counts().to_dict()
    lines = [
        f"# Data Summary — {quarter_label(qd.quarter_end)}",
        "",
        f"Version {qd.version}.",
        "",
        "## Returns",
        *(f"- {k}: {v}" for k, v in sorted(counts.items())),
        f"- late: {late}",
        "",
        "## RAG",
        *(f"- {k}: {v}" for k, v in sorted(rag.items())),
    ]
    attention = []
    if not exp.empty:
        for _, r in exp[exp["status"].isin(["missing", "rejected"])].iterrows():
            attention.append(f"- {r['code']}: {r['status']}")
    if not qd.revisions.empty:
        attention.append(f"- {len(qd.revisions)} figure(s) revised since last issue")
    if attention:
        lines += ["", "## Needs attention", *attention]
    return "\n".join(lines)


@flow(name="quarterly-data-summary", flow_run_name="data-summary-{quarter_end}")
def quarterly_flow(quarter_end: dt.date, inbox: Path, output: Path, db_url: str | None = None,
                   approve: bool = False, approved_by: str | None = None,
                   now: dt.datetime | None = None, stable_wait: float = 2.0,
                   run_intake: bool = True) -> dict[str, Path]:
    """Intake, then measures and documents for `quarter_end` in OUTPUT/<quarter-end>/."""
    from prefect.runtime import flow_run

    settings = Settings(inbox=Path(inbox), output=Path(output), db_url=db_url)
    now = now or dt.datetime.now(dt.UTC)
    if run_intake:
        file_new_returns(settings, now, stable_wait)
    out_dir = settings.quarter_dir(quarter_end)
    out_dir.mkdir(parents=True, exist_ok=True)
    qd = gather_quarter(settings, quarter_end, now)
    paths = write_tables(qd, out_dir)
    paths |= render_documents(qd, out_dir)
    record_run(settings, qd, str(flow_run.id or "local"), approve, approved_by)
    create_markdown_artifact(key="data-summary", markdown=summary_markdown(qd),
                             description=f"Run summary {quarter_end}")
    headline = qd.measures[qd.measures["quarter_end"].astype(str) == quarter_end.isoformat()]
    cols = ["measure_id", "breakdown", "numerator", "denominator", "value", "target",
            "trajectory", "rag", "trend", "reason"]
    create_table_artifact(key="measures", table=table_rows(headline[cols]),
                          description=f"Measures {quarter_end}")
    for name, path in paths.items():
        create_link_artifact(key=f"report-{name.replace('_', '-')}",
                             link=Path(path).resolve().as_uri(), link_text=Path(path).name)
    return paths
