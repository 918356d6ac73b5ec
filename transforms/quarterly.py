"""The quarterly pipeline: from the store to a quarter's figures, CSVs and documents.

One pipeline for every caller: the quarterly flow, the national flow and the command line's
tests all call `produce_quarter`; nothing else assembles these steps. Plain Python so the
flows stay thin wiring (tests substitute a step with monkeypatch, never a setting). Each
figure comes from accepted, in-force returns only.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import sqlalchemy as sa

from transforms.gc_pacing import fewer_collections
from transforms.progress import Progress, no_progress
from transforms.spec import Spec

if TYPE_CHECKING:
    from transforms.forked import Ahead
    from transforms.reports.inputs import ReportInputs

log = logging.getLogger(__name__)


@dataclass
class QuarterData:
    """The figures and context of one quarterly report, before rendering."""

    quarter_end: dt.date
    measures: pd.DataFrame
    public_measures: pd.DataFrame
    returns: pd.DataFrame
    expected: pd.DataFrame
    progress: pd.DataFrame
    milestones: pd.DataFrame
    milestone_results: pd.DataFrame
    warnings: pd.DataFrame
    mismatches: pd.DataFrame
    revisions: pd.DataFrame
    version: str
    generated_on: dt.date


def generated_on(returns: pd.DataFrame, report_quarter: dt.date) -> dt.date:
    """The report's date from its data (latest receipt up to now), never the wall clock.

    The same accepted data then gives the same document, byte for byte where the tools allow.
    """
    if returns.empty:
        return report_quarter
    stamps = pd.to_datetime(returns["received_at"], utc=True, errors="coerce").dropna()
    return stamps.max().date() if not stamps.empty else report_quarter


def data_quality_warnings(conn: sa.Connection, quarter_end: dt.date) -> pd.DataFrame:
    """Warnings on the quarter's in-force returns, with the submitter's note where one exists.

    The note is the `notes` cell of the row the warning names (items and table sheets).
    """
    from transforms.findings import IN_FORCE
    from transforms.intake.cells import sheet_key
    from transforms.store import ledger
    from transforms.store.accepted import tables as sheet_tables

    tables = {sheet_key(name): table for name, table in sheet_tables().items()}

    sub, fnd, files = ledger.submissions, ledger.findings, ledger.files
    query = (
        sa.select(
            sub.c.submitter,
            files.c.original_name.label("file"),
            fnd.c.sheet,
            fnd.c.cell,
            fnd.c.row,
            fnd.c.rule,
            fnd.c.message,
            sub.c.sha256,
        )
        .join(fnd, fnd.c.sha256 == sub.c.sha256)
        .join(files, files.c.sha256 == sub.c.sha256)
        .where(
            sub.c.quarter_end == quarter_end,
            sub.c.status.in_(IN_FORCE),
            fnd.c.severity == "warning",
        )
        .order_by(sub.c.submitter, fnd.c.sheet, fnd.c.row, fnd.c.cell)
    )
    rows: list[dict[str, object]] = []
    for r in conn.execute(query).mappings():
        note = None
        table = tables.get(sheet_key(r["sheet"])) if r["sheet"] else None
        if table is not None and "notes" in table.c and r["row"] is not None:
            note = conn.execute(
                sa.select(table.c.notes).where(
                    table.c.sha256 == r["sha256"], table.c.excel_row == r["row"]
                )
            ).scalar()
        location = r["cell"] or (f"row {r['row']}" if r["row"] else "")
        rows.append(
            {
                "submitter": r["submitter"],
                "file": r["file"],
                "sheet": r["sheet"] or "",
                "location": location,
                "rule": r["rule"],
                "message": r["message"],
                "note": note or "",
            }
        )
    return pd.DataFrame(
        rows, columns=["submitter", "file", "sheet", "location", "rule", "message", "note"]
    )


def gather(conn: sa.Connection, spec: Spec, quarter_end: dt.date, now: dt.datetime) -> QuarterData:
    """Compute the quarter's measures and collect the report's context from the store."""
    from transforms.intake.rules import cross_agency_mismatches
    from transforms.measures import disclosure, milestones, targets
    from transforms.measures.returns_status import expected_returns, returns_frame
    from transforms.measures.targets import measures_table
    from transforms.store import history
    from transforms.store.accepted import accepted_data

    data = accepted_data(conn, spec.returns)
    frame = measures_table(data, spec, quarter_end, spec.plan.first_quarter)
    public = disclosure.public_measures(frame, spec)
    # "every workbook received up to this run" (outputs.md): all of them, whatever quarter.
    returns = returns_frame(conn)
    expected = expected_returns(conn, quarter_end, now, spec)
    progress_all = data["Progress"]
    progress = progress_all[progress_all["quarter_end"] == pd.Timestamp(quarter_end)]
    ms = milestones.milestone_status(spec.plan, progress_all, quarter_end)
    ms_results = targets.milestone_results(frame, spec)
    mism = cross_agency_mismatches(data["LAC_Starts"], data["Health_Assessments"])
    mism = mism[pd.to_datetime(mism["quarter_end"]) <= pd.Timestamp(quarter_end)]
    revisions = history.revisions(conn, frame)
    version = history.next_version(conn, quarter_end, revised=not revisions.empty)
    return QuarterData(
        quarter_end=quarter_end,
        measures=frame,
        public_measures=public,
        returns=returns,
        expected=expected,
        progress=progress,
        milestones=ms,
        milestone_results=ms_results,
        warnings=data_quality_warnings(conn, quarter_end),
        mismatches=mism,
        revisions=revisions,
        version=version,
        generated_on=generated_on(returns, quarter_end),
    )


def document_paths(out_dir: Path, quarter_end: dt.date) -> dict[str, Path]:
    """The files a quarterly run writes (outputs.md), by role."""
    stem = f"Data_Summary_{quarter_end.isoformat()}"
    return {
        "docx": out_dir / f"{stem}.docx",
        "xlsx": out_dir / f"{stem}.xlsx",
        "public_docx": out_dir / f"{stem}_public.docx",
        "public_xlsx": out_dir / f"{stem}_public.xlsx",
        "measures_csv": out_dir / "measures.csv",
        "returns_csv": out_dir / "returns.csv",
        "measures_public_csv": out_dir / "measures_public.csv",
        "datapackage": out_dir / "datapackage.json",
    }


def report_inputs(
    qd: QuarterData,
    spec: Spec,
    *,
    public: bool,
    approved_on: dt.date | None = None,
    approved_by: str | None = None,
) -> ReportInputs:
    """The renderers' input for the internal or the public pack; without an approval the
    documents are a draft and say DRAFT."""
    from transforms.reports.inputs import ReportInputs

    return ReportInputs(
        quarter_end=qd.quarter_end,
        measures=qd.public_measures if public else qd.measures,
        public=public,
        returns=qd.returns,
        expected=qd.expected,
        progress=qd.progress,
        milestones=qd.milestones,
        milestone_results=qd.milestone_results,
        warnings=qd.warnings,
        mismatches=qd.mismatches,
        revisions=qd.revisions,
        version=qd.version,
        generated_on=qd.generated_on,
        spec=spec,
        approved_on=approved_on,
        approved_by=approved_by,
    )


#: The stages `produce_quarter` reports, in order (rendering counts its documents).
COMPUTING_MEASURES = "computing the measures"
WRITING_TABLES = "writing measures.csv and returns.csv"
RECORDING_FIGURES = "recording this run's figures"
#: The documents of a quarter, in the order they are written.
DOCUMENTS = ("docx", "xlsx", "public_docx", "public_xlsx")
WRITING_DOCUMENTS = "writing the Word and Excel documents"
DRAWING_CHARTS = "drawing the charts and rendering the documents"


def chart_cache_dir(out_dir: Path) -> Path:
    """Where a quarter's drawn charts are kept between runs: OUTPUT/.cache/charts/<quarter>.

    Beside the internal documents (the charts show unsuppressed figures), outside the
    quarter's folder of issued files.
    """
    return out_dir.parent / ".cache" / "charts" / out_dir.name


def draw_charts(qd: QuarterData, spec: Spec, out_dir: Path, processes: int | None = None) -> int:
    """Draw every chart both packs will embed, once each and in parallel, reusing the
    charts of the last run that are unchanged; how many had to be drawn."""
    from transforms.reports.charts import draw_ahead
    from transforms.reports.context import planned_charts

    jobs = [
        job
        for public in (False, True)
        for job in planned_charts(report_inputs(qd, spec, public=public))
    ]
    return draw_ahead(jobs, chart_cache_dir(out_dir), processes)


def render_documents(
    qd: QuarterData,
    spec: Spec,
    out_dir: Path,
    approved_on: dt.date | None = None,
    approved_by: str | None = None,
    progress: Progress = no_progress,
    processes: int | None = None,
    renderer: Ahead[_RenderJob, dict[str, bytes]] | None = None,
) -> dict[str, Path]:
    """The internal and public Word and Excel packs and the open data beside them, each
    written atomically: a draft, or, given the approval, the issued documents whose cover
    names the date and the approver. The charts of both packs are drawn first, then the four
    documents rendered, each in parallel over `processes` cores (default: all available;
    1 where the caller already runs one partnership per core, as the national run does).
    With a `renderer` (forked by `produce_quarter` while it computed the measures, so the
    drawing and writing libraries are loaded already) the drawing and rendering happen there.
    """
    from transforms.atomic import atomic_write_bytes
    from transforms.reports.open_data import write_open_data

    paths = document_paths(out_dir, qd.quarter_end)
    progress(DRAWING_CHARTS, 0, None)
    job = _RenderJob(qd, spec, out_dir, approved_on, approved_by, processes)
    if renderer is None:
        rendered = _rendered(job)
    else:
        renderer.send(job)
        rendered = renderer.result()
    progress(WRITING_DOCUMENTS, 0, len(DOCUMENTS))
    for done, role in enumerate(DOCUMENTS, start=1):
        atomic_write_bytes(paths[role], rendered[role])
        log.info("wrote %s", paths[role].name)
        progress(WRITING_DOCUMENTS, done, len(DOCUMENTS))
    opened: dict[str, Path] = write_open_data(qd.public_measures, spec, qd.quarter_end, out_dir)
    return {k: paths[k] for k in DOCUMENTS} | opened


@dataclass(frozen=True)
class _RenderJob:
    """What drawing the charts and rendering the four documents needs (pickled to a
    `renderer`)."""

    qd: QuarterData
    spec: Spec
    out_dir: Path
    approved_on: dt.date | None
    approved_by: str | None
    processes: int | None


def _rendered(job: _RenderJob) -> dict[str, bytes]:
    """The four documents' bytes by role, once every chart they embed is drawn (or kept from the
    last run); nothing but the chart cache is written."""
    from transforms.forked import forked_map

    draw_charts(job.qd, job.spec, job.out_dir, job.processes)
    _import_writers()  # once, before the children fork
    longest_first = sorted(DOCUMENTS, key=lambda role: not role.endswith("xlsx"))
    jobs = [
        _DocumentJob(job.qd, job.spec, role, job.approved_on, job.approved_by)
        for role in longest_first
    ]
    return dict(zip(longest_first, forked_map(_document_bytes, jobs, job.processes), strict=True))


def _import_renderers() -> None:
    """Everything drawing and rendering import, loaded by a `renderer` before it is needed."""
    from transforms.reports.charts import import_matplotlib

    import_matplotlib()
    _import_writers()


def _import_writers() -> None:
    """The Word and Excel writers' libraries, loaded before the documents' children fork."""
    import docxtpl  # noqa: F401
    import openpyxl  # noqa: F401

    import transforms.reports.excel  # noqa: F401
    import transforms.reports.word  # noqa: F401


@dataclass(frozen=True)
class _DocumentJob:
    """One of the four documents to render: its role in `document_paths` and its inputs."""

    qd: QuarterData
    spec: Spec
    role: str
    approved_on: dt.date | None
    approved_by: str | None


def _document_bytes(job: _DocumentJob) -> bytes:
    """One document's bytes (pure: the charts are drawn already, nothing is written), so
    the four can be rendered side by side in forked children."""
    from transforms.reports.excel import render_xlsx_bytes
    from transforms.reports.word import render_docx_bytes

    public = job.role.startswith("public_")
    inputs = report_inputs(
        job.qd, job.spec, public=public, approved_on=job.approved_on, approved_by=job.approved_by
    )
    return render_docx_bytes(inputs) if job.role.endswith("docx") else render_xlsx_bytes(inputs)


def run_summary(qd: QuarterData, spec: Spec) -> str:
    """The markdown summary of a run (Prefect artifact, review step): the internal pack's
    key messages, so the operator reads the same sentences as COG."""
    from transforms.reports.context import summary_markdown

    summary: str = summary_markdown(report_inputs(qd, spec, public=False))
    return summary


def write_tables(qd: QuarterData, out_dir: Path) -> dict[str, Path]:
    """measures.csv and returns.csv (internal, unsuppressed), each written atomically."""
    from transforms.measures.returns_status import write_returns_csv
    from transforms.measures.targets import write_measures_csv

    out_dir.mkdir(parents=True, exist_ok=True)
    paths = document_paths(out_dir, qd.quarter_end)
    write_measures_csv(qd.measures, paths["measures_csv"])
    write_returns_csv(qd.returns, paths["returns_csv"])
    return {k: paths[k] for k in ("measures_csv", "returns_csv")}


def write_quarter_outputs(
    qd: QuarterData,
    spec: Spec,
    out_dir: Path,
    approved_on: dt.date | None = None,
    approved_by: str | None = None,
    progress: Progress = no_progress,
    renderer: Ahead[_RenderJob, dict[str, bytes]] | None = None,
) -> dict[str, Path]:
    """Every file of a quarter: the CSVs, the four documents and the open data, by role."""
    progress(WRITING_TABLES, 0, None)
    tables = write_tables(qd, out_dir)
    docs = render_documents(
        qd, spec, out_dir, approved_on, approved_by, progress, renderer=renderer
    )
    return tables | docs


@dataclass(frozen=True)
class QuarterOutputs:
    """What one run of the pipeline produced: the quarter's data and the files written."""

    data: QuarterData
    paths: dict[str, Path]
    run_id: str


