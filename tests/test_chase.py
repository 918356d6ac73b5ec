"""chase-returns: who still owes a return, what is wrong with a rejected one, e-mail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa

from transforms.notify import (
    SmtpConfig,
    email_reminders,
    reminder_frame,
    reminder_markdown,
    write_reminders,
)

Q = dt.date(2026, 9, 30)
NOW = dt.datetime(2026, 10, 22, 8, 0, tzinfo=dt.UTC)
SECRET = "CR-000123"  # a child-level value that must never leave the store
MESSAGES = [
    f"Sheet LAC_Starts row {n}: date of birth is after the start date" for n in range(7, 12)
]


def _expected() -> pd.DataFrame:
    due = pd.Timestamp(2026, 10, 21)
    rows = [
        ("CSW", "Children's Social Work", "data", "accepted"),
        ("NHSG", "NHS Grampian", "data", "rejected"),
        ("EDU", "Education", "data", "missing"),
        ("HSCP", "HSCP", "data", "accepted with warnings"),
        ("ICSB", "ICSB Chair", "lead", "missing"),
    ]
    return pd.DataFrame(
        [
            {
                "code": c,
                "name": n,
                "kind": k,
                "status": s,
                "late": False,
                "received_at": None,
                "due_date": due,
                "overdue": s != "accepted",
            }
            for c, n, k, s in rows
        ]
    )


def _store(tmp_path: Path) -> sa.Engine:
    """A store with NHSG's earlier and latest rejected workbooks and their findings."""
    from transforms.store import ledger
    from transforms.store.db import create_all, make_engine, sqlite_url

    engine = make_engine(sqlite_url(tmp_path / "output"))
    create_all(engine)
    at = dt.datetime(2026, 10, 20, 9, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for seq, (sha, name, errors) in enumerate(
            [("a" * 64, "nhsg_old.xlsx", 1), ("b" * 64, "nhsg_q2.xlsx", 5)]
        ):
            conn.execute(
                ledger.files.insert().values(
                    sha256=sha,
                    size=1,
                    original_name=name,
                    first_seen_at=at,
                    archive_path=f"archive/{sha}",
                )
            )
            conn.execute(
                ledger.submissions.insert().values(
                    sha256=sha,
                    seq=seq,
                    submitter="NHSG",
                    quarter_end=Q,
                    status="rejected",
                    errors=errors,
                    warnings=1,
                    late=False,
                    revision=False,
                    processed_at=at,
                )
            )
        blank = {"cell": None, "row": None, "column": None, "expected": None, "value": None}
        conn.execute(
            ledger.findings.insert(),
            [
                blank | f
                for f in [
                    {
                        "sha256": "a" * 64,
                        "severity": "error",
                        "rule": "OLD",
                        "sheet": "Cover",
                        "message": "old problem",
                    },
                    {
                        "sha256": "b" * 64,
                        "severity": "warning",
                        "rule": "W01",
                        "sheet": "CAMHS",
                        "row": 5,
                        "message": "a warning, not an error",
                        "value": SECRET,
                    },
                    *(
                        {
                            "sha256": "b" * 64,
                            "severity": "error",
                            "rule": "D03",
                            "sheet": "LAC_Starts",
                            "row": n + 7,
                            "message": m,
                            "value": SECRET,
                        }
                        for n, m in enumerate(MESSAGES)
                    ),
                ]
            ],
        )
    return engine


def _accepted(engine: sa.Engine, codes: list[str]) -> None:
    """Record an accepted, on-time return of quarter Q for each of `codes` in the ledger."""
    from transforms.store import ledger

    at = dt.datetime(2026, 10, 15, 9, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        for seq, code in enumerate(codes, start=10):
            sha = f"{seq:064d}"
            conn.execute(
                ledger.files.insert().values(
                    sha256=sha,
                    size=1,
                    original_name=f"{code.lower()}_q2.xlsx",
                    first_seen_at=at,
                    archive_path=f"archive/{sha}",
                )
            )
            conn.execute(
                ledger.submissions.insert().values(
                    sha256=sha,
                    seq=seq,
                    submitter=code,
                    quarter_end=Q,
                    status="accepted",
                    errors=0,
                    warnings=0,
                    late=False,
                    revision=False,
                    processed_at=at,
                )
            )


def test_reminders_list_what_is_not_accepted_with_the_latest_rejection(tmp_path):
    engine = _store(tmp_path)
    with engine.connect() as conn:
        frame = reminder_frame(_expected(), conn, Q, {"NHSG": ("nhsg@example.org",)})
    assert list(frame["code"]) == ["EDU", "NHSG", "ICSB"]  # data first, then leads
    nhsg = frame.set_index("code").loc["NHSG"]
    assert nhsg["status"] == "rejected" and nhsg["file"] == "nhsg_q2.xlsx"
    assert nhsg["errors"] == 5
    assert nhsg["problems"] == MESSAGES[:3]
    assert nhsg["locations"] == [
        "D03 at LAC_Starts row 7",
        "D03 at LAC_Starts row 8",
        "D03 at LAC_Starts row 9",
    ]
    assert nhsg["contact"] == "nhsg@example.org"
    edu = frame.set_index("code").loc["EDU"]
    assert edu["status"] == "missing" and pd.isna(edu["errors"]) and edu["problems"] == []


def test_reminder_files_and_the_prefect_text(tmp_path):
    engine = _store(tmp_path)
    with engine.connect() as conn:
        frame = reminder_frame(_expected(), conn, Q)
    files = write_reminders(frame, tmp_path / "reminders", Q, NOW.date())
    assert files["markdown"].name == "2026-09-30-2026-10-22.md"
    md = files["markdown"].read_text()
    assert MESSAGES[0] in md and MESSAGES[3] not in md and "5 error(s)" in md
    csv = pd.read_csv(files["csv"])
    assert list(csv["code"]) == ["EDU", "NHSG", "ICSB"]
    assert csv.loc[1, "problems"] == " | ".join(MESSAGES[:3])
    for text in (md, files["csv"].read_text()):
        assert SECRET not in text and "old problem" not in text
    # What Prefect keeps: rules and locations, not the messages.
    ui = reminder_markdown(frame, Q, NOW.date(), with_messages=False)
    assert "D03 at LAC_Starts row 7" in ui and MESSAGES[0] not in ui
    assert "**EDU**" in ui and "**ICSB**" in ui and "**CSW**" not in ui


def test_no_smtp_means_no_email_and_no_error(monkeypatch):
    monkeypatch.delenv("DATASUMMARY_SMTP_HOST", raising=False)
    assert SmtpConfig.from_env() is None
    assert email_reminders(None, reminder_frame(_expected(), None, Q), Q, NOW.date()) == 0


def test_smtp_config_from_env(tmp_path):
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text("nhsg: [a@nhs.example, b@nhs.example]\nEDU: edu@example.org\n")
    cfg = SmtpConfig.from_env(
        {
            "DATASUMMARY_SMTP_HOST": "mail.example",
            "DATASUMMARY_SMTP_PORT": "587",
            "DATASUMMARY_SMTP_TO": "biu@example.org, lead@example.org",
            "DATASUMMARY_SMTP_STARTTLS": "true",
            "DATASUMMARY_CONTACTS": str(contacts),
        }
    )
    assert (cfg.host, cfg.port, cfg.starttls) == ("mail.example", 587, True)
    assert cfg.to == ("biu@example.org", "lead@example.org")
    assert cfg.contacts == {"NHSG": ("a@nhs.example", "b@nhs.example"), "EDU": ("edu@example.org",)}


# ---------------------------------------------------------------- end to end, real SMTP
@pytest.mark.prefect
def test_chase_flow_end_to_end_with_smtp(prefect_harness, smtp_server, tmp_path, monkeypatch):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.chase import chase_flow

    port, inbox = smtp_server
    engine = _store(tmp_path)  # NHSG rejected
    _accepted(engine, ["CSW", "HSCP", "CPC", "CPIG", "IJB", "BIU"])  # EDU and ICSB missing
    engine.dispose()
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text("NHSG: nhsg@example.org\nICSB: chair@example.org\n")
    monkeypatch.delenv("DATASUMMARY_DB_URL", raising=False)
    monkeypatch.setenv("DATASUMMARY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DATASUMMARY_SMTP_PORT", str(port))
    monkeypatch.setenv("DATASUMMARY_SMTP_FROM", "biu@example.org")
    monkeypatch.setenv("DATASUMMARY_SMTP_TO", "biu@example.org")
    monkeypatch.setenv("DATASUMMARY_CONTACTS", str(contacts))

    state = chase_flow(
        inbox=tmp_path / "inbox", output=tmp_path / "output", now=NOW, return_state=True
    )
    assert state.is_completed()
    files = state.result()
    assert files["markdown"] == tmp_path / "output" / "reminders" / "2026-09-30-2026-10-22.md"
    assert files["csv"].exists()

    by_rcpt = {tuple(r): m for r, m in inbox.messages}
    assert set(by_rcpt) == {("biu@example.org",), ("nhsg@example.org",), ("chair@example.org",)}
    digest = by_rcpt[("biu@example.org",)].get_content()
    for code in ("NHSG", "EDU", "ICSB"):  # the store: rejected, missing, missing
        assert f"**{code}**" in digest
    assert "**CSW**" not in digest and "**CPC**" not in digest
    nhsg = by_rcpt[("nhsg@example.org",)].get_content()
    assert "rejected" in nhsg and "5 error(s) in nhsg_q2.xlsx" in nhsg
    assert MESSAGES[0] in nhsg and MESSAGES[3] not in nhsg
    assert "not yet received" in by_rcpt[("chair@example.org",)].get_content()
    for _, msg in inbox.messages:
        assert SECRET not in msg.as_string()

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["chase-returns"]))
        )
    mine = [a for a in arts if a.flow_run_id == state.state_details.flow_run_id]
    assert len(mine) == 1
    assert "D03 at LAC_Starts row 7" in mine[0].data and MESSAGES[0] not in mine[0].data


