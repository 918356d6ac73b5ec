"""The deployments `datasummary serve` registers, executed by a real runner.

`build_deployments` (the code behind `datasummary serve`) registers the three deployments
against the session's test server; a `Runner` in a background thread executes runs in
subprocesses, as `prefect.serve` does. The quarterly flow and its pipeline are the real ones,
on a copy of the session's small store (conftest `small_store_template`: three returns for
2020-09-30, one of them rejected).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from pathlib import Path

import pytest

from tests.documents import document_text, issued_line

pytestmark = pytest.mark.prefect

ROOT = Path(__file__).resolve().parent.parent
UTC = dt.UTC


@pytest.fixture(scope="module")
def served(prefect_harness, tmp_path_factory, small_store_template):
    """The deployments, registered and served by a runner thread for this module's tests."""
    import shutil

    from prefect.runner import Runner

    from datasummary.settings import Settings
    from flows.serve import build_deployments

    mp = pytest.MonkeyPatch()
    mp.setenv("PYTHONPATH", str(ROOT))
    mp.setenv("DATASUMMARY_REVIEW_POLL_SECONDS", "1")
    mp.delenv("DATASUMMARY_SMTP_HOST", raising=False)
    mp.delenv("DATASUMMARY_DB_URL", raising=False)
    base = tmp_path_factory.mktemp("serve")
    (base / "inbox").mkdir()
    shutil.copytree(small_store_template, base / "output")
    settings = Settings(inbox=base / "inbox", output=base / "output")
    # A week between intakes: no scheduled intake falls inside the test.
    deployments = build_deployments(settings, intake_minutes=7 * 24 * 60)
    stop = threading.Event()
    ready = threading.Event()
    errors: list[BaseException] = []

    async def main() -> None:
        runner = Runner(name="datasummary-test", query_seconds=1, pause_on_shutdown=False)
        for d in deployments:
            await runner.aadd_deployment(d)

        async def stopper() -> None:
            while not stop.is_set():
                await asyncio.sleep(0.2)
            await runner.astop()

        waiter = asyncio.create_task(stopper())
        ready.set()
        await runner.start()
        await waiter

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 - reported by the fixture
            errors.append(exc)
            ready.set()

    thread = threading.Thread(target=target, daemon=True, name="test-runner")
    thread.start()
    assert ready.wait(60), "runner did not start"
    assert not errors, errors
    yield base
    stop.set()
    thread.join(30)
    mp.undo()


