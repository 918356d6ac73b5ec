"""Review and distribution, failure behaviour and one run per quarter, as real Prefect runs.

Everything is real: the pipeline (on an empty store, or a copy of the session's small store
where a test needs returns), the flow, its tasks, the pause for input, the concurrency limit
and the store writes. A failure is injected by monkeypatching the Word writer (in-process).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.documents import DRAFT_LINE, document_text, issued_line
from transforms.quarters import LONDON

pytestmark = pytest.mark.prefect

NOW = dt.datetime(2026, 10, 22, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def base(monkeypatch, tmp_path, prefect_harness):
    """A run's folders: an empty inbox, no output yet (the flow makes the store)."""
    monkeypatch.setenv("DATASUMMARY_REVIEW_POLL_SECONDS", "1")
    monkeypatch.delenv("DATASUMMARY_PUBLISH_DIR", raising=False)
    monkeypatch.delenv("DATASUMMARY_SMTP_HOST", raising=False)
    monkeypatch.delenv("DATASUMMARY_DB_URL", raising=False)
    (tmp_path / "inbox").mkdir()
    return tmp_path


def _kwargs(base: Path, quarter: dt.date, **extra) -> dict:
    return {
        "quarter_end": quarter,
        "inbox": base / "inbox",
        "output": base / "output",
        "now": NOW,
        "run_intake": False,
    } | extra


def _store(base: Path) -> sa.Engine:
    from datasummary.settings import Settings
    from flows.common import engine_for

    return engine_for(Settings(inbox=base / "inbox", output=base / "output"))


def _events(base: Path) -> list[tuple[str, str]]:
    from transforms.store.ledger import events

    engine = _store(base)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(events.c.event, events.c.detail)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _issued(base: Path) -> list[tuple]:
    from transforms.store.history import issued_reports

    engine = _store(base)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                issued_reports.c.quarter_end,
                issued_reports.c.version,
                issued_reports.c.approved_by,
                issued_reports.c.comment,
            )
        ).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def _in_thread(fn, **kwargs):
    out: dict = {}

    def target():
        try:
            out["result"] = fn(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, out


def _paused_run(name: str, timeout: float = 60):
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            runs = client.read_flow_runs(
                flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name]))
            )
            paused = [r for r in runs if r.state and r.state.is_paused()]
            if paused:
                return paused[0]
            time.sleep(0.5)
    raise AssertionError(f"no paused run named {name}")


def _artifact_keys(flow_run_id) -> set[str]:
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    return {a.key for a in arts}


def test_approve_flag_publishes_and_records(base):
    from flows.quarterly import quarterly_flow

    q = dt.date(2026, 9, 30)
    state = quarterly_flow(
        **_kwargs(base, q, approve=True, approved_by="J. Analyst"), return_state=True
    )
    assert state.is_completed()
    published = base / "output" / "published" / "2026-09-30"
    names = sorted(p.name for p in published.iterdir())
    assert names == [
        "Data_Summary_2026-09-30.docx",
        "Data_Summary_2026-09-30.xlsx",
        "Data_Summary_2026-09-30_public.docx",
        "Data_Summary_2026-09-30_public.xlsx",
    ]
    assert (published / "Data_Summary_2026-09-30.docx").read_bytes() == (
        base / "output" / "2026-09-30" / "Data_Summary_2026-09-30.docx"
    ).read_bytes()
    # What COG receives is the issued documents: they name the approver and the date.
    issued_on = NOW.astimezone(LONDON).date()
    for name in names:
        text = document_text(published / name)
        assert issued_line(issued_on, "J. Analyst") in text and "DRAFT" not in text, name
    assert not [p for p in published.iterdir() if p.name.startswith(".")]  # no temp files
    assert _issued(base) == [(q, "1.0", "J. Analyst", "")]
    assert [e for e, _ in _events(base)] == ["report approved"]
    keys = _artifact_keys(state.state_details.flow_run_id)
    assert {"data-summary", "measures", "report-docx", "report-xlsx", "review-decision"} <= keys


