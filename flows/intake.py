"""The intake flow: file every new or changed workbook in the inbox and write feedback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from datasummary.settings import Settings
from flows.common import engine_for


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
        return run_intake(settings.inbox, settings.output, engine, now=now, stable_wait=stable_wait)
    finally:
        engine.dispose()


def intake_summary_markdown(result) -> str:
    """Counts, per-file statuses and what was passed over (names escaped, no child values)."""
    from transforms.markdown import markdown_table

    lines = ["# Intake", "", f"Processed {len(result.processed)} workbook(s).", ""]
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


@flow(name="intake", flow_run_name="intake-{inbox}", log_prints=False)
def intake_flow(
    inbox: Path,
    output: Path,
    db_url: str | None = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
):
    """Intake on one inbox: new workbooks are archived, checked, filed and answered."""
    settings = Settings(inbox=Path(inbox), output=Path(output), db_url=db_url)
    result = file_new_returns(settings, now, stable_wait)
    create_markdown_artifact(
        key="intake-summary",
        markdown=intake_summary_markdown(result),
        description="What the last intake filed",
    )
    result.raise_for_operator()  # e.g. feedback/ is not a folder: the run fails, saying so
    return result
