"""chase-returns: a week before the deadline and the morning after, who still owes a return.

For the quarter whose deadline is nearest, the expected returns not yet accepted, per lead
or agency, with what is wrong with a rejected one. Written to OUTPUT/reminders/ (markdown and
CSV), shown as the keyed artifact `chase-returns` (rules and locations only: the Prefect
server keeps artifacts), and e-mailed when SMTP is configured. No SMTP: no e-mail, no error.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from datasummary.settings import Settings, default_inbox, default_output
from flows.common import engine_for, expected_failure
from flows.intake import is_transient_io_error
from flows.quarterly import QuarterParameter, _quarter_end


def chase_run_name() -> str:
    """'chase-returns-<quarter-end>'."""
    from prefect.runtime import flow_run

    quarter = flow_run.parameters.get("quarter_end")
    return f"chase-returns-{quarter or quarter_to_chase(_today(None))}"


def _today(now: dt.datetime | None) -> dt.date:
    from transforms.quarters import london_date

    now = now or dt.datetime.now(dt.UTC)
    now = now if now.tzinfo else now.replace(tzinfo=dt.UTC)
    return london_date(now)


def quarter_to_chase(today: dt.date) -> dt.date:
    """The quarter whose deadline (spec `deadline_days`) is nearest `today`."""
    from transforms.schedule import chase_quarter
    from transforms.spec import default_spec

    return chase_quarter(today, default_spec().returns.periods.deadline_days)


@task(
    name="List returns not yet accepted",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def outstanding_returns(settings: Settings, quarter_end: dt.date, now: dt.datetime) -> pd.DataFrame:
    """Missing and rejected returns, with a rejected file's error count and first messages."""
    from transforms.measures.returns_status import expected_returns
    from transforms.notify import SmtpConfig, reminder_frame
    from transforms.spec import default_spec

    config = SmtpConfig.from_env()
    engine = engine_for(settings)
    try:
        with engine.connect() as conn:
            expected = expected_returns(conn, quarter_end, now, default_spec())
            return reminder_frame(expected, conn, quarter_end, config.contacts if config else None)
    finally:
        engine.dispose()


@task(
    name="Write the reminder list",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def write_reminder_files(
    frame: pd.DataFrame, out_dir: Path, quarter_end: dt.date, today: dt.date
) -> dict[str, Path]:
    """OUTPUT/reminders/<quarter-end>-<date>.md and .csv."""
    from transforms.notify import write_reminders

    return write_reminders(frame, out_dir, quarter_end, today)


@task(
    name="E-mail the reminders",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=is_transient_io_error,
)
def email_reminder_messages(frame: pd.DataFrame, quarter_end: dt.date, today: dt.date) -> int:
    """A digest to the BIU and one message per submitter with a contact, if SMTP is set."""
    from transforms.notify import SmtpConfig, email_reminders

    return email_reminders(SmtpConfig.from_env(), frame, quarter_end, today)


@flow(name="chase-returns", flow_run_name=chase_run_name)
def chase_flow(
    quarter_end: QuarterParameter = None,
    inbox: Path | None = None,
    output: Path | None = None,
    db_url: str | None = None,
    now: dt.datetime | None = None,
):
    """Reminders for the quarter whose deadline is near or just passed (or `quarter_end`).

    Args:
        quarter_end: The quarter to chase (blank: the one whose deadline is nearest).
        inbox: The folder leads drop their workbooks in (named in the reminders).
        output: The folder the store is under; reminders go to its reminders/ folder.
        db_url: The store's database URL (default: SQLite under the output folder).
        now: The clock of the run (tests and replays only).
    """
    from transforms.folders import FolderProblem, check_output
    from transforms.notify import reminder_markdown

    logger = get_run_logger()
    now = now or dt.datetime.now(dt.UTC)
    today = _today(now)
    try:
        quarter = _quarter_end(quarter_end) if quarter_end else quarter_to_chase(today)
        settings = Settings(
            inbox=Path(inbox or default_inbox()),
            output=check_output(Path(output or default_output())),
            db_url=db_url,
        )
    except (ValueError, FolderProblem) as exc:
        return expected_failure(exc)
    frame = outstanding_returns(settings, quarter, now)
    files = write_reminder_files(frame, settings.output / "reminders", quarter, today)
    create_markdown_artifact(
        key="chase-returns",
        markdown=reminder_markdown(frame, quarter, today, with_messages=False),
        description=f"Returns outstanding for {quarter} on {today}",
    )
    sent = email_reminder_messages(frame, quarter, today)
    codes = ", ".join(sorted(frame["code"].astype(str))) if len(frame) else "none"
    logger.info("%d return(s) outstanding for %s (%s)", len(frame), quarter, codes)
    logger.info("Reminders written to %s; %d e-mail(s) sent", files.get("csv", files), sent)
    return files
