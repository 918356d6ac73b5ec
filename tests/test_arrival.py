"""Arrival (stable files, ignored names, hashing) and the content-addressed archive."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from transforms.intake.archive import ArchiveError, archive_file, archive_relpath, verified
from transforms.intake.arrival import is_ignored, look, ordered, sha256_file, stable_files


def _write(path: Path, data: bytes, mtime: float | None = None) -> Path:
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


@pytest.mark.parametrize(
    "name", ["~$CSW.xlsx", ".~lock.CSW.xlsx#", "copy.tmp", "COPY.TMP", ".DS_Store", ".hidden.xlsx"]
)
def test_lock_temp_and_hidden_files_are_ignored(name):
    assert is_ignored(name)


@pytest.mark.parametrize(
    "name", ["CSW.xlsx", "csw q2.XLSX", "returns.csv", "~CSW.xlsx", "tmp.xlsx"]
)
def test_ordinary_names_are_not_ignored(name):
    assert not is_ignored(name)


def test_look_reads_top_level_only_and_does_not_list_ignored(tmp_path):
    (tmp_path / "feedback").mkdir()
    _write(tmp_path / "feedback" / "CSW.feedback.xlsx", b"fb")
    _write(tmp_path / "CSW.xlsx", b"a")
    _write(tmp_path / "~$CSW.xlsx", b"lock")
    _write(tmp_path / ".~lock.CSW.xlsx#", b"lock")
    _write(tmp_path / "x.tmp", b"t")
    found, skipped = look(tmp_path)
    assert sorted(found) == ["CSW.xlsx"]
    assert skipped == []


def test_symlink_is_listed_as_skipped(tmp_path):
    target = _write(tmp_path / "real.bin", b"x")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.xlsx").symlink_to(target)
    found, skipped = look(inbox)
    assert found == {}
    assert [s.name for s in skipped] == ["link.xlsx"]


def test_stable_files_leaves_a_growing_file_and_a_new_arrival(tmp_path):
    _write(tmp_path / "done.xlsx", b"complete", mtime=1_600_000_000)
    growing = _write(tmp_path / "growing.xlsx", b"part", mtime=1_600_000_000)
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        with growing.open("ab") as fh:
            fh.write(b" more")
        _write(tmp_path / "late.xlsx", b"new")

    ready, skipped = stable_files(tmp_path, stable_wait=0.5, sleep=sleep)
    assert waits == [0.5]
    assert [c.name for c in ready] == ["done.xlsx"]
    assert sorted(s.name for s in skipped) == ["growing.xlsx", "late.xlsx"]


def test_stable_files_touched_between_looks_is_not_ready(tmp_path):
    f = _write(tmp_path / "a.xlsx", b"same", mtime=1_600_000_000)
    ready, skipped = stable_files(tmp_path, 0.0, sleep=lambda s: os.utime(f, (1, 1_600_000_100)))
    assert ready == []
    assert [s.name for s in skipped] == ["a.xlsx"]


def test_stable_files_in_mtime_then_name_order(tmp_path):
    _write(tmp_path / "b.xlsx", b"1", mtime=1_600_000_000)
    _write(tmp_path / "a.xlsx", b"2", mtime=1_600_000_000)
    _write(tmp_path / "0.xlsx", b"3", mtime=1_600_000_500)
    _write(tmp_path / "z.xlsx", b"4", mtime=1_599_000_000)
    ready, _ = stable_files(tmp_path, 0.0, sleep=lambda s: None)
    assert [c.name for c in ready] == ["z.xlsx", "a.xlsx", "b.xlsx", "0.xlsx"]
    assert [c.name for c in ordered(reversed(ready))] == [c.name for c in ready]


def test_empty_inbox_does_not_wait(tmp_path):
    def sleep(_):
        raise AssertionError("no wait needed")

    assert stable_files(tmp_path, 5.0, sleep=sleep) == ([], [])


def test_sha256_is_of_the_content(tmp_path):
    data = os.urandom(3 * (1 << 20) + 17)  # spans several read chunks
    f = _write(tmp_path / "big.xlsx", data)
    assert sha256_file(f) == hashlib.sha256(data).hexdigest()


def test_archive_copy_is_content_addressed_verified_and_read_only(tmp_path):
    data = b"PK\x03\x04 workbook bytes"
    sha = hashlib.sha256(data).hexdigest()
    src = _write(tmp_path / "inbox.xlsx", data)
    out = tmp_path / "out"
    path = archive_file(src, sha, out)
    assert path == out / "archive" / sha[:2] / sha[2:] / f"{sha}.xlsx"
    assert archive_relpath(sha) == path.relative_to(out)
    assert path.read_bytes() == data
    assert not path.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert verified(path, sha)
    assert src.read_bytes() == data  # the lead's file is untouched
    assert archive_file(src, sha, out) == path  # idempotent
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp left over


def test_archive_refuses_content_that_does_not_match_its_hash(tmp_path):
    src = _write(tmp_path / "inbox.xlsx", b"changed after hashing")
    sha = hashlib.sha256(b"what was hashed").hexdigest()
    with pytest.raises(ArchiveError):
        archive_file(src, sha, tmp_path / "out")
    folder = tmp_path / "out" / archive_relpath(sha).parent
    assert list(folder.iterdir()) == []
    assert not verified(tmp_path / "out" / archive_relpath(sha), sha)


def test_archive_replaces_a_damaged_copy(tmp_path):
    data = b"good bytes"
    sha = hashlib.sha256(data).hexdigest()
    out = tmp_path / "out"
    damaged = out / archive_relpath(sha)
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"bad")
    assert not verified(damaged, sha)
    archive_file(_write(tmp_path / "s.xlsx", data), sha, out)
    assert damaged.read_bytes() == data


def test_a_file_is_located_as_its_path_would_name_it_however_the_inbox_is_spelled(
    tmp_path, monkeypatch
):
    """The hash cache is keyed by this location: `./in/` and `in` must give the same key."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.xlsx").write_bytes(b"x")
    monkeypatch.chdir(tmp_path)
    for inbox in ("in", "./in/", str(tmp_path / "in") + "//", Path("in")):
        cand = look(inbox)[0]["a.xlsx"]
        assert cand.location == str(Path(inbox) / "a.xlsx")
        assert cand.path == Path(inbox) / "a.xlsx" and cand.name == "a.xlsx"
    monkeypatch.chdir(tmp_path / "in")
    assert look(".")[0]["a.xlsx"].location == "a.xlsx"
