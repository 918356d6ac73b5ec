"""Filing returns safely: the entry points `run_intake` and `run_intakes`.

The order of work is what makes a run safe to kill at any point and re-run:

1. every stable new file is copied into the content-addressed archive and ledgered
   (`receiving`; nothing is parsed before the copy is safe);
2. every ledgered file without a submission row — new now, or left by an interrupted run —
   is checked from its archived copy (`checking`, in batches; one file is a batch of one),
   its status decided (`decision`) and its status, findings and accepted rows written in
   one transaction per group (`ledgering`), so a crash leaves each file wholly filed or
   still pending;
3. feedback is written next to the lead's file (`answers`); a submission whose feedback
   was never written gets it on the next run.

Plain Python: the Prefect flow wraps `run_intake`. Nothing here logs child-level values.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from transforms.gc_pacing import fewer_collections
from transforms.intake.answers import answer_copies, catch_up_feedback, record_feedback
from transforms.intake.arrival import stable_files
from transforms.intake.checking import BATCH_SIZE, ReadingAhead, check_pending
from transforms.intake.decision import copy_line, status_line
from transforms.intake.feedback_place import FEEDBACK_DIR, feedback_paths
from transforms.intake.intake_run import (
    CRASH_ENV,
    Checker,
    FeedbackText,
    FeedbackWriter,
    IntakeRun,
)
from transforms.intake.ledgering import FILING_GROUP
from transforms.intake.prior import BatchPriorData, PriorData, store_prior_data
from transforms.intake.receiving import arrive
from transforms.intake.results import IntakeResult, ProcessedSubmission
from transforms.progress import Progress, no_progress
from transforms.store import ledger
from transforms.store.db import create_all

if TYPE_CHECKING:
    from transforms.spec import Spec

__all__ = [
    "BATCH_SIZE",
    "CRASH_ENV",
    "FEEDBACK_DIR",
    "FILING_GROUP",
    "BatchPriorData",
    "Checker",
    "FeedbackText",
    "FeedbackWriter",
    "IntakeFolder",
    "IntakeResult",
    "PriorData",
    "ProcessedSubmission",
    "copy_line",
    "feedback_paths",
    "run_intake",
    "run_intakes",
    "status_line",
    "store_prior_data",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IntakeFolder:
    """One partnership's intake: its inbox, its output folder and its store."""

    inbox: Path
    output: Path
    engine: sa.Engine


def run_intake(
    inbox: Path,
    output: Path,
    engine: sa.Engine,
    *,
    spec: Spec | None = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    checker: Checker | None = None,
    feedback_writer: FeedbackWriter | None = None,
    feedback_text: FeedbackText | None = None,
    sleep: Callable[[float], None] = time.sleep,
    batch_size: int = BATCH_SIZE,
    progress: Progress = no_progress,
) -> IntakeResult:
    """File every new or changed workbook in `inbox` and write feedback; safe to re-run.

    `checker` (a whole-file checker, as `transforms.intake.validate.check_workbook`) defaults
    to the specification's checks: pending files are checked `batch_size` at a time, one GX
    run per sheet type per batch (`transforms.intake.checking`). `feedback_writer` defaults
    to `transforms.intake.feedback.write_feedback_workbook` and `feedback_text` to
    `transforms.intake.feedback.feedback_text` (pass `feedback_writer` alone for no `.txt`).
    `now` fixes the clock (first seen, late, processed times).
    `progress(stage, done, total)` is told of each stage and workbook (`transforms.progress`).
    """
    return run_intakes(
        [IntakeFolder(Path(inbox), Path(output), engine)],
        spec=spec,
        now=now,
        stable_wait=stable_wait,
        checker=checker,
        feedback_writer=feedback_writer,
        feedback_text=feedback_text,
        sleep=sleep,
        batch_size=batch_size,
        progress=progress,
    )[0]


@fewer_collections()
def run_intakes(
    folders: list[IntakeFolder],
    *,
    spec: Spec | None = None,
    now: dt.datetime | None = None,
    stable_wait: float = 2.0,
    checker: Checker | None = None,
    feedback_writer: FeedbackWriter | None = None,
    feedback_text: FeedbackText | None = None,
    sleep: Callable[[float], None] = time.sleep,
    batch_size: int = BATCH_SIZE,
    progress: Progress = no_progress,
) -> list[IntakeResult]:
    """`run_intake` for many partnerships in one process; one result per folder, in order.

    Each folder keeps its own archive, ledger, store and feedback, and every file is filed
    exactly as `run_intake` would file it. What is shared is the checking that does not
    depend on a store: pending files of all folders are pre-flighted, parsed and put through
    the GX suites `batch_size` at a time, so a national collection pays for one GX run per
    sheet type per batch rather than per folder. The store-dependent rules and the filing
    then run folder by folder, in intake order. New files are read (sandboxed) from when
    they are archived (`checking.ReadingAhead`). The collector runs less often meanwhile
    (`transforms.gc_pacing`): a batch's parsed workbooks are kept until filed.
    """
    runs = []
    with ReadingAhead(checker, spec, max(batch_size, 1)) as ahead:
        for n, folder in enumerate(folders):
            progress("looking for new workbooks", n, len(folders) if len(folders) > 1 else None)
            create_all(folder.engine, sheets=False)  # the sheets' tables: when there is work
            run = IntakeRun(
                folder.inbox,
                folder.output,
                folder.engine,
                spec=spec,
                now=now,
                checker=checker,
                feedback_writer=feedback_writer,
                feedback_text=feedback_text,
            )
            run.progress = progress
            run.feedback_usable()  # made if missing; a file or link there is reported
            ready, skipped = stable_files(folder.inbox, stable_wait, sleep, known=run.known)
            run.result.skipped.extend(skipped)
            arrive(run, ready, offer=functools.partial(ahead.offer, run.today))
            catch_up_feedback(run)
            runs.append(run)
        check_pending(runs, max(batch_size, 1), progress, ahead)
    for run in runs:
        record_feedback(run)  # feedback of files rejected outside a batch (could not check)
        answer_copies(run)
        final_statuses(run)
        log.info("intake: %s", run.result.counts)
    return [run.result for run in runs]


def final_statuses(run: IntakeRun) -> None:
    """Each processed workbook's status as it ends the run (a later file may supersede it)."""
    if not run.result.processed:
        return
    shas = [p.sha256 for p in run.result.processed]
    subs = ledger.submissions
    with run.engine.connect() as conn:
        rows = conn.execute(sa.select(subs.c.sha256, subs.c.status).where(subs.c.sha256.in_(shas)))
        current: dict[str, str] = {sha: status for sha, status in rows}
    run.result.processed = [
        dataclasses.replace(p, status=current.get(p.sha256, p.status)) for p in run.result.processed
    ]