def test_draft_without_approval_publishes_nothing_and_does_not_wait(base):
    from flows.quarterly import quarterly_flow

    start = time.monotonic()
    paths = quarterly_flow(**_kwargs(base, dt.date(2026, 6, 30)))
    assert time.monotonic() - start < 60
    assert DRAFT_LINE in document_text(paths["docx"])
    assert not (base / "output" / "published").exists()
    assert _issued(base) == [] and _events(base) == []


def test_review_approve_publishes_and_a_second_run_is_refused(base):
    from prefect.flow_runs import resume_flow_run

    from flows.quarterly import QuarterAlreadyRunning, quarterly_flow

    q = dt.date(2026, 3, 31)
    thread, out = _in_thread(quarterly_flow, **_kwargs(base, q, wait_for_review=True))
    run = _paused_run("data-summary-2026-03-31")
    assert not (base / "output" / "published").exists()  # nothing before the decision

    # The same quarter while the first run waits: refused at once, not queued.
    with pytest.raises(QuarterAlreadyRunning, match="already running"):
        quarterly_flow(**_kwargs(base, q, approve=True, approved_by="J. Analyst"))

    resume_flow_run(
        run.id,
        run_input={"decision": "approve", "reviewer": "K. Reviewer", "comment": "Fine to go"},
    )
    thread.join(60)
    assert "error" not in out, out.get("error")
    # Issued as of the day the reviewer decided (today), naming the reviewer.
    today = dt.datetime.now(LONDON).date()
    assert issued_line(today, "K. Reviewer") in document_text(out["result"]["published_docx"])
    assert _issued(base) == [(q, "1.0", "K. Reviewer", "Fine to go")]
    assert _events(base) == [
        ("report approved", "2026-03-31 version 1.0 by K. Reviewer: Fine to go")
    ]
    # The slot is free again: a re-run for the quarter starts.
    from flows.quarterly import quarterly_flow as again

    assert again(**_kwargs(base, q))["docx"].exists()


def test_review_send_back_publishes_nothing_and_records_the_comment(base):
    from prefect.flow_runs import resume_flow_run

    from flows.quarterly import quarterly_flow

    q = dt.date(2025, 12, 31)
    thread, out = _in_thread(quarterly_flow, **_kwargs(base, q, wait_for_review=True))
    run = _paused_run("data-summary-2025-12-31")
    resume_flow_run(
        run.id,
        run_input={
            "decision": "send back",
            "reviewer": "K. Reviewer",
            "comment": "NHSG figure looks wrong",
        },
    )
    thread.join(60)
    assert "error" not in out, out.get("error")
    assert not (base / "output" / "published").exists()
    assert not any(k.startswith("published_") for k in out["result"])
    assert _issued(base) == []
    assert _events(base) == [
        ("report sent back", "2025-12-31 version 1.0 by K. Reviewer: NHSG figure looks wrong")
    ]


def _failing_word_writer(monkeypatch, error: Exception, times: int) -> list[str]:
    """Make the Word writer raise `error` on its first `times` calls (then write for real);
    the list returned records each call's outcome."""
    import transforms.reports.word as word

    real, calls = word.render_docx_bytes, []

    def render_docx_bytes(inputs, template=None):
        if len(calls) < times:
            calls.append("raised")
            raise error
        calls.append("wrote")
        return real(inputs, template)

    monkeypatch.setattr(word, "render_docx_bytes", render_docx_bytes)
    monkeypatch.setenv("DATASUMMARY_PROCESSES", "1")  # documents rendered here, calls counted
    return calls