def _artifacts(flow_run_id):
    """A run's artifacts, oldest first (so a dict by key keeps each key's latest)."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return sorted(arts, key=lambda a: a.created)


def test_deployments_are_registered_with_their_schedules(served):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        quarterly = client.read_deployment_by_name("quarterly-data-summary/quarterly-data-summary")
        chase = client.read_deployment_by_name("chase-returns/chase-returns")
        intake = client.read_deployment_by_name("intake/intake")
    crons = [(s.schedule.cron, s.schedule.timezone) for s in quarterly.schedules]
    assert crons == [("0 7 22 1,4,7,10 *", "Europe/London")]
    assert sorted((s.schedule.cron, s.schedule.timezone) for s in chase.schedules) == [
        ("0 9 14 1,4,7,10 *", "Europe/London"),
        ("0 9 22 1,4,7,10 *", "Europe/London"),
    ]
    assert intake.schedules[0].schedule.interval == dt.timedelta(days=7)
    assert quarterly.parameters["wait_for_review"] is True
    assert quarterly.parameters["output"] == str(served / "output")
    assert quarterly.entrypoint == "flows.quarterly.quarterly_flow"


def test_registered_schedule_fires_at_seven_london_across_the_clock_change(served):
    from prefect import get_client
    from prefect.server.schemas.schedules import CronSchedule

    with get_client(sync_client=True) as client:
        dep = client.read_deployment_by_name("quarterly-data-summary/quarterly-data-summary")
    sched = dep.schedules[0].schedule
    server_side = CronSchedule(cron=sched.cron, timezone=sched.timezone, day_or=sched.day_or)
    dates = asyncio.run(server_side.get_dates(n=2, start=dt.datetime(2026, 9, 1, tzinfo=UTC)))
    assert [d.astimezone(UTC) for d in dates] == [
        dt.datetime(2026, 10, 22, 6, 0, tzinfo=UTC),
        dt.datetime(2027, 1, 22, 7, 0, tzinfo=UTC),
    ]


def test_default_intake_interval_is_ten_minutes(monkeypatch):
    from datasummary.settings import Settings
    from flows.serve import build_deployments

    monkeypatch.delenv("DATASUMMARY_INTAKE_MINUTES", raising=False)
    intake = build_deployments(Settings(Path("inbox"), Path("output")))[0]
    assert intake.name == "intake"
    assert intake.schedules[0].schedule.interval == dt.timedelta(minutes=10)


def test_quarterly_deployment_run_through_the_api(served):
    from prefect import get_client
    from prefect.deployments import run_deployment

    start = time.monotonic()
    run = run_deployment(
        "quarterly-data-summary/quarterly-data-summary",
        parameters={
            "quarter_end": "2020-09-30",
            "approve": True,
            "approved_by": "ops test",
            "run_intake": False,
            "now": "2026-10-22T06:00:00+00:00",
        },
        timeout=150,
        poll_interval=1,
    )
    assert time.monotonic() - start < 150
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run.id)
    assert run.state.is_completed(), run.state
    assert run.name == "data-summary-2020-09-30"
    arts = {a.key: a for a in _artifacts(run.id)}
    assert {
        "data-summary",
        "measures",
        "report-docx",
        "report-xlsx",
        "report-public-docx",
        "report-public-xlsx",
        "report-measures-csv",
        "review-decision",
    } <= set(arts)
    assert arts["data-summary"].type == "markdown"
    assert "Quarter 2 2020/21" in arts["data-summary"].data
    assert "rejected: 1" in arts["data-summary"].data  # NHSG's return (small store)
    assert arts["measures"].type == "table"
    published = served / "output" / "published" / "2020-09-30" / "Data_Summary_2020-09-30.docx"
    assert published.exists()
    # Approved at once: what COG receives names the approver and the run's date.
    assert issued_line(dt.date(2026, 10, 22), "ops test") in document_text(published)
    # After approval the document artifacts show the published copy, as a path to copy
    # (no DATASUMMARY_PUBLISH_URL here): never a file:// link a browser cannot open.
    assert "file://" not in arts["report-docx"].data
    assert f"`{published}`" in arts["report-docx"].data
    assert "published to COG" in arts["report-docx"].description
    assert run.state.name == "Approved"


def test_every_parameter_a_deployment_shows_is_described(served):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        deployments = [
            client.read_deployment_by_name(name)
            for name in (
                "quarterly-data-summary/quarterly-data-summary",
                "chase-returns/chase-returns",
                "intake/intake",
            )
        ]
    for dep in deployments:
        props = dep.parameter_openapi_schema["properties"]
        assert props and not {"now", "stable_wait", "run_intake", "db_url"} & set(props)
        for name, prop in props.items():
            assert len(prop.get("description", "")) > 15, (dep.name, name)
        assert "db_url" not in dep.parameters
    quarterly = deployments[0].parameter_openapi_schema["properties"]
    assert quarterly["quarter_end"]["type"] == "string"
    assert quarterly["quarter_end"]["format"] == "date"
    assert "quarter just ended" in quarterly["quarter_end"]["description"]
    assert quarterly["review_timeout_days"]["default"] == 14


def test_a_bad_quarter_through_the_api_fails_with_the_reason(served):
    from prefect import get_client
    from prefect.deployments import run_deployment

    run = run_deployment(
        "quarterly-data-summary/quarterly-data-summary",
        parameters={"quarter_end": "2026-09-29", "run_intake": False},
        timeout=150,
        poll_interval=1,
    )
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run.id)
    assert run.state.is_failed(), run.state
    assert run.state.message.startswith("2026-09-29 is not a quarter end")
    assert run.name == "data-summary-2026-09-29"
    assert not (served / "output" / "2026-09-29").exists()
    # The operator's view: one ERROR line with the reason, no engine traceback (the run's
    # subprocess has ended, so its logs have been sent).
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    def run_logs():
        with get_client(sync_client=True) as client:
            return client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run.id]))
            )

    deadline = time.monotonic() + 30
    while not any(lg.level >= 40 for lg in run_logs()) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(5)  # the engine's exception log, if any, comes just after the final state
    logs = run_logs()
    assert [lg.message for lg in logs if lg.level >= 40] == [run.state.message]
    assert not any("Traceback" in lg.message or "unexpected exception" in lg.message for lg in logs)


def test_scheduled_style_run_waits_for_review_and_resumes(served):
    """The deployment's default (wait_for_review) pauses in the runner; approve resumes it."""
    from prefect import get_client
    from prefect.deployments import run_deployment
    from prefect.flow_runs import resume_flow_run

    run = run_deployment(
        "quarterly-data-summary/quarterly-data-summary",
        parameters={"quarter_end": "2026-06-30", "run_intake": False},
        timeout=0,
    )
    deadline = time.monotonic() + 120
    with get_client(sync_client=True) as client:
        while not (state := client.read_flow_run(run.id).state).is_paused():
            assert not state.is_final(), state
            assert time.monotonic() < deadline, "never paused for review"
            time.sleep(0.5)
        published = served / "output" / "published" / "2026-06-30"
        assert not published.exists()
        resume_flow_run(run.id, run_input={"decision": "approve", "reviewer": "ops test"})
        while not (state := client.read_flow_run(run.id).state).is_final():
            assert time.monotonic() < deadline, "never finished after approval"
            time.sleep(0.5)
    assert state.is_completed(), state
    assert (published / "Data_Summary_2026-06-30.docx").exists()


