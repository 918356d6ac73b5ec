"""Safe keeping before anything reads a workbook: a content-addressed, immutable archive.

`OUTPUT/archive/ab/cdef…/abcdef….xlsx`: the path is the SHA-256 of the content, so a copy is
written once, verified against its hash, made read-only, and never overwritten with other
bytes. The copy is what the checker reads; the lead's file stays untouched in the inbox.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

from transforms.intake.arrival import CHUNK, sha256_file

ARCHIVE_DIR = "archive"
READ_ONLY = 0o444


class ArchiveError(RuntimeError):
    """The copy could not be made or did not match the expected content."""


def archive_relpath(sha256: str) -> Path:
    """`archive/ab/cdef…/<sha256>.xlsx`, relative to the output folder."""
    return Path(ARCHIVE_DIR) / sha256[:2] / sha256[2:] / f"{sha256}.xlsx"


def fsync_dir(path: Path) -> None:
    """Make a rename or new entry in `path` durable (no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def archive_file(source: Path, sha256: str, output: Path, *, durable: bool = True) -> Path:
    """Copy `source` into the archive under its hash and return the archived path.

    The copy is streamed to a temporary file in the destination folder, hashed as it is
    written, fsynced, then renamed into place and made read-only. If the source no longer has
    the content `sha256` (it changed after it was hashed) ArchiveError is raised and nothing is
    left behind. An existing archived copy with the right hash is reused as it is.
    `durable=False` leaves the fsyncs to the caller, who archives many files and makes them
    durable together (`transforms.atomic.sync_to_disk`) before ledgering any of them.
    """
    final = Path(output) / archive_relpath(sha256)
    if final.exists() and sha256_file(final) == sha256:
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".incoming-", suffix=".tmp", dir=final.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            if durable:
                os.fsync(out.fileno())
        if digest.hexdigest() != sha256:
            raise ArchiveError("the file changed while it was being archived")
        if sha256_file(tmp) != sha256:
            raise ArchiveError("the archived copy does not match the file read")
        os.chmod(tmp, READ_ONLY)
        os.replace(tmp, final)
        if durable:
            fsync_dir(final.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise
    return final


def verified(path: Path, sha256: str) -> bool:
    """Whether an archived copy exists and still has the content its name says."""
    try:
        return sha256_file(path) == sha256
    except FileNotFoundError:
        return False