@pytest.mark.prefect
def test_chase_flow_without_smtp_writes_files_only(prefect_harness, tmp_path, monkeypatch):
    from flows.chase import chase_flow

    monkeypatch.delenv("DATASUMMARY_SMTP_HOST", raising=False)
    monkeypatch.delenv("DATASUMMARY_DB_URL", raising=False)
    files = chase_flow(
        quarter_end=Q,
        inbox=tmp_path / "inbox",
        output=tmp_path / "output",
        now=dt.datetime(2026, 10, 14, 8, 0, tzinfo=dt.UTC),
    )
    assert files["markdown"].name == "2026-09-30-2026-10-14.md"
    assert "NHSG" in files["markdown"].read_text()


@pytest.mark.prefect
def test_due_dates_reach_the_artifact_the_csv_and_the_emails(
    prefect_harness, smtp_server, tmp_path, monkeypatch
):
    """The real expected-returns step (no fakes): every reminder says when it was due."""
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.chase import chase_flow
    from transforms.spec import default_spec

    port, inbox = smtp_server
    contacts = tmp_path / "contacts.yaml"
    contacts.write_text("EDU: edu@example.org\n")
    monkeypatch.delenv("DATASUMMARY_DB_URL", raising=False)
    monkeypatch.setenv("DATASUMMARY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DATASUMMARY_SMTP_PORT", str(port))
    monkeypatch.setenv("DATASUMMARY_SMTP_TO", "biu@example.org")
    monkeypatch.setenv("DATASUMMARY_CONTACTS", str(contacts))
    state = chase_flow(
        quarter_end=Q,
        inbox=tmp_path / "inbox",
        output=tmp_path / "output",
        now=NOW,
        return_state=True,
    )
    assert state.is_completed(), state
    files = state.result()
    # Returns for the quarter ending 30 September 2026 are due 21 October 2026 (returns.md:
    # 21 days after the quarter end); nothing was received, so every submitter is chased.
    codes = {s.code for s in default_spec().returns.submitters}
    csv = pd.read_csv(files["csv"], dtype=str, keep_default_na=False)
    assert set(csv["code"]) == codes
    assert set(csv["due"]) == {"2026-10-21"}
    text = files["markdown"].read_text()
    assert "due ?" not in text and text.count("due 2026-10-21") == len(codes)

    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["chase-returns"]))
        )
    [mine] = [a for a in arts if a.flow_run_id == state.state_details.flow_run_id]
    assert "due ?" not in mine.data and mine.data.count("due 2026-10-21") == len(codes)

    by_rcpt = {tuple(r): m for r, m in inbox.messages}
    assert "2026-10-21" in by_rcpt[("edu@example.org",)].get_content()
    digest = by_rcpt[("biu@example.org",)].get_content()
    assert "due ?" not in digest and digest.count("due 2026-10-21") == len(codes)
