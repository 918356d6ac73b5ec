"""Receiving files: hash each ready inbox file, keep new content in the archive, ledger it.

Nothing is ledgered before its archived copy is on disk; one sync for all the copies of a
run replaces an fsync per file and per folder. A byte-identical copy under another name is
not filed again (`answers.answer_copies` tells its lead), except bytes rejected for their
name alone, which are checked afresh under a `.xlsx` name.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import sqlalchemy as sa

from transforms import atomic
from transforms.intake.archive import ArchiveError, archive_file, archive_relpath
from transforms.intake.arrival import Candidate, Skipped, sha256_file, unchanged_since
from transforms.intake.intake_run import IntakeRun, crash_point
from transforms.store import ledger

log = logging.getLogger(__name__)


class HashEntry(NamedTuple):
    """A file hashed afresh this run, for the hash cache."""

    path: str
    size: int
    mtime_ns: int
    sha256: str


class Kept(NamedTuple):
    """New content safely archived (not yet synced), waiting to be ledgered."""

    cand: Candidate
    sha256: str
    path: Path


@dataclass(frozen=True)
class FileRow:
    """The ledger's row for a received file (`ledger.files`)."""

    sha256: str
    size: int
    original_name: str
    first_seen_at: dt.datetime
    mtime: float  # seconds since the epoch
    archive_path: str
    inbox: str


def arrive(
    run: IntakeRun, ready: list[Candidate], offer: Callable[[Path, str], None] | None = None
) -> None:
    """Archive every new file, make the copies durable together, then ledger each.

    `offer` is told of each archived copy as it is made (its reading may start there).
    """
    with run.engine.connect() as conn:
        state = ledger.ledger_state(conn)
    states = dict(state.checked)
    run.names = state.names
    run.may_lack_feedback = state.without_feedback > 0
    run.may_have_pending = state.unchecked
    seen_at = run.now()  # one "first seen" time per intake
    fresh: list[HashEntry] = []
    try:
        new = [
            (cand, sha)
            for cand in ready
            if (sha := sha_of(run, cand, fresh)) is not None and is_new(run, cand, sha, states)
        ]
        kept = [
            Kept(cand, sha, path)
            for cand, sha in new
            if (path := archived(run, cand, sha, states, offer)) is not None
        ]
        atomic.sync_to_disk([k.path for k in kept])
        run.may_have_pending = run.may_have_pending or bool(kept)
        crash_point("after_archive")
        ledger_arrivals(run, kept, seen_at)
    finally:
        if fresh:  # a re-run with nothing new opens no transaction
            with run.engine.begin() as conn:
                ledger.remember_hashes(conn, [e._asdict() for e in fresh])


def sha_of(run: IntakeRun, cand: Candidate, fresh: list[HashEntry]) -> str | None:
    """The file's SHA-256: cached when path, size and mtime are unchanged, else read."""
    if run.known(cand):
        return run.hashes[cand.location][2]
    try:
        sha = sha256_file(cand.path)
    except OSError as exc:
        run.result.skipped.append(Skipped(cand.name, f"could not be read ({exc.strerror})"))
        return None
    if not unchanged_since(cand):
        run.result.skipped.append(
            Skipped(cand.name, "changed while being read; left for the next intake")
        )
        return None
    fresh.append(HashEntry(cand.location, cand.size, cand.mtime_ns, sha))
    return sha


def is_new(run: IntakeRun, cand: Candidate, sha: str, states: dict[str, bool]) -> bool:
    """Whether a hashed file is new content to keep (not a duplicate, not known).

    A copy under another name is answered (`answers.answer_copies`), except that bytes
    rejected for their name alone are checked afresh under a `.xlsx` name (`recheck_for_name`).
    """
    if sha in run.sources and not states.get(sha, False):
        run.result.skipped.append(
            Skipped(cand.name, f"same content as {run.sources[sha].name}; filed once")
        )
        run.copies.append((cand, sha))
        return False
    run.sources.setdefault(sha, cand)
    if sha in states:  # ledgered before: filed (unchanged) or waiting to be checked
        known_as = run.names.get(sha)
        if known_as is not None and known_as != cand.name:
            if recheck_for_name(run, cand, sha, known_as, states):
                return False
            run.copies.append((cand, sha))
        run.result.unchanged += states[sha]
        return False
    states[sha] = False
    return True