def test_report_failure_fails_the_run_keeps_previous_documents_and_rerun_completes(
    base, monkeypatch
):
    from prefect import get_client

    from flows.quarterly import quarterly_flow

    q = dt.date(2025, 9, 30)
    previous = base / "output" / "2025-09-30" / "Data_Summary_2025-09-30.docx"
    previous.parent.mkdir(parents=True)
    previous.write_text("issued last week")
    import transforms.reports.word as word

    real_render = word.render_docx_bytes
    broken = ValueError("template field {{ rag_table }} is undefined")
    calls = _failing_word_writer(monkeypatch, broken, times=99)
    state = quarterly_flow(**_kwargs(base, q), return_state=True)
    assert state.is_failed()
    assert previous.read_text() == "issued last week"
    with get_client(sync_client=True) as client:
        task_runs = client.read_task_runs()
    failed = [
        t
        for t in task_runs
        if t.flow_run_id == state.state_details.flow_run_id and t.state.is_failed()
    ]
    assert [t.name.split("-")[0] for t in failed] == [
        "Compute the measures and write the documents"
    ]
    assert "rag_table" in failed[0].state.message  # the cause, visible in the UI
    assert failed[0].run_count == 1 and calls == ["raised"]  # a ValueError is not retried

    monkeypatch.setattr(word, "render_docx_bytes", real_render)  # the writer works again
    state = quarterly_flow(**_kwargs(base, q), return_state=True)
    assert state.is_completed()
    text = document_text(previous)
    assert DRAFT_LINE in text and "1.0" in text


def test_transient_io_error_is_retried(base, monkeypatch):
    from flows.quarterly import quarterly_flow

    calls = _failing_word_writer(monkeypatch, OSError("the network share went away"), times=1)
    q = dt.date(2025, 6, 30)
    state = quarterly_flow(**_kwargs(base, q), return_state=True)
    assert state.is_completed()
    assert calls == ["raised", "wrote", "wrote"]  # retried: then both Word packs written
    assert DRAFT_LINE in document_text(
        base / "output" / "2025-06-30" / "Data_Summary_2025-06-30.docx"
    )


def test_retry_condition_only_for_io_errors():
    from prefect.states import Completed, Failed

    from flows.intake import is_transient_io_error

    assert is_transient_io_error(None, None, Failed(data=OSError("share away")))
    assert is_transient_io_error(None, None, Failed(data=PermissionError("locked")))
    assert not is_transient_io_error(None, None, Failed(data=ValueError("bad template")))
    assert not is_transient_io_error(None, None, Failed(data=KeyError("M01")))
    assert not is_transient_io_error(None, None, Completed(data=1))


def test_a_bad_quarter_is_a_clear_error(base):
    from flows.quarterly import quarterly_flow

    with pytest.raises(Exception, match="not a quarter end"):
        quarterly_flow(**_kwargs(base, dt.date(2026, 9, 29)))
    assert not (base / "output" / "2026-09-29").exists()


def test_approved_documents_are_emailed_when_smtp_is_configured(base, smtp_server, monkeypatch):
    from flows.quarterly import quarterly_flow

    port, inbox = smtp_server
    monkeypatch.setenv("DATASUMMARY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DATASUMMARY_SMTP_PORT", str(port))
    monkeypatch.setenv("DATASUMMARY_SMTP_TO", "cog@example.org")
    monkeypatch.setenv("DATASUMMARY_PUBLISH_DIR", str(base / "cog"))
    quarterly_flow(**_kwargs(base, dt.date(2025, 3, 31), approve=True, approved_by="J. A."))
    assert (base / "cog" / "2025-03-31" / "Data_Summary_2025-03-31.docx").exists()
    [(to, msg)] = inbox.messages
    assert to == ["cog@example.org"]
    assert "Quarter 4 2024/25" in msg["Subject"]
    names = sorted(part.get_filename() for part in msg.iter_attachments())
    assert names == ["Data_Summary_2025-03-31.docx", "Data_Summary_2025-03-31.xlsx"]


