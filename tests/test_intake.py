"""Intake orchestration: safe keeping, statuses, supersession, feedback, crash safety.

The real checker and feedback writer live elsewhere; these tests inject a small fake checker
that reads real openpyxl workbooks written here (Cover labels, a Child_Protection items
sheet, and test-only "errors"/"warnings" counts on the Cover), and fake feedback writers.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import sqlalchemy as sa

from transforms.findings import Cover, Finding, ParsedReturn
from transforms.intake.archive import archive_relpath
from transforms.intake.arrival import sha256_file
from transforms.intake.filing import (
    CRASH_ENV,
    IntakeResult,
    feedback_paths,
    run_intake,
    status_line,
    store_prior_data,
)
from transforms.store import ledger
from transforms.store.accepted import accepted_sheet
from transforms.store.db import create_all, make_engine, sqlite_url
from transforms.store.history import issued_reports

Q2 = dt.date(2020, 9, 30)
Q1 = dt.date(2020, 6, 30)
ON_TIME = dt.datetime(2020, 10, 5, 9, 0, tzinfo=dt.UTC)  # due 21 Oct 2020
LATE = dt.datetime(2020, 10, 21, 23, 30, tzinfo=dt.UTC)  # 22 Oct 00:30 in London
ITEMS = ["registrations", "deregistrations", "on_register_qe"]
REPO = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------- fakes
def make_return(
    path: Path,
    submitter: str = "CSW",
    quarter: str = "2020-09-30",
    values: tuple[int | None, ...] = (5, 3, 40),
    errors: int = 0,
    warnings: int = 0,
    mtime: float | None = None,
) -> Path:
    """A real workbook: Cover label/value pairs and a Child_Protection items sheet."""
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Cover"
    for row in (
        ("Submitter code", submitter),
        ("Quarter end date", quarter),
        ("Date completed", "2020-10-02"),
        ("errors", errors),
        ("warnings", warnings),
    ):
        cover.append(row)
    sheet = wb.create_sheet("Child_Protection")
    sheet.append(["item", "description", "value", "notes"])
    for item, value in zip(ITEMS, values, strict=True):
        sheet.append([item, item.replace("_", " "), value, None])
    wb.save(path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


CALLS: list[dict] = []


def fake_checker(path, *, spec=None, today=None, prior=None, original_name=None):
    """Reads the test workbooks above; anything else is a rejected unreadable file."""
    CALLS.append({"path": Path(path), "original_name": original_name, "today": today})
    name = original_name or Path(path).name
    try:
        wb = openpyxl.load_workbook(path, read_only=True)
        labels = {r[0]: r[1] for r in wb["Cover"].iter_rows(values_only=True)}
        rows = list(wb["Child_Protection"].iter_rows(min_row=2, values_only=True))
        wb.close()
    except Exception:
        return ParsedReturn(
            name,
            findings=[Finding("error", "P-FORMAT", "Not a workbook: send the .xlsx template.")],
        )
    quarter = dt.date.fromisoformat(labels["Quarter end date"])
    cover = Cover(
        submitter=labels["Submitter code"], quarter_end=quarter, date_completed=dt.date(2020, 10, 2)
    )
    findings = [
        Finding(
            "error", "T-ERR", f"error {i}", sheet="Cover", cell=f"B{i + 1}", value=f"secret-{i}"
        )
        for i in range(int(labels["errors"]))
    ]
    findings += [
        Finding("warning", "T-WARN", f"warning {i}", sheet="Child_Protection", row=i + 2)
        for i in range(int(labels["warnings"]))
    ]
    frame = pd.DataFrame(
        {
            "excel_row": range(2, 2 + len(rows)),
            "item": [r[0] for r in rows],
            "description": [r[1] for r in rows],
            "value": pd.array([r[2] for r in rows], dtype="Int64"),
            "notes": pd.array([r[3] for r in rows], dtype="str"),
        }
    )
    if prior is not None:
        CALLS[-1]["prior"] = prior.previous_item(
            cover.submitter, "Child_Protection", "on_register_qe", quarter
        )
    return ParsedReturn(name, cover=cover, sheets={"Child_Protection": frame}, findings=findings)


def fake_writer(parsed, path, status_line=None):
    wb = openpyxl.Workbook()
    wb.active.append([status_line])
    for f in parsed.findings:
        wb.active.append([f.severity, f.message])
    wb.save(path)
    return Path(path)


def fake_text(parsed, status_line=None):
    return "\n".join([status_line or "", *(f.message for f in parsed.findings)])


def failing_writer(parsed, path, status_line=None):
    raise OSError("share unavailable")


# ---------------------------------------------------------------- helpers
@pytest.fixture
def env(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    engine = make_engine(sqlite_url(output))
    create_all(engine)
    CALLS.clear()
    yield inbox, output, engine
    engine.dispose()


def intake(env, now=ON_TIME, **kw) -> IntakeResult:
    inbox, output, engine = env
    kw.setdefault("checker", fake_checker)
    kw.setdefault("feedback_writer", fake_writer)
    kw.setdefault("feedback_text", fake_text)
    return run_intake(inbox, output, engine, now=now, stable_wait=0.0, **kw)


def table(engine, tbl) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.select(tbl)))


def submissions_by_name(engine) -> dict[str, sa.Row]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(ledger.submissions, ledger.files.c.original_name).join(ledger.files)
        )
        return {r.original_name: r for r in rows}


def first_cell(path: Path) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    value = next(wb.active.iter_rows(values_only=True))[0]
    wb.close()
    return value


# ---------------------------------------------------------------- tests
def test_files_archives_checks_and_stores_only_accepted_data(env):
    inbox, output, engine = env
    good = make_return(inbox / "CSW Q2.xlsx", warnings=1, mtime=1_601_000_000)
    make_return(inbox / "nhs.xlsx", submitter="NHSG", errors=3, warnings=1, mtime=1_601_000_100)
    (inbox / "~$CSW Q2.xlsx").write_bytes(b"lock")
    (inbox / "notes.csv").write_text("a,b\n1,2\n")
    os.utime(inbox / "notes.csv", (1_601_000_200, 1_601_000_200))

    result = intake(env)

    assert result.counts["processed"] == 3 and result.skipped == [] and result.failed == []
    by_name = {p.original_name: p for p in result.processed}
    assert by_name["CSW Q2.xlsx"].status == "accepted with warnings"
    assert (by_name["nhs.xlsx"].status, by_name["nhs.xlsx"].errors) == ("rejected", 3)
    unreadable = by_name["notes.csv"]
    assert (unreadable.status, unreadable.submitter, unreadable.quarter_end) == (
        "rejected",
        None,
        None,
    )
    # the checker read the archived copy, told the original name
    sha = sha256_file(good)
    archived = output / archive_relpath(sha)
    assert CALLS[0] == {
        "path": archived,
        "original_name": "CSW Q2.xlsx",
        "today": ON_TIME.date(),
        "prior": None,
    }
    assert archived.read_bytes() == good.read_bytes()
    assert good.exists() and (inbox / "notes.csv").exists()  # inbox never emptied
    # ledger, submissions in intake order (mtime), findings
    subs = submissions_by_name(engine)
    assert [n for n, _ in sorted(subs.items(), key=lambda kv: kv[1].seq)] == [
        "CSW Q2.xlsx",
        "nhs.xlsx",
        "notes.csv",
    ]
    assert subs["CSW Q2.xlsx"].warnings == 1 and not subs["CSW Q2.xlsx"].late
    assert len(table(engine, ledger.files)) == 3
    assert len(table(engine, ledger.findings)) == 1 + 4 + 1
    # only accepted rows stored
    with engine.connect() as conn:
        cp = accepted_sheet(conn, "Child_Protection")
    assert set(cp["submitter"]) == {"CSW"} and list(cp["value"]) == [5, 3, 40]
    # feedback beside the lead's file, status line on top, lock file ignored entirely
    xlsx, txt = feedback_paths(inbox, "nhs.xlsx")
    assert xlsx == inbox / "feedback" / "nhs.xlsx.feedback.xlsx"
    assert first_cell(xlsx) == (
        "NHSG 2020-09-30: rejected — 3 errors, 1 warning. Nothing from "
        "this workbook is used: please correct it and send it again."
    )
    assert txt.read_text().splitlines()[0] == first_cell(xlsx)
    assert first_cell(inbox / "feedback" / "notes.csv.feedback.xlsx").startswith(
        "notes.csv: rejected — 1 error,"
    )
    assert not any("~$" in p.name for p in (inbox / "feedback").iterdir())


def test_rerun_touch_and_rename_do_not_refile_but_a_changed_file_does(env):
    inbox, _, engine = env
    f = make_return(inbox / "CSW.xlsx")
    assert intake(env).counts["processed"] == 1
    again = intake(env)
    assert (again.counts["processed"], again.unchanged) == (0, 1)
    os.utime(f, (1_700_000_000, 1_700_000_000))
    f.rename(inbox / "CSW renamed.xlsx")
    assert intake(env).counts["processed"] == 0
    make_return(inbox / "CSW renamed.xlsx", values=(6, 3, 41))
    changed = intake(env)
    assert [p.status for p in changed.processed] == ["accepted"]
    assert len(table(engine, ledger.files)) == 2 and len(table(engine, ledger.submissions)) == 2


def test_later_accepted_return_supersedes_in_intake_order(env):
    inbox, _, engine = env
    # same intake: b (older mtime) before a; then name order on equal mtimes
    make_return(inbox / "a.xlsx", values=(1, 1, 1), mtime=1_601_000_500)
    make_return(inbox / "b.xlsx", values=(2, 2, 2), mtime=1_601_000_000)
    make_return(inbox / "c.xlsx", values=(3, 3, 3), mtime=1_601_000_500)
    result = intake(env)
    assert [p.original_name for p in result.processed] == ["b.xlsx", "a.xlsx", "c.xlsx"]
    assert [p.status for p in result.processed] == ["superseded", "superseded", "accepted"]
    subs = submissions_by_name(engine)
    assert subs["b.xlsx"].superseded_by == subs["a.xlsx"].sha256
    assert subs["a.xlsx"].superseded_by == subs["c.xlsx"].sha256
    with engine.connect() as conn:
        assert list(accepted_sheet(conn, "Child_Protection")["value"]) == [3, 3, 3]
    assert "It replaces your earlier return (received 05 Oct 2020 10:00)." in first_cell(
        inbox / "feedback" / "c.xlsx.feedback.xlsx"
    )


def test_rejected_resubmission_leaves_earlier_accepted_in_force(env):
    inbox, _, engine = env
    make_return(inbox / "first.xlsx")
    intake(env)
    make_return(inbox / "second.xlsx", errors=3, warnings=1, values=(9, 9, 9))
    result = intake(env, now=ON_TIME + dt.timedelta(days=1))
    assert [p.status for p in result.processed] == ["rejected"]
    subs = submissions_by_name(engine)
    assert subs["first.xlsx"].status == "accepted" and subs["first.xlsx"].superseded_by is None
    assert first_cell(inbox / "feedback" / "second.xlsx.feedback.xlsx") == (
        "CSW 2020-09-30: rejected — 3 errors, 1 warning. Your earlier accepted return "
        "(received 05 Oct 2020 10:00) stays in force."
    )
    with engine.connect() as conn:
        assert list(accepted_sheet(conn, "Child_Protection")["value"]) == [5, 3, 40]


def test_late_uses_first_seen_in_london_and_revision_needs_issued_quarter(env):
    inbox, _, engine = env
    with engine.begin() as conn:
        conn.execute(issued_reports.insert().values(quarter_end=Q1, version="1", issued_at=ON_TIME))
    make_return(inbox / "q1.xlsx", quarter="2020-06-30")
    make_return(inbox / "q1 bad.xlsx", quarter="2020-06-30", errors=1)
    make_return(inbox / "q2.xlsx", submitter="EDU")
    result = intake(env, now=LATE)
    got = {p.original_name: (p.late, p.revision) for p in result.processed}
    assert got == {"q1.xlsx": (True, True), "q1 bad.xlsx": (True, False), "q2.xlsx": (True, False)}
    line = first_cell(inbox / "feedback" / "q1.xlsx.feedback.xlsx")
    assert "Received after the due date (21 Jul 2020)." in line
    assert "already issued" in line
    # 21 Oct 23:59 London is still on time
    make_return(inbox / "edu2.xlsx", submitter="EDU", values=(1, 2, 3))
    on_time = intake(env, now=dt.datetime(2020, 10, 21, 22, 59, tzinfo=dt.UTC))
    assert [p.late for p in on_time.processed] == [False]


def test_prior_data_sees_data_accepted_earlier_in_the_same_intake(env):
    inbox, _, engine = env
    make_return(inbox / "q1.xlsx", quarter="2020-06-30", values=(1, 2, 33), mtime=1_600_000_000)
    make_return(inbox / "q2.xlsx", values=(1, 2, 34), mtime=1_600_000_100)
    intake(env)
    assert [c["prior"] for c in CALLS] == [None, 33]
    with engine.connect() as conn:
        prior = store_prior_data(conn)
        assert prior.previous_item("CSW", "Child_Protection", "registrations", Q2) == 1
        assert prior.previous_item("CSW", "Child_Protection", "on_register_qe", Q1) is None
        assert prior.previous_item("NHSG", "Child_Protection", "registrations", Q2) is None
        assert prior.previous_progress("ICSB", Q2) == {}


def test_previous_progress_reads_the_in_force_progress_return(env):
    inbox, _, engine = env
    frame = pd.DataFrame(
        {
            "excel_row": [2, 3],
            "action_id": ["1.1", "1.2"],
            "action": ["a", "b"],
            "status": ["Complete", "On track"],
            "progress_update": ["done", pd.NA],
            "completion_date": pd.to_datetime(["2020-06-01", None]),
        }
    )

    def progress_checker(path, *, original_name=None, **_):
        return ParsedReturn(original_name, cover=Cover("ICSB", Q1), sheets={"Progress": frame})

    (inbox / "icsb.xlsx").write_bytes(b"any")
    intake(env, checker=progress_checker)
    with engine.connect() as conn:
        prior = store_prior_data(conn)
        assert prior.previous_progress("ICSB", Q2) == {"1.1": "Complete", "1.2": "On track"}
        assert prior.previous_progress("CPC", Q2) == {}


def test_checker_crash_leaves_the_file_pending_for_the_next_run(env):
    inbox, output, engine = env
    f = make_return(inbox / "CSW.xlsx")

    def broken(path, **_):
        raise RuntimeError("bug")

    result = intake(env, checker=broken)
    assert result.processed == [] and [s.name for s in result.failed] == ["CSW.xlsx"]
    assert (output / archive_relpath(sha256_file(f))).exists()
    assert table(engine, ledger.submissions) == []
    assert [p.status for p in intake(env).processed] == ["accepted"]


def test_failed_feedback_is_written_by_the_next_run(env):
    inbox, _, engine = env
    make_return(inbox / "CSW.xlsx", warnings=2)
    first = intake(env, feedback_writer=failing_writer)
    assert first.processed[0].feedback is None
    assert not (inbox / "feedback" / "CSW.xlsx.feedback.xlsx").exists()
    second = intake(env)
    assert second.counts["processed"] == 0 and second.feedback_rewritten == 1
    assert first_cell(inbox / "feedback" / "CSW.xlsx.feedback.xlsx") == (
        "CSW 2020-09-30: accepted with warnings — 0 errors, 2 warnings."
    )
    assert submissions_by_name(engine)["CSW.xlsx"].feedback_path.endswith("CSW.xlsx.feedback.xlsx")
    assert intake(env).feedback_rewritten == 0


def test_same_content_under_two_names_is_filed_once(env):
    inbox, _, engine = env
    f = make_return(inbox / "CSW.xlsx", mtime=1_600_000_000)
    (inbox / "Copy of CSW.xlsx").write_bytes(f.read_bytes())
    os.utime(inbox / "Copy of CSW.xlsx", (1_600_000_100, 1_600_000_100))
    result = intake(env)
    assert [p.original_name for p in result.processed] == ["CSW.xlsx"]
    assert [s.name for s in result.skipped] == ["Copy of CSW.xlsx"]
    assert len(table(engine, ledger.files)) == 1


def test_status_line_for_superseded_and_unreadable_cover():
    common = dict(errors=0, warnings=0, late=False, revision=False, deadline_days=21)
    assert status_line(
        original_name="x.xlsx", submitter="EDU", quarter_end=Q2, status="superseded", **common
    ).endswith("is in force instead.")
    line = status_line(
        original_name="x.xls",
        submitter=None,
        quarter_end=None,
        status="rejected",
        **{**common, "errors": 1},
    )
    assert line.startswith("x.xls: rejected — 1 error, 0 warnings.")
    assert "Cover sheet could not be read" in line


def test_result_rows_are_json_safe_and_carry_no_finding_values(env):
    import dataclasses
    import json

    inbox, _, _ = env
    make_return(inbox / "CSW.xlsx", errors=2)
    result = intake(env)
    rows = [dataclasses.asdict(p) for p in result.processed]
    text = json.dumps(rows, default=str) + json.dumps(result.counts)
    assert "secret" not in text and '"quarter_end": "2020-09-30"' in text


# ---------------------------------------------------------------- crash safety
CRASH_SCRIPT = textwrap.dedent("""
    import datetime as dt, sys
    from pathlib import Path
    sys.path.insert(0, {tests!r})
    import test_intake as t
    from transforms.intake.filing import run_intake
    from transforms.store.db import make_engine, sqlite_url
    inbox, output = Path(sys.argv[1]), Path(sys.argv[2])
    run_intake(inbox, output, make_engine(sqlite_url(output)), now=t.ON_TIME, stable_wait=0,
               checker=t.fake_checker, feedback_writer=t.fake_writer,
               feedback_text=t.fake_text, batch_size=1)