def recheck_for_name(
    run: IntakeRun, cand: Candidate, sha: str, known_as: str, states: dict[str, bool]
) -> bool:
    """Check afresh bytes rejected for their name alone, now sent under a `.xlsx` name.

    The rejection belonged to the name (returns.md §3): its submission and findings are
    removed (the events keep the history) and the file is ledgered again under the new
    name, as received now, so it is checked by this intake like any new file.
    """
    if not (states.get(sha) and cand.name.lower().endswith(".xlsx")):
        return False
    if known_as.lower().endswith(".xlsx"):
        return False
    found = ledger.findings
    with run.engine.begin() as conn:
        named = conn.execute(
            sa.select(sa.func.count()).where(found.c.sha256 == sha, found.c.rule == "P-EXTENSION")
        ).scalar()
        if not named:
            return False
        conn.execute(found.delete().where(found.c.sha256 == sha))
        conn.execute(ledger.submissions.delete().where(ledger.submissions.c.sha256 == sha))
        conn.execute(
            ledger.files.update()
            .where(ledger.files.c.sha256 == sha)
            .values(original_name=cand.name, seq=ledger.next_seq(conn), first_seen_at=run.now())
        )
        ledger.record_event(
            conn,
            sha,
            "renamed",
            run.now(),
            f"sent again as {cand.name}; checked afresh (rejected for its name as {known_as})",
        )
    run.names[sha] = cand.name
    states[sha] = False
    run.may_have_pending = True
    return True


def archived(
    run: IntakeRun,
    cand: Candidate,
    sha: str,
    states: dict[str, bool],
    offer: Callable[[Path, str], None] | None = None,
) -> Path | None:
    """The archived copy (not yet synced; offered); None, and the file left, if it failed."""
    try:
        path = archive_file(cand.path, sha, run.output, durable=False)
    except (ArchiveError, OSError) as exc:
        reason = str(exc) if isinstance(exc, ArchiveError) else "could not be archived"
        run.result.skipped.append(Skipped(cand.name, f"{reason}; left for the next intake"))
        log.warning("intake: %s not archived: %s", sha[:12], type(exc).__name__)
        del run.sources[sha]
        del states[sha]
        return None
    run.copied.add(sha)
    if offer is not None:
        offer(path, cand.name)
    return path


def ledger_arrivals(run: IntakeRun, kept: list[Kept], seen_at: dt.datetime) -> None:
    """Ledger archived files in one transaction, in the order given (their `seq`).

    If another intake ledgered one of them first, each is ledgered on its own instead.
    """
    if not kept:
        return
    try:
        _ledger_files(run, kept, seen_at)
    except sa.exc.IntegrityError:
        for one in kept:
            try:
                _ledger_files(run, [one], seen_at)
            except sa.exc.IntegrityError:  # another intake ledgered it first
                continue
        return


def _ledger_files(run: IntakeRun, kept: list[Kept], seen_at: dt.datetime) -> None:
    """Ledger `kept` (files and arrival events) in one transaction, then count and log them."""
    with run.engine.begin() as conn:
        ledger.record_files(conn, [ledger.row_of(file_row(run, k, seen_at)) for k in kept])
        ledger.record_events(conn, [arrival_event(run, k) for k in kept])
    run.result.archived += len(kept)
    for k in kept:
        log.info("intake: archived %s (%d bytes)", k.sha256[:12], k.cand.size)


def file_row(run: IntakeRun, kept: Kept, seen_at: dt.datetime) -> FileRow:
    """The ledger row of a kept file, first seen at `seen_at`."""
    cand = kept.cand
    return FileRow(
        sha256=kept.sha256,
        size=cand.size,
        original_name=cand.name,
        first_seen_at=seen_at,
        mtime=cand.mtime,
        archive_path=archive_relpath(kept.sha256).as_posix(),
        inbox=str(run.inbox),
    )


def arrival_event(run: IntakeRun, kept: Kept) -> dict[str, object]:
    """The "archived" event of a kept file (`ledger.event_row`, the ledger's own row type)."""
    detail = f"{kept.cand.size} bytes, first seen as {kept.cand.name}"
    return ledger.event_row(kept.sha256, "archived", run.now(), detail)
