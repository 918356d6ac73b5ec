"""The deployments `datasummary serve` registers and runs: intake, the report, the chaser.

`build_deployments(settings)` is the one place they are defined; `serve()` hands them to
`prefect.serve` (a runner in this process; it needs a running Prefect API), and the tests
register the same objects against the test server. Schedules are computed from the spec's
deadline (returns.yaml `periods`), in its time zone, so the clock changes are Prefect's
business, not ours.
"""

from __future__ import annotations

import datetime as dt
import os

from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import EntrypointType, RunnerDeployment
from prefect.schedules import Cron, Interval, Schedule

from datasummary.settings import Settings

INTAKE_MINUTES_ENV = "DATASUMMARY_INTAKE_MINUTES"
REPORT_HOUR = 7  # the morning after the deadline, before the working day
CHASE_HOUR = 9
CHASE_DAYS_BEFORE = 7


#: Parameters for tests and replays, not for operators: kept out of the Run forms (they can
#: still be given through the API). The store's URL is configuration, not a parameter.
INTERNAL_PARAMETERS = ("now", "stable_wait", "run_intake", "db_url")


def _location(settings: Settings) -> dict[str, str | None]:
    return {"inbox": str(settings.inbox.resolve()), "output": str(settings.output.resolve())}


def without_internals(deployment: RunnerDeployment) -> RunnerDeployment:
    """`deployment` with INTERNAL_PARAMETERS removed from the schema the forms are drawn from."""
    schema = deployment._parameter_openapi_schema
    for name in INTERNAL_PARAMETERS:
        schema.properties.pop(name, None)
        if name in schema.required:
            schema.required.remove(name)
    return deployment


def intake_schedules(minutes: float, timezone: str) -> list[Schedule]:
    """Every `minutes` minutes, anchored on the hour."""
    anchor = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    return [Interval(dt.timedelta(minutes=minutes), anchor_date=anchor, timezone=timezone)]


def report_schedules(deadline_days: int, timezone: str) -> list[Schedule]:
    """07:00 local on the day after the deadline, for the quarter just ended."""
    from transforms.schedule import cron_strings, report_offset

    return [
        Cron(c, timezone=timezone) for c in cron_strings(report_offset(deadline_days), REPORT_HOUR)
    ]


def chase_schedules(deadline_days: int, timezone: str) -> list[Schedule]:
    """09:00 local a week before the deadline and the morning after it."""
    from transforms.schedule import chase_offsets, cron_strings

    return [
        Cron(c, timezone=timezone)
        for offset in chase_offsets(deadline_days, CHASE_DAYS_BEFORE)
        for c in cron_strings(offset, CHASE_HOUR)
    ]


def build_deployments(
    settings: Settings, intake_minutes: float | None = None
) -> list[RunnerDeployment]:
    """intake, quarterly-data-summary and chase-returns, with their schedules."""
    from flows.chase import chase_flow
    from flows.intake import intake_flow
    from flows.quarterly import quarterly_flow
    from transforms.spec import default_spec

    periods = default_spec().returns.periods
    minutes = intake_minutes or float(os.environ.get(INTAKE_MINUTES_ENV, "10") or 10)
    where = _location(settings)
    one_at_a_time = ConcurrencyLimitConfig(
        limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
    )
    common = {"entrypoint_type": EntrypointType.MODULE_PATH, "tags": ["datasummary"]}
    deployments = [
        intake_flow.to_deployment(
            "intake",
            schedules=intake_schedules(minutes, periods.timezone),
            parameters=where,
            concurrency_limit=one_at_a_time,
            description="File new workbooks from the inbox and write feedback.",
            **common,
        ),
        quarterly_flow.to_deployment(
            "quarterly-data-summary",
            schedules=report_schedules(periods.deadline_days, periods.timezone),
            parameters=where | {"wait_for_review": True},
            description=(
                "The Data Summary for the quarter just ended (or the quarter given), "
                "as a draft that waits for review before it goes to COG."
            ),
            **common,
        ),
        chase_flow.to_deployment(
            "chase-returns",
            schedules=chase_schedules(periods.deadline_days, periods.timezone),
            parameters=where,
            description="Remind leads and agencies whose return is missing or rejected.",
            **common,
        ),
    ]
    return [without_internals(d) for d in deployments]


def serve(settings: Settings, intake_minutes: float | None = None) -> None:
    """Register the deployments and run them until interrupted (needs a Prefect API)."""
    import prefect

    if settings.db_url:  # the runs' subprocesses find the store through the environment
        os.environ["DATASUMMARY_DB_URL"] = settings.db_url
    prefect.serve(*build_deployments(settings, intake_minutes))
