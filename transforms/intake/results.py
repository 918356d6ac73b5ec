"""What an intake hands back and what passes between its steps, as typed records.

Nothing here carries a child-level value: a result is fit for a log line, the CLI and a
Prefect artifact.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from transforms.faults import OperatorError
from transforms.findings import (
    STATUS_ACCEPTED,
    STATUS_REJECTED,
    STATUS_SUPERSEDED,
    STATUS_WARNINGS,
    ParsedReturn,
)
from transforms.intake.arrival import Skipped
from transforms.store.ledger import LedgerRow


@dataclass(frozen=True)
class ProcessedSubmission:
    """One workbook checked in this intake (no child-level values: fit for an artifact)."""

    sha256: str
    original_name: str
    submitter: str | None
    quarter_end: dt.date | None
    status: str
    errors: int
    warnings: int
    late: bool
    revision: bool
    seq: int
    feedback: str | None = None  # feedback file name in INBOX/feedback/


@dataclass
class IntakeResult:
    """What one intake did: checked submissions, files left alone, and failures."""

    processed: list[ProcessedSubmission] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    failed: list[Skipped] = field(default_factory=list)
    unchanged: int = 0
    archived: int = 0
    feedback_rewritten: int = 0
    feedback_problem: str | None = None  # feedback/ unusable: the operator must put it right

    def passed_over(self) -> list[dict[str, str]]:
        """Every file left alone, not checked or answered as a copy, and why (for summaries).

        File names and reasons only: fit for the CLI and a Prefect artifact.
        """
        return [{"file": s.name, "reason": s.reason} for s in (*self.skipped, *self.failed)]

    def raise_for_operator(self) -> None:
        """Raise `OperatorError` when the run could not do all its work (feedback/ unusable)."""
        if self.feedback_problem:
            filed = len(self.processed)
            raise OperatorError(f"intake filed {filed} workbook(s) but {self.feedback_problem}")

    @property
    def counts(self) -> dict[str, int]:
        """Headline numbers for the run summary."""
        out = {
            "processed": len(self.processed),
            "archived": self.archived,
            "unchanged": self.unchanged,
            "skipped": len(self.skipped),
            "failed": len(self.failed),
            "feedback_rewritten": self.feedback_rewritten,
        }
        for status in (STATUS_ACCEPTED, STATUS_WARNINGS, STATUS_REJECTED, STATUS_SUPERSEDED):
            out[status] = sum(p.status == status for p in self.processed)
        out["late"] = sum(p.late for p in self.processed)
        out["revision"] = sum(p.revision for p in self.processed)
        return out


class PendingFile(NamedTuple):
    """A ledgered file waiting to be checked, as the ledger holds it."""

    sha256: str
    seq: int
    original_name: str
    archive_path: str
    first_seen_at: dt.datetime

    @classmethod
    def of(cls, row: LedgerRow) -> PendingFile:
        """The ledger row's fields this intake reads."""
        return cls(row.sha256, row.seq, row.original_name, row.archive_path, row.first_seen_at)


class Located(NamedTuple):
    """A pending file and its verified archived copy, ready to be checked."""

    file: PendingFile
    path: Path


class Checked(NamedTuple):
    """A pending file and what checking it gave, ready to be filed."""

    file: PendingFile
    parsed: ParsedReturn


class Unrecorded(NamedTuple):
    """Feedback written to disk whose place is not yet in the ledger."""

    sha256: str
    xlsx: Path
    written: list[Path]  # the workbook and, when written, its text twin
