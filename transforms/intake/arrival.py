"""Which inbox files are ready to be filed (returns.md §3, first bullets).

A shared folder holds files still being copied, Office lock files and the same workbook
dropped twice. Only the top level is read (feedback lives in `feedback/`); lock, temporary and
hidden files are ignored without being listed; a file is taken only when its size and
modification time are the same at two looks `stable_wait` seconds apart. Identity is the
SHA-256 of the content, so a renamed or touched copy is the same workbook and a changed file
with the same name is a new one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import stat
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

LOCK_AND_TEMP_PATTERNS = ("~$*", ".~lock*#", "*.tmp")
IGNORED_PATTERNS = (*LOCK_AND_TEMP_PATTERNS, ".*")
CHUNK = 1 << 20


@dataclass(frozen=True)
class Candidate:
    """A top-level inbox file as seen at one look.

    Held as the strings the directory listing gave (`location`, `name`): a look at a large
    inbox of known files makes no `Path` objects, which cost more than the look itself.
    """

    location: str  # the path, as a string
    name: str  # the file name as the lead gave it
    size: int
    mtime_ns: int

    @property
    def path(self) -> Path:
        """The file's path."""
        return Path(self.location)

    @property
    def mtime(self) -> float:
        """Modification time in seconds since the epoch."""
        return self.mtime_ns / 1e9


@dataclass(frozen=True)
class Skipped:
    """A file left in the inbox this time, and why (no child-level values)."""

    name: str
    reason: str


_IGNORED = re.compile("|".join(fnmatch.translate(p) for p in IGNORED_PATTERNS))
_LOCK_OR_TEMP = re.compile("|".join(fnmatch.translate(p) for p in LOCK_AND_TEMP_PATTERNS))
HIDDEN = "a hidden file (its name starts with a dot): not read"
FOLDER = "a folder: intake reads only files at the top of the inbox"
NOT_REGULAR = "not a regular file (link or device)"


def is_ignored(name: str) -> bool:
    """Office lock files, temporary files and hidden files are not returns."""
    return _IGNORED.match(name.lower()) is not None


def is_lock_or_temp(name: str) -> bool:
    """Office lock files and temporary files: passed over without a word (returns.md §3)."""
    return _LOCK_OR_TEMP.match(name.lower()) is not None


def look(inbox: Path) -> tuple[dict[str, Candidate], list[Skipped]]:
    """One look at the inbox's top level: regular files by name, plus what is passed over.

    Lock and temporary files and `feedback/` itself are passed over silently; everything else
    that is not read — hidden files, other folders, links, pipes, devices — is listed as
    skipped with the reason, because a lead may wonder where it went (returns.md §3).
    """
    found: dict[str, Candidate] = {}
    skipped: list[Skipped] = []
    folder = str(Path(inbox))  # each file's location is str(Path(inbox) / name), as before
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_lock_or_temp(entry.name):
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue  # removed between listing and stat
            if stat.S_ISDIR(st.st_mode):
                if entry.name != "feedback":
                    skipped.append(Skipped(entry.name, FOLDER))
                continue
            if entry.name == "feedback":
                continue  # a feedback/ that is not a folder: filing reports it to the operator
            if not stat.S_ISREG(st.st_mode):
                skipped.append(Skipped(entry.name, _kind(st.st_mode)))
                continue
            if is_ignored(entry.name):
                skipped.append(Skipped(entry.name, HIDDEN))
                continue
            location = entry.name if folder == "." else entry.path
            found[entry.name] = Candidate(location, entry.name, st.st_size, st.st_mtime_ns)
    return found, skipped


def _kind(mode: int) -> str:
    """Why a non-regular file is not read, in plain words."""
    if stat.S_ISLNK(mode):
        return "a link (shortcut), not the file itself: put the file in the inbox"
    if stat.S_ISFIFO(mode):
        return "a pipe, not a file"
    return NOT_REGULAR


def stable_files(
    inbox: Path,
    stable_wait: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    known: Callable[[Candidate], bool] | None = None,
) -> tuple[list[Candidate], list[Skipped]]:
    """Files whose size and mtime did not change across two looks, in intake order.

    Intake order is file modification time, then file name (returns.md §5). Files that
    changed, appeared or vanished between the looks are left for the next intake.
    `known(c)` says a file was seen complete before with this size and mtime: when every
    file is known there is nothing that could still be arriving, so there is no wait.
    """
    first, skipped = look(inbox)
    if known is not None and all(known(c) for c in first.values()):
        return ordered(first.values()), skipped  # no wait, so a second look adds nothing
    if first:
        sleep(stable_wait)
    second, _ = look(inbox)
    ready: list[Candidate] = []
    for name, cand in first.items():
        again = second.get(name)
        if again is None:
            continue
        if (again.size, again.mtime_ns) != (cand.size, cand.mtime_ns):
            skipped.append(Skipped(name, "still being written; left for the next intake"))
            continue
        ready.append(again)
    for name in second.keys() - first.keys():
        skipped.append(Skipped(name, "arrived during this intake; left for the next one"))
    return ordered(ready), skipped


def ordered(cands: Iterable[Candidate]) -> list[Candidate]:
    """Intake order: modification time, then file name."""
    return sorted(cands, key=lambda c: (c.mtime_ns, c.name))


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's content, streamed (workbooks can be large)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def unchanged_since(cand: Candidate) -> bool:
    """Whether the file still has the size and mtime it had at the stable look."""
    try:
        st = os.stat(cand.location, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (st.st_size, st.st_mtime_ns) == (cand.size, cand.mtime_ns)