def _run_logs(flow_run_id, until: str = "", timeout: float = 30) -> list[tuple[str, str]]:
    """(level name, message) of a run's logs on the server; waits until `until` is there."""
    from prefect import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id]))
            )
            found = [(logging.getLevelName(lg.level), lg.message) for lg in logs]
            if not until or any(until in m for _, m in found) or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def _flow_run(flow_run_id):
    from prefect import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def test_a_blank_reviewer_is_refused_and_the_run_stays_paused(base):
    """The Resume form marks the reviewer required; blank or spaces through the API is refused."""
    import json

    from prefect import get_client
    from prefect.flow_runs import resume_flow_run

    from flows.quarterly import quarterly_flow

    q = dt.date(2024, 12, 31)
    thread, out = _in_thread(quarterly_flow, **_kwargs(base, q, wait_for_review=True))
    run = _paused_run("data-summary-2024-12-31")
    keyset = run.state.state_details.run_input_keyset
    with get_client(sync_client=True) as client:
        schema = json.loads(client.read_flow_run_input(run.id, keyset["schema"]))
    assert "reviewer" in schema["required"] and "default" not in schema["properties"]["reviewer"]

    for blank in ("", "   ", "\t"):
        with pytest.raises(RuntimeError, match="Cannot resume"):
            resume_flow_run(run.id, run_input={"decision": "approve", "reviewer": blank})
        assert _flow_run(run.id).state.is_paused()
    with pytest.raises(RuntimeError, match="Cannot resume"):
        resume_flow_run(run.id, run_input={"decision": "send back", "comment": "no name"})
    assert _flow_run(run.id).state.is_paused()
    assert not (base / "output" / "published").exists()
    assert _issued(base) == [] and _events(base) == []

    resume_flow_run(
        run.id, run_input={"decision": "send back", "reviewer": "K. Reviewer", "comment": "M02?"}
    )
    thread.join(60)
    assert "error" not in out, out.get("error")
    state = _flow_run(run.id).state
    assert state.is_completed() and state.name == "Sent back", state
    assert "K. Reviewer" in state.message and "M02?" in state.message
    assert not (base / "output" / "published").exists()
    assert _events(base) == [("report sent back", "2024-12-31 version 1.0 by K. Reviewer: M02?")]


@pytest.mark.parametrize("name", [None, "", "  "])
def test_approving_without_a_name_fails_and_creates_nothing(base, name):
    from flows.quarterly import quarterly_flow

    q = dt.date(2024, 9, 30)
    state = quarterly_flow(**_kwargs(base, q, approve=True, approved_by=name), return_state=True)
    assert state.is_failed()
    assert "approver's name" in state.message
    assert not (base / "output").exists()
    assert _flow_run(state.state_details.flow_run_id).name == "data-summary-2024-09-30"


def test_approved_run_is_named_and_logs_what_happened(base, small_store):
    """The run's logs on the server: returns, stages, issued version, decision and approver;
    no child values."""
    from flows.quarterly import quarterly_flow

    q = dt.date(2020, 9, 30)  # the small store's quarter, copied into `base`
    state = quarterly_flow(
        **_kwargs(base, q, approve=True, approved_by="J. Analyst"), return_state=True
    )
    assert state.is_completed() and state.name == "Approved", state
    logs = _run_logs(state.state_details.flow_run_id, until="Approved by")
    text = "\n".join(m for _, m in logs)
    # The small store (conftest): of the spec's 9 submitters CSW and CPC (late) accepted,
    # NHSG rejected, the other six missing.
    assert (
        "3 of 9 received (1 late); missing: BIU, CPIG, EDU, HSCP, ICSB, IJB; rejected: NHSG"
    ) in text
    for stage in ("Computing the measures", "Writing the Word and Excel documents"):
        assert stage in text  # each stage of the pipeline, on the run's page
    # Approved at once: the documents were written once, as issued (no draft first).
    assert f"Issued version 1.0 written to {base / 'output' / '2020-09-30'}" in text
    assert "Draft version" not in text
    assert (
        f"Approved by J. Analyst; published to {base / 'output' / 'published' / '2020-09-30'}"
        in text
    )
    assert not [m for level, m in logs if level == "ERROR"]


