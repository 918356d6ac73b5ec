"""The quarterly flow: intake, then the Data Summary report for one quarter, then review.

Thin wiring over `flows.steps` (which calls `transforms/`). What an operator sees in the UI:
a run named `data-summary-<quarter-end>`, tasks named for what they do, and keyed artifacts
(`data-summary`, `measures`, `report-*`) whose history runs quarter by quarter. Only one run
per quarter at a time (a global concurrency limit `quarterly-<quarter-end>`, taken without
waiting). A rejected return never fails the run; a failure to write the report does, with
the cause in the log, and leaves the previous documents in place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import Annotated

from prefect import flow, get_run_logger, task
from prefect.artifacts import (
    create_link_artifact,
    create_markdown_artifact,
    create_table_artifact,
)
from prefect.cache_policies import NO_CACHE
from pydantic import AfterValidator

from datasummary.settings import Settings, default_inbox, default_output
from flows.common import engine_for, table_rows
from flows.intake import file_new_returns, is_transient_io_error
from flows.progress import reporter
from flows.steps import step

#: A pause for review lasts at most this long (seconds) before the run fails as unreviewed.
REVIEW_TIMEOUT = 14 * 24 * 3600
MEASURE_COLUMNS = [
    "measure_id",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "target",
    "trajectory",
    "rag",
    "trend",
    "reason",
]


class QuarterAlreadyRunning(RuntimeError):
    """Another run for the same quarter holds the quarter's concurrency slot."""


def _quarter_end(value: dt.date) -> dt.date:
    from transforms.quarters import parse_quarter

    return parse_quarter(value.isoformat())


#: A date that must be a quarter end; the error is `parse_quarter`'s message.
QuarterEnd = Annotated[dt.date, AfterValidator(_quarter_end)]


def default_quarter(today: dt.date | None = None) -> dt.date:
    """The quarter just ended: the last one whose deadline has passed (spec deadline)."""
    from transforms.quarters import latest_due_quarter
    from transforms.spec import default_spec

    days = default_spec().returns.periods.deadline_days
    return latest_due_quarter(today or dt.date.today(), days)


def quarterly_run_name() -> str:
    """'data-summary-<quarter-end>', also for scheduled runs that leave the quarter blank."""
    from prefect.runtime import flow_run

    quarter = flow_run.parameters.get("quarter_end")
    return f"data-summary-{quarter or default_quarter()}"


@contextmanager
def one_run_per_quarter(quarter_end: dt.date) -> Iterator[None]:
    """Hold the quarter's slot for the whole run; refuse (do not queue) a second run."""
    import httpx
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.concurrency._asyncio import ConcurrencySlotAcquisitionError
    from prefect.concurrency.sync import concurrency
    from prefect.exceptions import ObjectAlreadyExists

    name = f"quarterly-{quarter_end.isoformat()}"
    with get_client(sync_client=True) as client, suppress(ObjectAlreadyExists):
        client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
    with ExitStack() as stack:
        try:
            stack.enter_context(concurrency(name, occupy=1, max_retries=0, strict=True))
        except ConcurrencySlotAcquisitionError as exc:
            cause = exc.__cause__
            if isinstance(cause, httpx.HTTPStatusError) and cause.response.status_code == 423:
                raise QuarterAlreadyRunning(
                    f"A run for quarter {quarter_end.isoformat()} is already running; "
                    "this one was not started. Wait for it to finish (or approve it)."
                ) from None
            raise
        yield


@task(name="Compute measures and gather the report", cache_policy=NO_CACHE)
def gather_quarter(settings: Settings, quarter_end: dt.date, now: dt.datetime):
    """Measures, targets, RAG and the report's context from accepted returns."""
    return step("gather")(settings, quarter_end, now)