@pytest.mark.slow
def test_quarterly_deployment_runs_the_real_pipeline_on_the_sample(served, sample_store):
    """The same deployment with the real steps, on the filed sample partnership."""
    import pandas as pd
    from prefect import get_client
    from prefect.deployments import run_deployment

    run = run_deployment(
        "quarterly-data-summary/quarterly-data-summary",
        parameters={
            "quarter_end": "2022-09-30",
            "inbox": str(sample_store["inbox"]),
            "output": str(sample_store["output"]),
            "approve": False,
            "wait_for_review": False,
            "run_intake": False,
            "now": sample_store["now"].isoformat(),
        },
        timeout=300,
        poll_interval=2,
    )
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run.id)
    assert run.state.is_completed(), run.state
    assert run.name == "data-summary-2022-09-30"
    arts = {a.key: a for a in _artifacts(run.id)}
    assert {
        "data-summary",
        "measures",
        "report-docx",
        "report-xlsx",
        "report-public-docx",
        "report-public-xlsx",
        "report-measures-csv",
        "report-returns-csv",
    } <= set(arts)
    assert "Quarter 2 2022/23" in arts["data-summary"].data
    csv = pd.read_csv(
        sample_store["output"] / "2022-09-30" / "measures.csv", dtype=str, keep_default_na=False
    )
    h01 = csv[
        (csv["measure_id"] == "H01")
        & (csv["breakdown"] == "all")
        & (csv["quarter_end"] == "2022-09-30")
    ].iloc[0]
    import json

    rows = json.loads(arts["measures"].data)
    [h01_row] = [r for r in rows if r["Measure"].startswith("H01 ")]
    # measures.md: percentages to one decimal place; the RAG in words.
    assert h01["unit"] == "percent"
    assert h01_row["Value"] == f"{float(h01['value']):.1f}%", "the artifact rounds as the report"
    assert (
        h01_row["n of N"] == f"{int(float(h01['numerator']))} of {int(float(h01['denominator']))}"
    )
    assert h01_row["RAG"] == h01["rag"] and h01["rag"] in ("Red", "Amber", "Green")
    assert "Initial health assessment" in h01_row["Measure"]
    text = str(arts["measures"].data)
    assert "AC0" not in text and "AC0" not in arts["data-summary"].data, (
        "no child reference may reach an artifact"
    )
