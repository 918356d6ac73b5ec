"""The heavy steps of the quarterly flow, looked up by name so tests can swap them.

The flow calls `step("gather")(...)` and so on. Normally that is the real implementation
below (plain-Python code in `transforms/`). When `DATASUMMARY_QUARTERLY_STEPS` names an
importable module, any step that module defines replaces the real one: tests use this to run
the real flow, in a real Prefect runner subprocess, against small fakes. Operators never set
it.
"""

from __future__ import annotations

import datetime as dt
import importlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from datasummary.settings import Settings
from flows.common import engine_for
from flows.progress import reporter

STEPS_ENV = "DATASUMMARY_QUARTERLY_STEPS"


def gather(settings: Settings, quarter_end: dt.date, now: dt.datetime):
    """Measures, targets, RAG and the report's context from accepted returns."""
    from transforms.quarterly import gather as gather_quarter_data
    from transforms.spec import default_spec

    engine = engine_for(settings)
    try:
        with engine.connect() as conn:
            return gather_quarter_data(conn, default_spec(), quarter_end, now)
    finally:
        engine.dispose()


def write_tables(qd, out_dir: Path) -> dict[str, Path]:
    """measures.csv and returns.csv (internal, unsuppressed)."""
    from transforms.measures.returns_status import write_returns_csv
    from transforms.measures.targets import write_measures_csv
    from transforms.quarterly import document_paths

    paths = document_paths(out_dir, qd.quarter_end)
    write_measures_csv(qd.measures, paths["measures_csv"])
    write_returns_csv(qd.returns, paths["returns_csv"])
    return {"measures_csv": paths["measures_csv"], "returns_csv": paths["returns_csv"]}


def render_documents(qd, out_dir: Path) -> dict[str, Path]:
    """Internal and public Word and Excel packs; each file is written atomically."""
    from transforms.quarterly import document_paths, report_inputs
    from transforms.reports.excel import write_xlsx
    from transforms.reports.word import write_docx
    from transforms.spec import default_spec

    spec = default_spec()
    paths = document_paths(out_dir, qd.quarter_end)
    internal = report_inputs(qd, spec, public=False)
    public = report_inputs(qd, spec, public=True)
    progress, stage = reporter(), "writing the Word and Excel documents"
    progress(stage, 0, 4)
    for n, (write, inputs, key) in enumerate(
        (
            (write_docx, internal, "docx"),
            (write_xlsx, internal, "xlsx"),
            (write_docx, public, "public_docx"),
            (write_xlsx, public, "public_xlsx"),
        ),
        start=1,
    ):
        write(inputs, paths[key])
        progress(stage, n, 4)
    return {k: paths[k] for k in ("docx", "xlsx", "public_docx", "public_xlsx")}


def record_figures(conn: sa.Connection, run_id: str, qd) -> None:
    """Keep this run's figures (revisions are found against what was issued)."""
    from transforms.store import history

    history.record_figures(conn, run_id, qd.quarter_end, qd.measures)


def mark_issued(
    conn: sa.Connection,
    quarter_end: dt.date,
    run_id: str,
    version: str,
    approved_by: str,
    comment: str,
) -> None:
    """Record that the report for `quarter_end` was approved and by whom."""
    from transforms.store import history

    history.mark_issued(conn, quarter_end, run_id, version, approved_by, comment)


def expected_returns(conn: sa.Connection, quarter_end: dt.date, now: dt.datetime, spec):
    """One row per expected submitter: code, name, kind, status, late, due, overdue…"""
    from transforms.measures.returns_status import expected_returns as expected

    return expected(conn, quarter_end, now, spec)


_REAL: dict[str, Callable[..., Any]] = {
    "gather": gather,
    "write_tables": write_tables,
    "render_documents": render_documents,
    "record_figures": record_figures,
    "mark_issued": mark_issued,
    "expected_returns": expected_returns,
}


def step(name: str) -> Callable[..., Any]:
    """The implementation of step `name` (a replacement when STEPS_ENV names a module)."""
    override = os.environ.get(STEPS_ENV, "").strip()
    if override:
        module = importlib.import_module(override)
        if hasattr(module, name):
            return getattr(module, name)
    return _REAL[name]
