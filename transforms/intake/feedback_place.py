"""Where a lead's feedback goes: a name of its own, and only inside the inbox's `feedback/`.

Every file dropped in the inbox is answered under its whole original name (`dup.XLSX` gets
`dup.XLSX.feedback.xlsx`, so `dup.xlsx` and `same.xlsm` no longer share one), shortened with
a hash of the whole name when it would pass the file system's name limit (returns.md §3).
The inbox is a shared folder anyone can write to, so `feedback/` is checked before every
write: it must be a real folder, not a file or a link, directly inside the inbox.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

FEEDBACK_DIR = "feedback"
FEEDBACK_SUFFIXES = (".feedback.xlsx", ".feedback.txt")
# 255 bytes is the usual limit; a writer's temporary file adds ".<name>.XXXXXXXX.xlsx".
MAX_NAME_BYTES = 200
HASH_CHARS = 12


def feedback_stem(original_name: str) -> str:
    """The whole original name, or its start plus a hash of all of it when too long."""
    name = os.path.basename(original_name) or "file"
    longest = MAX_NAME_BYTES - max(len(s) for s in FEEDBACK_SUFFIXES)
    encoded = os.fsencode(name)
    if len(encoded) <= longest:
        return name
    digest = hashlib.sha256(encoded).hexdigest()[:HASH_CHARS]
    start = encoded[: longest - HASH_CHARS - 1].decode("utf-8", "ignore")
    return f"{start}~{digest}"


def feedback_paths(inbox: Path, original_name: str) -> tuple[Path, Path]:
    """`INBOX/feedback/<whole name>.feedback.xlsx` and `.txt`."""
    folder = Path(inbox) / FEEDBACK_DIR
    stem = feedback_stem(original_name)
    return folder / f"{stem}{FEEDBACK_SUFFIXES[0]}", folder / f"{stem}{FEEDBACK_SUFFIXES[1]}"


def feedback_folder_problem(inbox: Path, *, make: bool = True) -> str | None:
    """Why feedback cannot be written into `INBOX/feedback/` now, or None when it can.

    A missing folder is made (when `make`); a file or a link in its place is a problem for
    the operator, never followed: a link could send files named by a stranger anywhere.
    """
    inbox = Path(inbox)
    folder = inbox / FEEDBACK_DIR
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        if not make:
            return None
        try:
            folder.mkdir()
            st = os.lstat(folder)
        except OSError as exc:
            return f"the feedback folder {folder} could not be made ({exc.strerror})"
    except OSError as exc:
        return f"the feedback folder {folder} could not be checked ({exc.strerror})"
    fix = "replace it with a folder; the missing feedback is written by the next intake"
    if stat.S_ISLNK(st.st_mode):
        return f"{folder} is a link, not a folder, so no feedback was written: {fix}"
    if not stat.S_ISDIR(st.st_mode):
        return f"{folder} is a file, not a folder, so no feedback was written: {fix}"
    if folder.resolve().parent != inbox.resolve():
        return f"{folder} is not inside the inbox, so no feedback was written: {fix}"
    return None


def inside_feedback(inbox: Path, path: Path) -> bool:
    """Whether `path` is a direct child of the inbox's own `feedback/` folder."""
    folder = (Path(inbox) / FEEDBACK_DIR).resolve()
    return Path(path).parent.resolve() == folder and folder.parent == Path(inbox).resolve()