""")


@pytest.mark.parametrize("point", ["after_archive", "before_status_commit", "after_status"])
def test_killed_intake_loses_and_duplicates_nothing(env, tmp_path, point):
    inbox, output, engine = env
    make_return(inbox / "old.xlsx", values=(1, 1, 1), mtime=1_600_000_000)
    make_return(inbox / "new.xlsx", values=(2, 2, 2), warnings=1, mtime=1_600_000_100)
    make_return(inbox / "bad.xlsx", errors=1, mtime=1_600_000_200)
    script = tmp_path / "crash.py"
    script.write_text(CRASH_SCRIPT.format(tests=str(Path(__file__).parent)))
    proc = subprocess.run(
        [sys.executable, str(script), str(inbox), str(output)],
        cwd=REPO,
        env={**os.environ, CRASH_ENV: point, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert len(table(engine, ledger.files)) == (0 if point == "after_archive" else 3)
    assert len(table(engine, ledger.submissions)) == (1 if point == "after_status" else 0)

    result = intake(env)  # the operator simply runs intake again

    subs = submissions_by_name(engine)
    assert sorted(subs) == ["bad.xlsx", "new.xlsx", "old.xlsx"]
    assert [subs[n].seq for n in ("old.xlsx", "new.xlsx", "bad.xlsx")] == [1, 2, 3]
    assert subs["old.xlsx"].status == "superseded"
    assert subs["new.xlsx"].status == "accepted with warnings"
    assert subs["bad.xlsx"].status == "rejected"
    assert len(table(engine, ledger.files)) == 3
    assert len(table(engine, ledger.findings)) == 2
    with engine.connect() as conn:
        cp = accepted_sheet(conn, "Child_Protection")
        stored = conn.execute(sa.text("select count(*) from data_child_protection")).scalar()
    assert list(cp["value"]) == [2, 2, 2]
    assert stored == 6  # old (superseded) + new, each once
    for name in ("old", "new", "bad"):
        assert (inbox / "feedback" / f"{name}.xlsx.feedback.xlsx").exists()
        assert not list((inbox / "feedback").glob(".*"))  # no temp files left
    assert all(s.feedback_path for s in subs.values())
    assert len(result.processed) + result.feedback_rewritten == 3
    assert intake(env).counts["processed"] == 0


def test_defaults_are_the_validate_and_feedback_modules(env, monkeypatch):
    import types

    inbox, _, _ = env
    validate = types.ModuleType("transforms.intake.validate")
    validate.check_workbook = fake_checker
    feedback = types.ModuleType("transforms.intake.feedback")
    feedback.write_feedback_workbook = fake_writer
    feedback.feedback_text = fake_text
    monkeypatch.setitem(sys.modules, "transforms.intake.validate", validate)
    monkeypatch.setitem(sys.modules, "transforms.intake.feedback", feedback)
    make_return(inbox / "CSW.xlsx")
    result = run_intake(inbox, env[1], env[2], now=ON_TIME, stable_wait=0.0)
    assert [p.status for p in result.processed] == ["accepted"]
    assert (inbox / "feedback" / "CSW.xlsx.feedback.txt").read_text() == (
        "CSW 2020-09-30: accepted — 0 errors, 0 warnings."
    )


@pytest.mark.postgres
def test_same_intake_on_postgresql(tmp_path):
    """The ledger, statuses and prior look-ups are plain SQLAlchemy Core: PostgreSQL too."""
    url = os.environ.get("DATASUMMARY_TEST_PG_URL")
    if not url:
        pytest.skip("DATASUMMARY_TEST_PG_URL not set")
    from tests.pg import private_schema_engine
    from transforms.measures.returns_status import expected_returns, returns_frame

    with private_schema_engine(url) as engine:
        inbox, output = tmp_path / "inbox", tmp_path / "out"
        inbox.mkdir()
        pg = (inbox, output, engine)
        CALLS.clear()
        make_return(inbox / "q1.xlsx", quarter="2020-06-30", values=(1, 2, 33), mtime=1_600_000_000)
        make_return(inbox / "q2.xlsx", values=(1, 2, 34), mtime=1_600_000_100)
        make_return(inbox / "q2 v2.xlsx", values=(1, 2, 35), warnings=1, mtime=1_600_000_200)
        make_return(inbox / "q2 bad.xlsx", errors=2, mtime=1_600_000_300)
        result = intake(pg)
        assert [p.status for p in result.processed] == [
            "accepted",
            "superseded",
            "accepted with warnings",
            "rejected",
        ]
        assert [c["prior"] for c in CALLS] == [None, 33, 33, 33]
        assert intake(pg).counts["processed"] == 0
        with engine.connect() as conn:
            assert list(accepted_sheet(conn, "Child_Protection")["value"]) == [1, 2, 33, 1, 2, 35]
            frame = returns_frame(conn)
            expected = expected_returns(conn, Q2, ON_TIME).set_index("code")
        assert list(frame["received_at"].unique()) == ["2020-10-05T10:00:00+01:00"]
        assert expected.loc["CSW", "status"] == "accepted with warnings"
        assert "stays in force" in first_cell(inbox / "feedback" / "q2 bad.xlsx.feedback.xlsx")


def test_copies_and_feedback_are_on_disk_before_the_ledger_says_so(env, monkeypatch):
    """One sync per batch replaces per-file fsyncs; it must come before the ledger rows."""
    inbox, output, engine = env
    make_return(inbox / "a.xlsx", values=(1, 1, 1), mtime=1_600_000_000)
    make_return(inbox / "b.xlsx", errors=1, mtime=1_600_000_100)
    synced = []

    def sync(paths):
        with engine.connect() as conn:
            files = conn.execute(sa.select(sa.func.count()).select_from(ledger.files)).scalar()
            noted = conn.execute(
                sa.select(sa.func.count())
                .select_from(ledger.submissions)
                .where(ledger.submissions.c.feedback_path.is_not(None))
            ).scalar()
        synced.append((sorted(Path(p).name for p in paths), files, noted))

    monkeypatch.setattr("transforms.atomic.sync_to_disk", sync)
    intake(env)
    archived = sorted(f"{sha256_file(inbox / n)}.xlsx" for n in ("a.xlsx", "b.xlsx"))
    assert synced[0] == (archived, 0, 0)  # both copies, before any ledger row
    feedback = sorted(f"{n}.xlsx.feedback.{ext}" for n in "ab" for ext in ("txt", "xlsx"))
    assert sorted(n for s in synced[1:] for n in s[0]) == feedback
    assert all(noted == 0 for _, _, noted in synced[1:])  # before any path is recorded
    assert all(s.feedback_path for s in submissions_by_name(engine).values())