@fewer_collections()
def produce_quarter(
    engine: sa.Engine,
    spec: Spec,
    quarter_end: dt.date,
    now: dt.datetime,
    out_dir: Path,
    run_id: str,
    progress: Progress = no_progress,
    approved_on: dt.date | None = None,
    approved_by: str | None = None,
) -> QuarterOutputs:
    """Gather the quarter from the store, write its CSVs and documents, keep its figures.

    Without an approval the documents are a draft; with one (known before rendering: a run
    approved at once) they are rendered once, as issued. The run is recorded in the history's
    `runs` table as running, then completed (with the version produced) or failed, so a run
    that died half-way is visible as such. Running it again with the same `run_id` (a retry)
    records one run. The collector runs less often meanwhile (`transforms.gc_pacing`); the
    children drawing and rendering inherit that.
    """
    from transforms.forked import Ahead
    from transforms.store import history

    with engine.begin() as conn:
        history.start_run(conn, run_id, quarter_end, started_at=now)
    try:
        # Loading matplotlib (about 0.6 s) is on the drawing's path: a child loads it and
        # the writers on the other core while this process computes the measures, then
        # draws and renders there.
        with Ahead(_import_renderers, _rendered) as renderer:
            progress(COMPUTING_MEASURES, 0, None)
            with engine.connect() as conn:
                qd = gather(conn, spec, quarter_end, now)
            paths = write_quarter_outputs(
                qd, spec, out_dir, approved_on, approved_by, progress, renderer
            )
        progress(RECORDING_FIGURES, 0, None)
        with engine.begin() as conn:
            history.record_figures(conn, run_id, quarter_end, qd.measures)
            history.finish_run(conn, run_id, history.RUN_COMPLETED, version=qd.version)
    except BaseException:
        with engine.begin() as conn:
            history.finish_run(conn, run_id, history.RUN_FAILED)
        raise
    return QuarterOutputs(data=qd, paths=paths, run_id=run_id)
