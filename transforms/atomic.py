"""Atomic, reproducible file writes.

A report is read by people while the next run writes it: a crash or a failed render half-way
through must leave the previous document intact. Every writer here works on a temporary file
in the destination folder (same file system, so `os.replace` is atomic), flushes and fsyncs
it, then swaps it in. Office files are zips whose entries carry the wall-clock time; the
`reproducible_zip` helper rewrites them with a fixed timestamp so that the same data gives
the same bytes.
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_PENDING: set[Path] = set()  # temporary files of the atomic writes under way


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(
    path: Path, write: Callable[[Path], object], suffix: str = ".tmp", *, durable: bool = True
) -> Path:
    """Call `write(tmp)` on a temporary path beside `path`, then move it into place.

    If `write` raises, the temporary file is removed and `path` is left as it was. `suffix`
    is the temporary file's ending, for writers that insist on one (openpyxl: `.xlsx`).
    `durable=False` skips the fsyncs (the swap is still atomic for a crashed process): for a
    caller writing many files that makes them durable together with `sync_to_disk`.

    A writer that is itself atomic may be handed the temporary file of an enclosing
    `atomic_write` (intake wraps `write_feedback_workbook`): it then writes straight to
    that file, and the enclosing call alone fsyncs and swaps it in — one per file.
    """
    path = Path(path)
    if path in _PENDING:
        write(path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    _PENDING.add(tmp)
    try:
        write(tmp)
        if durable:
            with tmp.open("rb+") as fh:
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        _PENDING.discard(tmp)
    if durable:
        _fsync_dir(path.parent)
    return path


def sync_to_disk(paths: list[Path]) -> None:
    """Make files written with `durable=False` (and their renames) durable, in one go.

    One `sync()` flushes them all with a single journal commit, where an fsync per file and
    per folder would each wait for one; without `os.sync` each file and folder is fsynced.
    """
    if not paths:
        return
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:  # pragma: no cover - platforms without sync()
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    for folder in {Path(p).parent for p in paths}:  # pragma: no cover
        _fsync_dir(folder)


def atomic_write_bytes(path: Path, data: bytes) -> Path:
    """Write `data` to `path` atomically."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(data))


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> Path:
    """Write `text` to `path` atomically (newlines written as given)."""
    return atomic_write(path, lambda tmp: tmp.write_bytes(text.encode(encoding)))


def reproducible_zip(data: bytes) -> bytes:
    """The same zip with entries in the same order, each stamped with a fixed time."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(data)) as src,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst,
    ):
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=FIXED_ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
