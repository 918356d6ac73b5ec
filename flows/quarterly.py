"""The quarterly flow: intake, then the Data Summary report for one quarter, then review.

Thin wiring over the one pipeline, `transforms.quarterly.produce_quarter`, run as one task
that logs each stage. What an operator sees in the UI: a run named
`data-summary-<quarter-end>`, tasks named for what they do, and keyed artifacts
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
from typing import TYPE_CHECKING, Annotated, Any

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from pydantic import AfterValidator, WithJsonSchema

from datasummary.settings import Settings, default_inbox, default_output
from flows.common import document_artifacts, engine_for, expected_failure
from flows.intake import file_new_returns, is_transient_io_error
from flows.progress import reporter
from transforms.progress import Progress
from transforms.quarterly import QuarterData, QuarterOutputs
from transforms.quarters import london_date

if TYPE_CHECKING:
    from flows.approval import ReviewDecision

#: An approval known before the documents are rendered: (approved on, approved by).
Approval = tuple[dt.date, str]

#: A pause for review lasts at most this many days before the run fails as unreviewed.
REVIEW_DAYS = 14.0
#: The measures artifact's columns: the report's own wording (transforms.reports.context).
MEASURE_TABLE = {
    "label": "Measure",
    "value": "Value",
    "n_of_d": "n of N",
    "target": "Target",
    "rag": "RAG",
    "trend": "Trend",
}


class QuarterAlreadyRunning(RuntimeError):
    """Another run for the same quarter holds the quarter's concurrency slot."""


def _quarter_end(value: dt.date) -> dt.date:
    from transforms.quarters import parse_quarter

    return parse_quarter(value.isoformat())


#: A date that must be a quarter end; the error is `parse_quarter`'s message.
QuarterEnd = Annotated[dt.date, AfterValidator(_quarter_end)]

#: A quarter-end parameter as the deployment forms show it: a date, blank for the default.
#: Checked inside the flow (not by the parameter validator) so a wrong date still gives a
#: run with its proper name and a one-line reason.
QuarterParameter = Annotated[
    dt.date | None,
    WithJsonSchema(
        {
            "type": "string",
            "format": "date",
            "title": "Quarter end",
            "description": "The last day of the quarter, e.g. 2026-09-30. "
            "Leave blank for the quarter just ended (the last one whose deadline has passed).",
        }
    ),
]


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
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    name = f"quarterly-{quarter_end.isoformat()}"
    with get_client(sync_client=True) as client:
        try:  # read first: creating one that exists logs an IntegrityError on the server
            client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            with suppress(ObjectAlreadyExists):
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(name=name, limit=1)
                )
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


def stage_progress() -> Progress:
    """The command line's progress reporter, plus one log line per stage for the run's page
    in the UI (under a deployment nothing else shows how far the pipeline got)."""
    logger, report, seen = get_run_logger(), reporter(), set()

    def progress(stage: str, done: int, total: int | None) -> None:
        report(stage, done, total)
        if stage not in seen:
            seen.add(stage)
            logger.info("%s%s", stage[:1].upper(), stage[1:])

    return progress