@task(
    name="Write measures.csv and returns.csv",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def write_tables(qd, out_dir: Path) -> dict[str, Path]:
    """The tidy figures and the returns register, unsuppressed (internal)."""
    return step("write_tables")(qd, out_dir)


@task(
    name="Render Word and Excel documents",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def render_documents(qd, out_dir: Path) -> dict[str, Path]:
    """Internal and public packs; each file written atomically by the renderers."""
    return step("render_documents")(qd, out_dir)


@task(name="Record this run's figures", cache_policy=NO_CACHE)
def record_run(settings: Settings, qd, run_id: str) -> None:
    """Keep the figures of every run; issuing is the review step's business."""
    engine = engine_for(settings)
    try:
        with engine.begin() as conn:
            step("record_figures")(conn, run_id, qd)
    finally:
        engine.dispose()


def key_messages(qd) -> list[str]:
    """Short messages from the figures: those gathered with the report, else RAG counts."""
    given = (qd.extra or {}).get("key_messages") if hasattr(qd, "extra") else None
    if given:
        return list(given)
    rag = _headline(qd)["rag"].dropna()
    rag = rag[rag != ""]
    if rag.empty:
        return ["No measure could be rated against a target this quarter."]
    counts = rag.value_counts()
    parts = [f"{counts[k]} {k}" for k in ("Green", "Amber", "Red", "Not rated") if k in counts]
    return [f"{len(rag)} measure(s) with a target: " + ", ".join(parts) + "."]


def _headline(qd):
    m = qd.measures
    return m[
        (m["breakdown"] == "all")
        & (m["quarter_end"].astype(str).str[:10] == qd.quarter_end.isoformat())
    ]


def summary_markdown(qd) -> str:
    """The run summary an operator reads in the UI: returns, RAG counts, key messages."""
    from transforms.quarters import quarter_label

    exp = qd.expected
    counts = exp["status"].value_counts().to_dict() if not exp.empty else {}
    late = int(exp["late"].fillna(False).astype(bool).sum()) if "late" in exp else 0
    rag = _headline(qd)["rag"].fillna("").replace("", "no target").value_counts().to_dict()
    received = int((exp["status"] != "missing").sum()) if not exp.empty else 0
    lines = [
        f"# Data Summary — {quarter_label(qd.quarter_end)}",
        "",
        f"Version {qd.version}.",
        "",
        "## Returns",
        f"- received: {received} of {len(exp)} expected",
        *(
            f"- {k}: {counts.get(k, 0)}"
            for k in ("accepted", "accepted with warnings", "rejected", "missing")
        ),
        f"- late: {late}",
        "",
        "## RAG",
        *(f"- {k}: {v}" for k, v in sorted(rag.items())),
        "",
        "## Key messages",
        *(f"- {m}" for m in key_messages(qd)),
    ]
    attention = []
    if not exp.empty:
        for r in exp[exp["status"].isin(["missing", "rejected"])].to_dict(orient="records"):
            attention.append(f"- {r['code']}: {r['status']}")
    if not qd.revisions.empty:
        attention.append(f"- {len(qd.revisions)} figure(s) revised since last issue")
    lines += ["", "## Needs attention", *(attention or ["- nothing"])]
    return "\n".join(lines)


def publish_artifacts(qd, paths: dict[str, Path]) -> None:
    """Keyed artifacts: the summary, the quarter's headline measures, links to documents."""
    quarter_end = qd.quarter_end
    create_markdown_artifact(
        key="data-summary", markdown=summary_markdown(qd), description=f"Run summary {quarter_end}"
    )
    headline = qd.measures[
        qd.measures["quarter_end"].astype(str).str[:10] == quarter_end.isoformat()
    ]
    cols = [c for c in MEASURE_COLUMNS if c in headline.columns]
    create_table_artifact(
        key="measures", table=table_rows(headline[cols]), description=f"Measures {quarter_end}"
    )
    for name, path in paths.items():
        create_link_artifact(
            key=f"report-{name.replace('_', '-')}",
            link=Path(path).resolve().as_uri(),
            link_text=Path(path).name,
            description=f"{Path(path).name} ({quarter_end}, draft)",
        )


@flow(name="quarterly-data-summary", flow_run_name=quarterly_run_name)
def quarterly_flow(
    quarter_end: QuarterEnd | None = None,
    inbox: Path | None = None,
    output: Path | None = None,
    db_url: str | None = None,
    approve: bool = False,
    approved_by: str | None = None,
    wait_for_review: bool = False,
    review_timeout: int = REVIEW_TIMEOUT,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    run_intake: bool = True,
) -> dict[str, Path]:
    """Intake, then measures and documents for `quarter_end` in OUTPUT/<quarter-end>/.

    Documents are a draft until approved: `approve=True` approves at once (runs by hand,
    the demo); `wait_for_review=True` (the schedule) pauses for an analyst's decision;
    otherwise the draft stays a draft (command line without --approve).
    """
    from prefect.runtime import flow_run

    from flows.approval import ReviewDecision, apply_decision
    from flows.approval import wait_for_review as pause_for_review

    logger = get_run_logger()
    quarter_end = _quarter_end(quarter_end) if quarter_end else default_quarter()
    settings = Settings(
        inbox=Path(inbox or default_inbox()), output=Path(output or default_output()), db_url=db_url
    )
    now = now or dt.datetime.now(dt.UTC)
    run_id = str(flow_run.id or "local")
    report = reporter()
    with one_run_per_quarter(quarter_end):
        if run_intake:
            file_new_returns(settings, now, stable_wait)
        out_dir = settings.quarter_dir(quarter_end)
        out_dir.mkdir(parents=True, exist_ok=True)
        report("computing the measures", 0, None)
        qd = gather_quarter(settings, quarter_end, now)
        report("writing measures.csv and returns.csv", 0, None)
        paths = write_tables(qd, out_dir)
        paths |= render_documents(qd, out_dir)
        report("recording this run's figures", 0, None)
        record_run(settings, qd, run_id)
        publish_artifacts(qd, paths)
        if approve:
            decision = ReviewDecision(decision="approve", reviewer=approved_by or "command line")
        elif wait_for_review:
            logger.info("Draft for %s written; waiting for review", quarter_end)
            decision = pause_for_review(quarter_end, summary_markdown(qd), review_timeout)
        else:
            logger.info("Draft for %s written (not approved)", quarter_end)
            return paths
        logger.info("Review of %s: %s by %s", quarter_end, decision.decision, decision.reviewer)
        published = apply_decision(settings, quarter_end, qd.version, run_id, decision, paths)
    return paths | {f"published_{k}": v for k, v in published.items()}
