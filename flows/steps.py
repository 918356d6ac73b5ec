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
    from transforms.quarterly import write_tables as write

    return write(qd, out_dir)


def render_documents(
    qd, out_dir: Path, approved_on: dt.date | None = None, approved_by: str | None = None
) -> dict[str, Path]:
    """Internal and public Word and Excel packs and the open data; each file atomically."""
    from transforms.quarterly import render_documents as render
    from transforms.spec import default_spec

    return render(qd, default_spec(), out_dir, approved_on, approved_by, reporter())


def record_figures(conn: sa.Connection, run_id: str, qd) -> None:
    """Keep this run's figures (revisions are found against what was issued); the run's
    documents are written by now, so the run is recorded as completed with its version."""
    from transforms.store import history

    history.record_figures(conn, run_id, qd.quarter_end, qd.measures)
    history.finish_run(conn, run_id, history.RUN_COMPLETED, version=qd.version)


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