@task(
    name="Compute the measures and write the documents",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def produce(
    settings: Settings,
    quarter: dt.date,
    now: dt.datetime,
    run_id: str,
    approval: Approval | None = None,
) -> QuarterOutputs:
    """The quarter's CSVs and documents, its figures kept: the one pipeline
    (`transforms.quarterly.produce_quarter`). A draft, or with an approval known before
    rendering the issued documents, rendered once."""
    from transforms.quarterly import produce_quarter
    from transforms.spec import default_spec

    approved_on, approved_by = approval if approval else (None, None)
    engine = engine_for(settings)
    try:
        return produce_quarter(
            engine,
            default_spec(),
            quarter,
            now,
            settings.quarter_dir(quarter),
            run_id,
            progress=stage_progress(),
            approved_on=approved_on,
            approved_by=approved_by,
        )
    finally:
        engine.dispose()


@task(
    name="Render the issued documents",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def render_issued(qd: QuarterData, out_dir: Path, approval: Approval) -> dict[str, Path]:
    """The draft's documents again, as issued after review: the cover names the date and
    the approver. Each file is replaced atomically."""
    from transforms.quarterly import render_documents
    from transforms.spec import default_spec

    approved_on, approved_by = approval
    return render_documents(qd, default_spec(), out_dir, approved_on, approved_by, stage_progress())


def summary_markdown(qd: QuarterData) -> str:
    """The run summary: the report's own key messages (transforms writes them, once)."""
    from transforms.quarterly import run_summary
    from transforms.spec import default_spec

    return run_summary(qd, default_spec())


def measure_table(qd: QuarterData) -> list[dict[str, str]]:
    """The quarter's measures as the report prints them: name, value with its unit and
    rounding, n of N, target, RAG in words, trend (the report's own formatting functions)."""
    from transforms.quarterly import report_inputs
    from transforms.reports.context import measure_ids, measure_row, normalised_measures
    from transforms.spec import default_spec

    inputs = report_inputs(qd, default_spec(), public=False)
    ms = normalised_measures(inputs)
    rows = [measure_row(inputs, ms, mid) for mid in measure_ids(inputs, ms)]
    return [{title: row[field] for field, title in MEASURE_TABLE.items()} for row in rows]


def publish_artifacts(qd: QuarterData, paths: dict[str, Path]) -> None:
    """Keyed artifacts: the summary, the quarter's headline measures, links to documents."""
    quarter_end = qd.quarter_end
    create_markdown_artifact(
        key="data-summary", markdown=summary_markdown(qd), description=f"Run summary {quarter_end}"
    )
    create_table_artifact(
        key="measures",
        table=measure_table(qd),
        description=f"Measures {quarter_end}, as the report shows them",
    )
    document_artifacts(paths, quarter_end)


def returns_log_line(qd: QuarterData) -> str:
    """'Returns for Quarter 2 2026/27: 5 of 8 received (1 late); missing: EDU, ICSB; …'.

    Submitter codes and counts only: never a child-level value.
    """
    from transforms.quarters import quarter_label

    exp = qd.expected
    if exp.empty:
        return f"Returns for {quarter_label(qd.quarter_end)}: none expected"
    received = int((exp["status"] != "missing").sum())
    late = int(exp["late"].fillna(False).astype(bool).sum()) if "late" in exp else 0
    parts = [
        f"Returns for {quarter_label(qd.quarter_end)}: {received} of {len(exp)} received "
        f"({late} late)"
    ]
    for status in ("missing", "rejected"):
        codes = sorted(exp.loc[exp["status"] == status, "code"].astype(str))
        parts.append(f"{status}: {', '.join(codes) if codes else 'none'}")
    return "; ".join(parts)


def checked_settings(
    quarter_end: dt.date | None,
    inbox: Path | None,
    output: Path | None,
    db_url: str | None,
    approve: bool,
    approved_by: str | None,
    run_intake: bool,
) -> tuple[dt.date, Settings]:
    """The quarter and folders of a run, or ValueError saying what is wrong (nothing made)."""
    from flows.approval import blank_reviewer_message
    from transforms.folders import check_inbox, check_output

    quarter = _quarter_end(quarter_end) if quarter_end else default_quarter()
    if approve and (problem := blank_reviewer_message(approved_by)):
        raise ValueError(problem)
    settings = Settings(
        inbox=Path(inbox or default_inbox()), output=Path(output or default_output()), db_url=db_url
    )
    check_output(settings.output)
    if run_intake:
        check_inbox(settings.inbox)
    return quarter, settings


@flow(name="quarterly-data-summary", flow_run_name=quarterly_run_name)
def quarterly_flow(
    quarter_end: QuarterParameter = None,
    inbox: Path | None = None,
    output: Path | None = None,
    wait_for_review: bool = False,
    review_timeout_days: float = REVIEW_DAYS,
    approve: bool = False,
    approved_by: str | None = None,
    db_url: str | None = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    run_intake: bool = True,
) -> Any:
    """Intake, then measures and documents for `quarter_end` in OUTPUT/<quarter-end>/.

    Documents are a draft until approved: `approve=True` approves at once (runs by hand,
    the demo); `wait_for_review=True` (the schedule) pauses for an analyst's decision;
    otherwise the draft stays a draft (command line without --approve). Wrong inputs (a
    date that is not a quarter end, a missing inbox, an unusable output folder, approval
    without a name, the quarter already running) end the run Failed with one sentence.

    Args:
        quarter_end: The last day of the quarter (blank: the quarter just ended).
        inbox: The folder leads drop their workbooks in; new ones are filed first.
        output: The folder the draft documents, the archive and the store go under.
        wait_for_review: Pause when the draft is ready, for an analyst to approve it or
            send it back (Resume on the run's page).
        review_timeout_days: How many days the draft waits for a decision before the run
            fails as unreviewed.
        approve: Approve at once, without a pause (give approved_by).
        approved_by: Who approves when approve is set; recorded with the report.
        db_url: The store's database URL (default: SQLite under the output folder).
        now: The clock of the run (tests and replays only).
        stable_wait: Seconds a workbook must stay unchanged before intake takes it.
        run_intake: File new workbooks from the inbox before the report.
    """
    try:
        quarter, settings = checked_settings(
            quarter_end, inbox, output, db_url, approve, approved_by, run_intake
        )
    except ValueError as exc:
        return expected_failure(exc)
    try:
        with one_run_per_quarter(quarter):
            paths, decision, published = produce_and_review(
                settings,
                quarter,
                now or dt.datetime.now(dt.UTC),
                approve=approve,
                approved_by=approved_by,
                wait=wait_for_review,
                timeout_days=review_timeout_days,
                stable_wait=stable_wait,
                run_intake=run_intake,
            )
    except QuarterAlreadyRunning as exc:
        return expected_failure(exc)
    return run_result(paths, decision, published)


def run_result(
    paths: dict[str, Path], decision: ReviewDecision | None, published: dict[str, Path]
) -> Any:
    """The run's result: its paths (and the published copies), as a state named for the
    decision ("Approved", "Sent back") when there was one, logged in one line."""
    from prefect.states import Completed

    result = paths | {f"published_{k}": v for k, v in published.items()}
    if decision is None:
        return result
    logger, who = get_run_logger(), decision.reviewer
    if decision.decision == "approve":
        where = next(iter(published.values())).parent if published else None
        logger.info("Approved by %s; published to %s", who, where)
        return Completed(name="Approved", message=f"Approved by {who}", data=result)
    note = f": {decision.comment}" if decision.comment else ""
    logger.info("Sent back by %s%s; nothing was published", who, note)
    return Completed(name="Sent back", message=f"Sent back by {who}{note}", data=result)


def produce_and_review(
    settings: Settings,
    quarter: dt.date,
    now: dt.datetime,
    *,
    approve: bool,
    approved_by: str | None,
    wait: bool,
    timeout_days: float,
    stable_wait: float,
    run_intake: bool,
) -> tuple[dict[str, Path], ReviewDecision | None, dict[str, Path]]:
    """The run's work while it holds the quarter's slot: (paths, decision, published)."""
    from prefect.runtime import flow_run

    from flows.approval import apply_decision
    from flows.intake import intake_log_line

    logger = get_run_logger()
    run_id = str(flow_run.id or "local")
    if run_intake:
        logger.info(intake_log_line(file_new_returns(settings, now, stable_wait)))
    out_dir = settings.quarter_dir(quarter)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Approved at once: the issued documents name the run's clock as the date (so a replay
    # gives the same bytes) and are rendered once; otherwise a draft first.
    at_once = (london_date(now), str(approved_by).strip()) if approve else None
    out = produce(settings, quarter, now, run_id, at_once)
    qd, paths = out.data, out.paths
    logger.info(returns_log_line(qd))
    publish_artifacts(qd, paths)
    logger.info(
        "%s version %s written to %s", "Issued" if at_once else "Draft", qd.version, out_dir
    )
    decision = review_decision(qd, at_once, wait, timeout_days)
    if decision is None:
        logger.info("The draft is not approved (approve it with a review run)")
        return paths, None, {}
    if decision.decision == "approve" and at_once is None:
        # Issued as of the day the reviewer decided, naming the reviewer.
        issued = (london_date(dt.datetime.now(dt.UTC)), decision.reviewer)
        paths |= render_issued(qd, out_dir, issued)
    published = apply_decision(settings, quarter, qd.version, run_id, decision, paths)
    return paths, decision, published


def review_decision(
    qd: QuarterData, at_once: Approval | None, wait: bool, timeout_days: float
) -> ReviewDecision | None:
    """The decision on the documents: the approval given with the run, else the analyst's
    (pausing for it when `wait`), else None (the draft stays a draft)."""
    from flows.approval import ReviewDecision
    from flows.approval import wait_for_review as pause_for_review

    if at_once is not None:
        return ReviewDecision(decision="approve", reviewer=at_once[1])
    if not wait:
        return None
    get_run_logger().info("Waiting for review: Resume this run to approve or send it back")
    return pause_for_review(qd.quarter_end, summary_markdown(qd), int(timeout_days * 86400))
