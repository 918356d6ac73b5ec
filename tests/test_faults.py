"""Environment faults end in one clear line naming what and where, never a password (issue 12)."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa

from transforms.faults import (
    OneLineForOperatorErrors,
    OperatorError,
    environment_fault,
    masked_url,
)


def test_an_unreachable_postgresql_is_one_line_with_host_and_no_password() -> None:
    url = "postgresql+psycopg://ds:s3cret@127.0.0.1:1/ds"
    engine = sa.create_engine(url)
    with pytest.raises(sa.exc.OperationalError) as raised:
        engine.connect()
    line = environment_fault(raised.value, url)
    assert line is not None and "\n" not in line
    assert "127.0.0.1" in line and "port 1" in line
    assert "s3cret" not in line and "ds:***@" in line


def test_a_store_that_cannot_be_opened_names_its_folder(tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "state"
    engine = sa.create_engine(f"sqlite:///{missing}/store.sqlite")
    with pytest.raises(sa.exc.OperationalError) as raised:
        engine.connect()
    line = environment_fault(raised.value, str(missing))
    assert line.startswith(f"the store at {missing} could not be used (")


def test_a_read_only_folder_is_one_line_naming_the_path() -> None:
    exc = OSError(errno.EROFS, "Read-only file system", "/srv/out/state")
    try:
        raise RuntimeError("task failed") from exc
    except RuntimeError as wrapped:
        line = environment_fault(wrapped)
    assert line == (
        "could not write /srv/out/state (Read-only file system): check that the folder "
        "exists, is writable and has space"
    )


def test_a_bug_is_not_an_environment_fault() -> None:
    assert environment_fault(KeyError("x")) is None
    assert environment_fault(ValueError("bad")) is None
    assert environment_fault(OperatorError("feedback is a file")) == "feedback is a file"


def test_masked_url_hides_the_password() -> None:
    assert masked_url("postgresql://u:pw@h:5432/d") == "postgresql://u:***@h:5432/d"
    assert masked_url(None) is None


def test_the_log_keeps_the_line_and_drops_the_traceback_of_an_operator_fault() -> None:
    try:
        raise OperatorError("feedback is a link")
    except OperatorError:
        import sys

        record = logging.LogRecord(
            "prefect.flow_runs", logging.ERROR, "", 0, "x", (), sys.exc_info()
        )
    assert OneLineForOperatorErrors().filter(record) and record.exc_info is None
    try:
        raise KeyError("bug")
    except KeyError:
        import sys

        bug = logging.LogRecord("prefect.flow_runs", logging.ERROR, "", 0, "x", (), sys.exc_info())
    assert OneLineForOperatorErrors().filter(bug) and bug.exc_info is not None  # bugs keep theirs


@pytest.mark.e2e  # the real CLI in a subprocess, with its own Prefect
def test_the_cli_prints_one_line_and_exits_1_when_the_store_is_unreachable(
    tmp_path: Path, capsys, prefect_harness
) -> None:
    from datasummary.cli import main

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    url = "postgresql+psycopg://ds:s3cret@127.0.0.1:1/ds"
    code = main(
        ["intake", "--inbox", str(inbox), "--output", str(tmp_path / "out")] + ["--db-url", url]
    )
    err = capsys.readouterr().err
    assert code == 1
    last = err.strip().splitlines()[-1]
    assert last.startswith(
        "datasummary intake: the store at postgresql+psycopg://ds:***@127.0.0.1:1/ds"
    )
    assert "s3cret" not in err and "Traceback" not in err
