"""Intake that no file can stop (issue 12, returns.md §3): no poison, a checked inbox, every
dropped file answered under a name of its own.

Uses the fake checker and feedback writers of `tests.test_intake`.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.test_intake import (
    CALLS,
    ON_TIME,
    REPO,
    fake_checker,
    intake,
    make_return,
    submissions_by_name,
)
from transforms.catalogue import make_finding
from transforms.faults import OperatorError
from transforms.findings import ParsedReturn
from transforms.store import ledger
from transforms.store.db import create_all, make_engine, sqlite_url


@pytest.fixture
def env(tmp_path: Path):
    """As in tests.test_intake: an inbox, an output folder and its store."""
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    CALLS.clear()
    yield inbox, output, engine
    engine.dispose()


def _flaky(bad: str):
    """A checker that raises on the file named `bad`, and checks the others."""

    def check(path, *, original_name=None, **kw):
        if original_name == bad:
            raise RuntimeError("bug")
        return fake_checker(path, original_name=original_name, **kw)

    return check


# ---------------------------------------------------------------- no poison
def test_a_file_whose_check_fails_is_retried_once_then_rejected_and_answered(env):
    inbox, _, engine = env
    make_return(inbox / "bad.xlsx", submitter="CSW", mtime=1_600_000_000)
    make_return(inbox / "good.xlsx", submitter="NHSG", mtime=1_600_000_100)
    checker = _flaky("bad.xlsx")

    first = intake(env, checker=checker)
    assert [p.original_name for p in first.processed] == ["good.xlsx"]
    assert [s.name for s in first.failed] == ["bad.xlsx"]
    assert "will retry" in first.failed[0].reason

    second = intake(env, checker=checker)  # the one retry: fails again, so rejected
    assert [(p.original_name, p.status) for p in second.processed] == [("bad.xlsx", "rejected")]
    assert second.failed == []
    feedback = inbox / "feedback" / second.processed[0].feedback
    text = feedback.with_suffix(".txt").read_text()
    assert "could not be checked" in text and "RuntimeError" in text

    make_return(inbox / "later.xlsx", submitter="EDU", mtime=1_600_000_200)
    third = intake(env, checker=checker)  # never retried, and later files are filed
    assert [p.original_name for p in third.processed] == ["later.xlsx"]
    assert third.failed == []
    with engine.connect() as conn:
        fails = ledger.event_count(
            conn, submissions_by_name(engine)["bad.xlsx"].sha256, "check_failed"
        )
    assert fails == 2


# ---------------------------------------------------------------- the inbox is checked
@pytest.mark.parametrize("kind", ["file", "link"])
def test_a_feedback_that_is_not_a_folder_files_everything_writes_nothing_and_catches_up(
    env, tmp_path, kind
):
    inbox, _, engine = env
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if kind == "file":
        (inbox / "feedback").write_text("not a folder")
    else:
        (inbox / "feedback").symlink_to(elsewhere, target_is_directory=True)
    make_return(inbox / "CSW.xlsx", mtime=1_600_000_000)
    make_return(inbox / "nhs.xlsx", submitter="NHSG", mtime=1_600_000_100)

    result = intake(env)
    assert [p.status for p in result.processed] == ["accepted", "accepted"]
    assert [p.feedback for p in result.processed] == [None, None]
    assert f"{inbox / 'feedback'} is a {kind}, not a folder" in result.feedback_problem
    assert list(elsewhere.iterdir()) == []  # nothing written through the link
    with pytest.raises(OperatorError, match="intake filed 2 workbook"):
        result.raise_for_operator()
    assert all(s.feedback_path is None for s in submissions_by_name(engine).values())

    (inbox / "feedback").unlink()  # the operator puts it right
    again = intake(env)
    assert again.feedback_problem is None and again.feedback_rewritten == 2
    assert sorted(p.name for p in (inbox / "feedback").iterdir()) == [
        "CSW.xlsx.feedback.txt",
        "CSW.xlsx.feedback.xlsx",
        "nhs.xlsx.feedback.txt",
        "nhs.xlsx.feedback.xlsx",
    ]
    again.raise_for_operator()  # nothing to say now


@pytest.mark.e2e  # the real CLI in a subprocess, with its own Prefect
def test_the_intake_command_fails_loudly_when_feedback_is_a_link(tmp_path):
    inbox, output, elsewhere = tmp_path / "inbox", tmp_path / "out", tmp_path / "elsewhere"
    inbox.mkdir()
    elsewhere.mkdir()
    (inbox / "feedback").symlink_to(elsewhere, target_is_directory=True)
    make_return(inbox / "CSW.xlsx")
    proc = subprocess.run(
        [str(REPO / ".venv/bin/datasummary"), "intake", "--inbox", str(inbox)]
        + ["--output", str(output), "--stable-wait", "0"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1
    assert "is a link, not a folder" in proc.stderr
    assert "Traceback" not in proc.stderr  # one clear line, not the engine's traceback
    assert list(elsewhere.iterdir()) == []


# ---------------------------------------------------------------- names of their own
def test_every_file_is_answered_under_its_whole_name(env):
    inbox, _, _ = env
    make_return(inbox / "dup.xlsx", mtime=1_600_000_000)
    make_return(inbox / "dup.XLSX", submitter="NHSG", mtime=1_600_000_100)
    (inbox / "same.xlsm").write_bytes(b"PK\x03\x04 not really")
    long_name = "x" * 245 + ".xlsx"
    make_return(inbox / long_name, submitter="EDU", mtime=1_600_000_200)
    result = intake(env)
    assert len(result.processed) == 4
    names = {p.original_name: p.feedback for p in result.processed}
    assert names["dup.xlsx"] == "dup.xlsx.feedback.xlsx"
    assert names["dup.XLSX"] == "dup.XLSX.feedback.xlsx"
    assert names["same.xlsm"] == "same.xlsm.feedback.xlsx"
    short = names[long_name]
    assert short.startswith("x" * 100) and short.endswith(".feedback.xlsx")
    assert len(short.encode()) <= 200
    assert all((inbox / "feedback" / f).is_file() for f in names.values())
    assert (inbox / "feedback" / short.replace(".xlsx", ".txt")).is_file()


def test_an_identical_copy_is_told_which_file_it_repeats(env):
    inbox, _, _ = env
    f = make_return(inbox / "CSW.xlsx", mtime=1_600_000_000)
    intake(env)
    (inbox / "Copy of CSW.xlsx").write_bytes(f.read_bytes())
    result = intake(env, now=ON_TIME + dt.timedelta(days=1))
    assert result.processed == []
    text = (inbox / "feedback" / "Copy of CSW.xlsx.feedback.txt").read_text()
    assert "is the same file as CSW.xlsx (received 05 Oct 2020 10:00), which is accepted" in text
    assert intake(env).skipped == []  # answered once, not every run


def test_a_copy_of_a_rejected_file_carries_its_findings(env):
    inbox, _, _ = env
    f = make_return(inbox / "bad.xlsx", errors=2)
    intake(env)
    (inbox / "bad again.xlsx").write_bytes(f.read_bytes())
    intake(env)
    text = (inbox / "feedback" / "bad again.xlsx.feedback.txt").read_text()
    assert "same file as bad.xlsx" in text and "which is rejected" in text
    assert "error 0" in text and "error 1" in text  # the earlier file's findings


def test_a_rejection_for_the_name_alone_does_not_stick_to_the_bytes(env):
    inbox, _, engine = env
    f = make_return(inbox / "CSW.xlsm")

    def by_name(path, *, original_name=None, **kw):
        if not original_name.endswith(".xlsx"):
            return ParsedReturn(original_name, findings=[make_finding("P-EXTENSION", detail="x")])
        return fake_checker(path, original_name=original_name, **kw)

    first = intake(env, checker=by_name)
    assert [p.status for p in first.processed] == ["rejected"]
    f.rename(inbox / "CSW.xlsx")
    second = intake(env, checker=by_name, now=ON_TIME + dt.timedelta(days=1))
    assert [(p.original_name, p.status) for p in second.processed] == [("CSW.xlsx", "accepted")]
    assert (inbox / "feedback" / "CSW.xlsx.feedback.xlsx").is_file()
    assert (inbox / "feedback" / "CSW.xlsm.feedback.xlsx").is_file()  # the earlier answer stays
    with engine.connect() as conn:
        events = [r.event for r in conn.execute(sa.select(ledger.events.c.event))]
    assert "renamed" in events
    assert intake(env, checker=by_name).processed == []  # and not checked again


def test_what_intake_passes_over_is_listed_with_the_reason(env):
    inbox, _, _ = env
    make_return(inbox / "CSW.xlsx")
    (inbox / "link.xlsx").symlink_to(inbox / "CSW.xlsx")
    os.mkfifo(inbox / "pipe.xlsx")
    (inbox / ".hidden.xlsx").write_bytes(b"x")
    (inbox / "old returns").mkdir()
    (inbox / "~$CSW.xlsx").write_bytes(b"lock")  # lock files: ignored, not listed
    result = intake(env)
    reasons = {r["file"]: r["reason"] for r in result.passed_over()}
    assert sorted(reasons) == [".hidden.xlsx", "link.xlsx", "old returns", "pipe.xlsx"]
    assert "link" in reasons["link.xlsx"] and "pipe" in reasons["pipe.xlsx"]
    assert "hidden" in reasons[".hidden.xlsx"] and "folder" in reasons["old returns"]
