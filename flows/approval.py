"""Review and distribution to COG: the draft waits for an analyst's decision in the UI.

A scheduled quarterly run writes its documents as a draft in OUTPUT/<quarter-end>/ and pauses
for a `ReviewDecision`. "approve" copies the documents to the COG distribution folder,
e-mails them when SMTP is configured, and records who approved (history + ledger event);
"send back" publishes nothing and records the comment. Either needs the reviewer's name: the
input model requires a non-blank one, so the Prefect server refuses a blank name (the run
stays paused). Runs by hand can approve with a flag and a name (no pause); command-line runs
never wait for input.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Annotated, Literal

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.input import RunInput
from pydantic import Field, StringConstraints

from datasummary.settings import Settings
from flows.common import document_artifacts, engine_for
from flows.intake import is_transient_io_error

PUBLISH_ENV = "DATASUMMARY_PUBLISH_DIR"
REVIEW_POLL_ENV = "DATASUMMARY_REVIEW_POLL_SECONDS"
#: What COG receives: the Word report and the Excel workbook (public packs for the public).
PUBLISHED_ROLES = ("docx", "xlsx", "public_docx", "public_xlsx")


#: A person's name: something other than spaces (checked by the server against the schema,
#: so a blank name is refused at the Resume form and through the API alike).
ReviewerName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, pattern=r"\S"),
    Field(
        title="Reviewer",
        description="Your name, recorded with the decision (required).",
    ),
]


class ReviewDecision(RunInput):
    """The analyst's decision on a draft report, given in the Prefect UI."""

    decision: Literal["approve", "send back"] = Field(
        title="Decision", description="Approve to publish to COG; send back to publish nothing."
    )
    reviewer: ReviewerName
    comment: str = Field(
        "", title="Comment", description="Why it was sent back, or a note on the approval."
    )


def blank_reviewer_message(approved_by: str | None) -> str | None:
    """Why `approved_by` cannot approve a report (None when it names someone)."""
    if approved_by and approved_by.strip():
        return None
    return "Approving needs the approver's name: give approved_by (it is recorded with the report)."


def publish_root(settings: Settings) -> Path:
    """DATASUMMARY_PUBLISH_DIR (or Settings.publish_dir), else OUTPUT/published."""
    if settings.publish_dir is not None:
        return Path(settings.publish_dir)
    env = os.environ.get(PUBLISH_ENV, "").strip()
    return Path(env) if env else settings.output / "published"


def copy_atomically(source: Path, target: Path) -> Path:
    """Copy through a temporary file beside `target`: readers never see half a document."""
    from transforms.atomic import atomic_write

    return atomic_write(
        target, lambda tmp: shutil.copyfile(source, tmp), suffix=Path(target).suffix
    )


def decision_detail(quarter_end: dt.date, version: str, decision: ReviewDecision) -> str:
    """What the ledger says about a decision (who, which report, the comment)."""
    text = f"{quarter_end.isoformat()} version {version} by {decision.reviewer}"
    return text + (f": {decision.comment}" if decision.comment else "")


@task(
    name="Publish the documents to the COG folder",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=is_transient_io_error,
)
def publish_documents(
    settings: Settings, quarter_end: dt.date, paths: dict[str, Path]
) -> dict[str, Path]:
    """Copy the approved documents to <publish root>/<quarter-end>/, each atomically."""
    target = publish_root(settings) / quarter_end.isoformat()
    return {
        role: copy_atomically(Path(paths[role]), target / Path(paths[role]).name)
        for role in PUBLISHED_ROLES
        if role in paths
    }


@task(name="Record the review decision", cache_policy=NO_CACHE)
def record_decision(
    settings: Settings, quarter_end: dt.date, version: str, run_id: str, decision: ReviewDecision
) -> None:
    """Approve: mark issued (history) and a ledger event. Send back: the comment only."""
    from transforms.store import history, ledger

    engine = engine_for(settings)
    try:
        with engine.begin() as conn:
            if decision.decision == "approve":
                history.mark_issued(
                    conn, quarter_end, run_id, version, decision.reviewer, decision.comment
                )
                event = "report approved"
            else:
                event = "report sent back"
            detail = decision_detail(quarter_end, version, decision)
            ledger.record_event(conn, None, event, dt.datetime.now(dt.UTC), detail)
    finally:
        engine.dispose()


@task(
    name="E-mail the documents to COG",
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=is_transient_io_error,
)
def email_documents(quarter_end: dt.date, published: dict[str, Path]) -> int:
    """Send the internal pack when SMTP is configured (0 messages and no error otherwise)."""
    from transforms.notify import SmtpConfig, send_email
    from transforms.quarters import quarter_label

    config = SmtpConfig.from_env()
    if config is None or not config.to:
        return 0
    attachments = [published[r] for r in ("docx", "xlsx") if r in published]
    label = quarter_label(quarter_end)
    send_email(
        config,
        config.to,
        f"Data Summary Report — {label}",
        f"The Data Summary Report for {label} is attached.\n",
        attachments,
    )
    return 1


def wait_for_review(quarter_end: dt.date, summary: str, timeout: int) -> ReviewDecision:
    """Pause the current flow run until an analyst approves or sends the draft back."""
    from prefect.flow_runs import pause_flow_run

    description = (
        f"Draft Data Summary for {quarter_end.isoformat()} is ready in the "
        f"output folder. Approve to publish it to COG, or send it back with a "
        f"comment.\n\n{summary}"
    )
    poll = int(os.environ.get(REVIEW_POLL_ENV, "10") or 10)
    return pause_flow_run(
        wait_for_input=ReviewDecision.with_initial_data(description=description),
        timeout=timeout,
        poll_interval=poll,
    )


def apply_decision(
    settings: Settings,
    quarter_end: dt.date,
    version: str,
    run_id: str,
    decision: ReviewDecision,
    paths: dict[str, Path],
) -> dict[str, Path]:
    """Publish (approve) or not (send back); record it either way; a keyed artifact."""
    published: dict[str, Path] = {}
    if decision.decision == "approve":
        published = publish_documents(settings, quarter_end, paths)
    record_decision(settings, quarter_end, version, run_id, decision)
    if published:
        document_artifacts(published, quarter_end, publish_root(settings))
        email_documents(quarter_end, published)
    lines = [
        f"# Review — {quarter_end.isoformat()}",
        "",
        f"- decision: {decision.decision}",
        f"- reviewer: {decision.reviewer}",
        f"- version: {version}",
    ]
    if decision.comment:
        lines.append(f"- comment: {decision.comment}")
    if published:
        lines += ["", "Published:", *(f"- `{p.resolve()}`" for p in published.values())]
    else:
        lines += ["", "Nothing was published."]
    create_markdown_artifact(
        key="review-decision",
        markdown="\n".join(lines),
        description=f"Review decision {quarter_end}",
    )
    return published
