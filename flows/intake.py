"""The intake flow: file every new or changed workbook in the inbox and write feedback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from datasummary.settings import Settings, default_inbox
from flows.common import engine_for, expected_failure, folder_name, inbox_key
from flows.progress import reporter


def is_transient_io_error(task, task_run, state) -> bool:
    """Retry condition: only I/O errors (a share briefly away, a file locked) are retried.

    A ValueError, a bad template or a programming error fails at once: retrying cannot help.
    """
    try:
        state.result()
    except OSError:
        return True
    except BaseException:
        return False
    return False


@task(
    name="File new returns",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def file_new_returns(settings: Settings, now: dt.datetime | None, stable_wait: float):
    """Archive, check, record and give feedback on every new workbook in the inbox."""
    from transforms.intake.filing import run_intake

    engine = engine_for(settings)
    try:
        return run_intake(
            settings.inbox,
            settings.output,
            engine,
            now=now,
            stable_wait=stable_wait,
            progress=reporter(),
        )
    finally:
        engine.dispose()


def intake_log_line(result) -> str:
    """'Intake filed 3 workbook(s): 2 accepted, 0 accepted with warnings, 1 rejected (1 late)'.

    Counts only: what an operator needs in the run's log, never a child-level value.
    """
    c = result.counts
    line = (
        f"Intake filed {c['processed']} workbook(s): {c['accepted']} accepted, "
        f"{c['accepted with warnings']} accepted with warnings, {c['rejected']} rejected "
        f"({c['late']} late)"
    )
    if c["skipped"]:
        line += f"; {c['skipped']} left for the next intake"
    if c["failed"]:
        line += f"; {c['failed']} could not be filed"
    return line


def something_changed(result) -> bool:
    """Whether an intake filed, left or failed on anything (else its summary says nothing)."""
    return bool(result.processed or result.skipped or result.failed)


def intake_summary_markdown(result, inbox: Path | None = None) -> str:
    """Counts, per-file statuses and what was passed over (every name escaped: file names
    are chosen by whoever drops a file; no child-level values)."""
    from transforms.markdown import markdown_table, md_escape

    where = f" — {md_escape(inbox)}" if inbox is not None else ""
    lines = [f"# Intake{where}", "", intake_log_line(result) + ".", ""]
    lines += markdown_table(
        ["file", "submitter", "quarter", "status", "errors", "warnings", "late"],
        (
            [p.original_name, p.submitter, p.quarter_end, p.status, p.errors, p.warnings]
            + ["yes" if p.late else "no"]
            for p in result.processed
        ),
    )
    passed = markdown_table(
        ["not filed", "why"], ([r["file"], r["reason"]] for r in result.passed_over())
    )
    return "\n".join(lines + ([""] + passed if passed else []))


def intake_run_name() -> str:
    """'intake-<inbox folder name>': short, and tells two inboxes apart in the runs list."""
    from prefect.runtime import flow_run

    return f"intake-{folder_name(flow_run.parameters.get('inbox') or default_inbox())}"


def last_filed_at(settings: Settings) -> dt.datetime | None:
    """When the store last saw a new workbook (for "nothing new since …")."""
    import sqlalchemy as sa

    from transforms.store import ledger

    engine = engine_for(settings)
    try:
        with engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(ledger.files.c.first_seen_at))).scalar()
    finally:
        engine.dispose()


@flow(name="intake", flow_run_name=intake_run_name, log_prints=False)
def intake_flow(
    inbox: Path,
    output: Path,
    db_url: str | None = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
):
    """Intake on one inbox: new workbooks are archived, checked, filed and answered.

    The inbox must exist (a mistyped one fails the run and is not created). The summary
    artifact (one key per inbox) is written only when something changed.

    Args:
        inbox: The folder leads drop their workbooks in.
        output: The folder the archive, the store and the reports go under.
        db_url: The store's database URL (default: SQLite under the output folder).
        now: The clock of the run (tests and replays only).
        stable_wait: Seconds a workbook must stay unchanged before intake takes it.
    """
    from prefect.states import Completed

    from transforms.faults import OperatorError
    from transforms.folders import FolderProblem, check_inbox, check_output

    logger = get_run_logger()
    settings = Settings(inbox=Path(inbox), output=Path(output), db_url=db_url)
    try:
        check_inbox(settings.inbox)
        check_output(settings.output)
    except FolderProblem as exc:
        return expected_failure(exc)
    result = file_new_returns(settings, now, stable_wait)
    changed = something_changed(result)
    if changed:
        logger.info(intake_log_line(result))
        create_markdown_artifact(
            key=inbox_key(settings.inbox),
            markdown=intake_summary_markdown(result, settings.inbox),
            description=f"What the last intake filed from {settings.inbox}",
        )
    try:  # e.g. feedback/ is a file or a link: returns are filed, the run fails, saying so
        result.raise_for_operator()
    except OperatorError as exc:
        return expected_failure(exc)
    if not changed:
        since = last_filed_at(settings)
        message = f"Nothing new since {since:%Y-%m-%d %H:%M} UTC" if since else "Nothing new"
        logger.info(message)
        return Completed(message=message, data=result)
    return result