def test_expected_failures_end_failed_with_one_line_and_their_name(base):
    from flows.quarterly import quarterly_flow

    state = quarterly_flow(**_kwargs(base, dt.date(2026, 9, 29)), return_state=True)
    assert state.is_failed()
    assert state.message.startswith("2026-09-29 is not a quarter end")
    run_id = state.state_details.flow_run_id
    assert _flow_run(run_id).name == "data-summary-2026-09-29"
    logs = _run_logs(run_id, until="not a quarter end")
    errors = [m for level, m in logs if level == "ERROR"]
    assert errors == [state.message]
    assert not any("Traceback" in m for _, m in logs)

    (base / "not-a-folder").write_text("x")
    state = quarterly_flow(
        **_kwargs(base, dt.date(2026, 9, 30), output=base / "not-a-folder"), return_state=True
    )
    assert state.is_failed() and "is a file, not a folder" in state.message


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_a_missing_inbox_fails_the_run_and_creates_nothing(base, kind):
    from flows.intake import intake_flow
    from flows.quarterly import quarterly_flow

    inbox = base / "typo-inbox"
    if kind == "file":
        inbox.write_text("not a folder")
    expected = "does not exist" if kind == "missing" else "is a file, not a folder"
    q = dt.date(2026, 9, 30)
    state = quarterly_flow(
        **_kwargs(base, q, inbox=inbox, run_intake=True, stable_wait=0.0), return_state=True
    )
    assert state.is_failed() and expected in state.message and str(inbox) in state.message
    state = intake_flow(inbox=inbox, output=base / "output", stable_wait=0.0, return_state=True)
    assert state.is_failed() and expected in state.message
    assert _flow_run(state.state_details.flow_run_id).name == "intake-typo-inbox"
    assert inbox.exists() == (kind == "file")
    assert not (base / "output").exists()


def test_intake_summary_per_inbox_only_when_something_changed(base):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.common import inbox_key
    from flows.intake import intake_flow

    inbox, output = base / "inbox", base / "output"
    key = inbox_key(inbox)
    assert key.startswith("intake-inbox-") and key != inbox_key(base / "other" / "inbox")

    def summaries() -> list:
        with get_client(sync_client=True) as client:
            return client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )

    (inbox / "broken.xlsx").write_bytes(b"not a workbook at all")
    state = intake_flow(inbox=inbox, output=output, stable_wait=0.0, return_state=True)
    assert state.is_completed()
    assert _flow_run(state.state_details.flow_run_id).name == "intake-inbox"
    [first] = summaries()
    assert "broken.xlsx" in first.data and "Intake filed 1 workbook(s)" in first.data

    state = intake_flow(inbox=inbox, output=output, stable_wait=0.0, return_state=True)
    assert state.is_completed() and state.message.startswith("Nothing new since ")
    assert len(summaries()) == 1  # nothing new: no second summary


def test_published_documents_link_to_the_configured_share(base, monkeypatch):
    """With DATASUMMARY_PUBLISH_URL the published copies are https links, drafts stay paths."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    from flows.quarterly import quarterly_flow

    monkeypatch.setenv("DATASUMMARY_PUBLISH_DIR", str(base / "cog share"))
    monkeypatch.setenv("DATASUMMARY_PUBLISH_URL", "https://intranet.example.org/cog/")
    q = dt.date(2023, 12, 31)
    state = quarterly_flow(**_kwargs(base, q, approve=True, approved_by="J. A."), return_state=True)
    assert state.is_completed()
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])
            )
        )
    latest = {a.key: a for a in sorted(arts, key=lambda a: a.created)}
    assert latest["report-docx"].data == (
        "[Data_Summary_2023-12-31.docx]"
        "(https://intranet.example.org/cog/2023-12-31/Data_Summary_2023-12-31.docx)"
    )
    assert latest["report-public-xlsx"].data.endswith(
        "/2023-12-31/Data_Summary_2023-12-31_public.xlsx)"
    )
    # Not published: the tables stay in the output folder, shown as a path to copy.
    measures_csv = base / "output" / "2023-12-31" / "measures.csv"
    assert f"`{measures_csv}`" in latest["report-measures-csv"].data
    assert not any("file://" in str(a.data) for a in arts)
