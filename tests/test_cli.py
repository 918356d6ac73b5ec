"""The command line as tools call it: a fresh process, files in, files and exit codes out."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys

import pandas as pd
import pytest

from transforms.sample import generate_sample

CLI = [sys.executable, "-m", "datasummary.cli"]


def _run(args, tmp_path, timeout=600):
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "prefect-home"))
    env.pop("PREFECT_API_URL", None)  # ephemeral mode, as on an analyst's machine
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_templates_writes_one_workbook_per_submitter(tmp_path):
    out = _run(["templates", "--quarter", "2020-09-30", "--out", str(tmp_path / "t")], tmp_path)
    assert out.returncode == 0, out.stderr
    names = sorted(p.name for p in (tmp_path / "t").iterdir())
    assert names == sorted(
        f"{c}_2020-09-30.xlsx"
        for c in ("CSW", "NHSG", "EDU", "HSCP", "ICSB", "CPC", "CPIG", "IJB", "BIU")
    )


def test_a_bad_quarter_is_a_clear_usage_error(tmp_path):
    out = _run(["templates", "--quarter", "2020-09-29", "--out", str(tmp_path)], tmp_path)
    assert out.returncode == 2
    assert "not a quarter end" in out.stderr


@pytest.mark.slow
@pytest.mark.e2e
def test_run_files_the_inbox_and_writes_the_quarter_folder(tmp_path):
    sample = generate_sample(
        tmp_path / "sample", first=dt.date(2022, 6, 30), last=dt.date(2022, 9, 30), faults=False
    )
    inbox = tmp_path / "inbox"
    shutil.copytree(sample.inbox, inbox)
    out = _run(
        [
            "run",
            "--quarter",
            "2022-09-30",
            "--inbox",
            str(inbox),
            "--output",
            str(tmp_path / "out"),
            "--stable-wait",
            "0.2",
        ],
        tmp_path,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    folder = tmp_path / "out" / "2022-09-30"
    for name in (
        "Data_Summary_2022-09-30.docx",
        "Data_Summary_2022-09-30_public.xlsx",
        "measures.csv",
        "returns.csv",
    ):
        assert (folder / name).is_file(), name
        assert str(folder / name) in out.stdout
    returns = pd.read_csv(folder / "returns.csv", dtype=str, keep_default_na=False)
    assert len(returns) == len(list(sample.inbox.glob("*.xlsx")))
    # Dropped in 2026, every one of these 2022 returns is late.
    assert set(returns["late"]) == {"true"}
    assert (inbox / "feedback").is_dir()
    again = _run(
        [
            "intake",
            "--inbox",
            str(inbox),
            "--output",
            str(tmp_path / "out"),
            "--stable-wait",
            "0.2",
        ],
        tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert "0 workbook(s) filed" in again.stdout


@pytest.mark.e2e  # the real CLI in a subprocess, with its own Prefect
def test_a_mistyped_inbox_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "inbx"
    out = _run(["intake", "--inbox", str(missing), "--output", str(tmp_path / "out")], tmp_path)
    assert out.returncode == 2
    assert f"The inbox {missing} does not exist" in out.stderr
    assert "Traceback" not in out.stderr
    assert not missing.exists() and not (tmp_path / "out").exists()


# ---------------------------------------------------------------- options, help, summaries
def test_help_imports_nothing_heavy():
    code = (
        "import sys\n"
        "from datasummary.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = ('prefect', 'pandas', 'great_expectations', 'rich', 'sqlalchemy', 'openpyxl')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_version_is_the_package_version(tmp_path):
    from importlib.metadata import version

    out = _run(["--version"], tmp_path)
    assert out.returncode == 0
    assert out.stdout.strip() == f"datasummary {version('datasummary')}"


def test_every_sub_command_help_has_an_example_and_the_exit_codes(tmp_path):
    from datasummary.commands import parser as _parser

    commands = _parser()._subparsers._group_actions[0].choices
    assert set(commands) >= {"templates", "check", "intake", "run", "demo", "national"}
    for name, parser in commands.items():
        text = parser.format_help()
        example = text.split("example:\n", 1)[1].splitlines()[0].strip()
        assert example.startswith(f"datasummary {name} ") or f" datasummary {name} " in example
        assert "exit codes:" in text and "2  usage" in text, name


def test_global_options_go_before_or_after_the_sub_command(tmp_path):
    from datasummary.commands import parser as _parser

    for argv in (["-q", "check", "x.xlsx"], ["check", "x.xlsx", "--quiet"]):
        args = _parser().parse_args(argv)
        assert args.quiet is True and args.command == "check"
    assert _run(["check", "x.xlsx", "--loud"], tmp_path).returncode == 2


def _small_inbox(inbox):
    """Two valid returns and one with text in a count cell, for quarter 2020-09-30."""
    from tests.returns_builder import valid_sheets, write_workbook

    inbox.mkdir()
    qe = dt.date(2020, 9, 30)
    for code in ("CSW", "NHSG"):
        write_workbook(valid_sheets(code, qe), inbox / f"{code}_2020-09-30.xlsx")
    bad = valid_sheets("EDU", qe)
    bad["School_Outcomes"][1][1] = "lots"
    write_workbook(bad, inbox / "EDU_2020-09-30.xlsx")
    # The same bytes twice: filed once, the copy passed over.
    shutil.copy(inbox / "CSW_2020-09-30.xlsx", inbox / "CSW copy.xlsx")


@pytest.mark.e2e  # the real CLI in a subprocess, with its own Prefect
def test_check_is_quiet_unless_verbose(tmp_path):
    _small_inbox(tmp_path / "inbox")
    bad = tmp_path / "inbox" / "EDU_2020-09-30.xlsx"
    quiet = _run(["check", str(bad)], tmp_path)
    assert quiet.returncode == 1
    assert quiet.stderr == ""  # no GX "Created temporary directory ..." or other chatter
    assert "School_Outcomes!B2" in quiet.stdout
    loud = _run(["check", str(bad), "--verbose"], tmp_path)
    assert loud.returncode == 1
    assert "great_expectations" in loud.stderr


@pytest.mark.slow
@pytest.mark.e2e
def test_intake_then_run_summaries_and_exit_codes_off_a_terminal(tmp_path):
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    _small_inbox(inbox)
    common = ["--inbox", str(inbox), "--output", str(output), "--stable-wait", "0.2"]

    intake = _run(["intake", *common], tmp_path)
    assert intake.returncode == 1, intake.stdout + intake.stderr  # a rejection to act on
    lines = intake.stdout.splitlines()
    assert lines[0] == f"3 workbook(s) filed from {inbox}"
    totals = dict(line.strip().rsplit(None, 1) for line in lines[1:7])
    assert {k.strip(): int(v) for k, v in totals.items()} == {
        "accepted": 2,
        "accepted with warnings": 0,
        "rejected": 1,
        "superseded": 0,
        "unchanged": 0,
        "passed over": 1,
    }
    assert f"Feedback for each workbook: {inbox / 'feedback'}" in lines
    rejected_at = lines.index(
        "Rejected (read the feedback, correct the workbook and drop it in again):"
    )
    assert lines[rejected_at + 1] == (
        "  EDU_2020-09-30.xlsx -> feedback/EDU_2020-09-30.xlsx.feedback.xlsx"
    )
    assert (inbox / "feedback" / "EDU_2020-09-30.xlsx.feedback.xlsx").is_file()
    assert "  CSW copy.xlsx: same content as CSW_2020-09-30.xlsx; filed once" in lines
    # Off a terminal: one plain line per stage (HH:MM:SS stage), no library chatter.
    stages = [line.split(" ", 1)[1] for line in intake.stderr.splitlines()]
    assert stages == [
        "starting Prefect",
        "looking for new workbooks",
        "reading workbooks (3)",
        "checking sheets against the suites (8)",
        "filing and writing feedback (3)",
    ], intake.stderr

    run = _run(["run", "--quarter", "2020-09-30", *common], tmp_path)
    assert run.returncode == 1, run.stdout + run.stderr  # EDU's return stands rejected
    lines = run.stdout.splitlines()
    folder = output / "2020-09-30"
    assert lines[0] == (
        "Data Summary for Quarter 2 2020/21 (July to September 2020), quarter end 2020-09-30: "
        "version 1.0, draft (not approved)"
    )
    # 9 submitters are expected; CSW and NHSG accepted, EDU rejected, 6 missing. Dropped
    # in 2026, the received ones are late.
    assert lines[1] == "Returns: 3 received of 9 expected (3 late, 6 missing, 1 rejected)"
    measures = pd.read_csv(folder / "measures.csv", dtype=str, keep_default_na=False)
    headline = measures[
        (measures["breakdown"] == "all") & (measures["quarter_end"] == "2020-09-30")
    ]
    rag = headline["rag"].value_counts().to_dict()
    expected_rag = ", ".join(f"{rag.get(k, 0)} {k}" for k in ("Green", "Amber", "Red"))
    if rag.get("Not rated"):
        expected_rag += f", {rag['Not rated']} Not rated"
    if rag.get(""):
        expected_rag += f"; {rag['']} without a target"
    assert lines[2] == f"RAG: {expected_rag}"
    assert "Rejected (the lead must correct and resubmit): EDU" in lines
    assert "Missing: HSCP, ICSB, CPC, CPIG, IJB, BIU" in lines
    for name in (
        "Data_Summary_2020-09-30.docx",
        "Data_Summary_2020-09-30.xlsx",
        "Data_Summary_2020-09-30_public.docx",
        "Data_Summary_2020-09-30_public.xlsx",
        "measures.csv",
        "returns.csv",
    ):
        assert f"  {folder / name}" in lines
    stages = [line.split(" ", 1)[1] for line in run.stderr.splitlines()]
    assert stages == [
        "starting Prefect",
        "looking for new workbooks",
        "computing the measures",
        "writing measures.csv and returns.csv",
        "drawing the charts and rendering the documents",
        "writing the Word and Excel documents (4)",
        "recording this run's figures",
    ], run.stderr

    quiet = _run(["intake", *common, "--quiet"], tmp_path)
    assert quiet.returncode == 0, quiet.stderr  # nothing new, nothing rejected this time
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines()[0] == f"0 workbook(s) filed from {inbox}"
    # The three filed and the copy of CSW's (its content is filed): all unchanged now.
    assert "  unchanged               4" in quiet.stdout.splitlines()


def test_a_failure_is_one_line_and_exit_1_with_the_traceback_under_debug(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    args = ["templates", "--quarter", "2020-09-30", "--out", str(tmp_path / "a-file" / "t")]
    plain = _run(args, tmp_path)
    assert plain.returncode == 1
    assert plain.stderr.splitlines()[-2].startswith("datasummary templates: error: ")
    assert "Traceback" not in plain.stderr
    debug = _run([*args, "--debug"], tmp_path)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr
