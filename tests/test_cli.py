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


def test_a_mistyped_inbox_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "inbx"
    out = _run(["intake", "--inbox", str(missing), "--output", str(tmp_path / "out")], tmp_path)
    assert out.returncode == 2
    assert f"The inbox {missing} does not exist" in out.stderr
    assert "Traceback" not in out.stderr
    assert not missing.exists() and not (tmp_path / "out").exists()
