"""The folder checks run before any work: a clear sentence for an unusable inbox or output."""

from __future__ import annotations

import gc
import os
import warnings

import pytest

from transforms.folders import FolderProblem, check_inbox, inbox_problem, output_problem


def test_readable_inbox_has_no_problem_and_leaves_no_directory_handle_open(tmp_path):
    for name in ("a.xlsx", "b.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert inbox_problem(tmp_path) is None
        gc.collect()  # an unclosed scandir iterator warns when it is collected
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == []


def test_missing_inbox_and_file_inbox_are_named(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FolderProblem, match="nowhere"):
        check_inbox(missing)
    a_file = tmp_path / "inbox.txt"
    a_file.write_text("x")
    assert "is a file, not a folder" in (inbox_problem(a_file) or "")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any folder")
def test_unreadable_inbox_is_refused(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    inbox.chmod(0)
    try:
        assert "cannot be read" in (inbox_problem(inbox) or "")
    finally:
        inbox.chmod(0o755)


def test_output_under_a_file_cannot_be_created(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    assert "is a file" in (output_problem(blocker) or "")
    assert output_problem(tmp_path / "new" / "out") is None
