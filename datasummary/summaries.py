"""What a command says when it is done: totals, where things are, what to do next.

Plain text for stdout, built from what the run did (intake) or wrote (the quarter's
documents, read back from disk and the store), so the summary is what the analyst will find.
File names and submitter codes only: no child-level values.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Intake statuses, in the order the totals are shown.
INTAKE_TOTALS = (
    "accepted",
    "accepted with warnings",
    "rejected",
    "superseded",
    "unchanged",
    "passed over",
)
RAG_ORDER = ("Green", "Amber", "Red", "Not rated")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def intake_totals(result: Any) -> dict[str, int]:
    """Workbooks by status: this intake's statuses, files unchanged, files passed over."""
    counts = {s: sum(p.status == s for p in result.processed) for s in INTAKE_TOTALS[:4]}
    counts["unchanged"] = result.unchanged
    counts["passed over"] = len(result.skipped)
    return counts


def intake_lines(result: Any, inbox: Path, *, every_file: bool = False) -> list[str]:
    """The intake summary: headline, totals by status, feedback folder, rejected by name."""
    totals = intake_totals(result)
    lines = [f"{len(result.processed)} workbook(s) filed from {inbox}"]
    if every_file:
        lines += [
            f"  {p.original_name}: {p.status} ({_plural(p.errors, 'error')}, "
            f"{_plural(p.warnings, 'warning')})"
            for p in result.processed
        ]
    width = max(len(k) for k in INTAKE_TOTALS)
    lines += [f"  {k:<{width}}  {v}" for k, v in totals.items()]
    if result.failed:
        lines.append(f"  {'not checked':<{width}}  {len(result.failed)}")
    lines.append(f"Feedback for each workbook: {Path(inbox) / 'feedback'}")
    rejected = [p for p in result.processed if p.status == "rejected"]
    if rejected:
        lines.append("Rejected (read the feedback, correct the workbook and drop it in again):")
        lines += [
            f"  {p.original_name}" + (f" -> feedback/{p.feedback}" if p.feedback else "")
            for p in rejected
        ]
    if result.failed:
        lines.append("Not checked (left for the next intake; tell the BIU if this repeats):")
        lines += [f"  {s.name}: {s.reason}" for s in result.failed]
    if result.skipped:
        lines.append("Passed over:")
        lines += [f"  {s.name}: {s.reason}" for s in result.skipped]
    return lines


def intake_exit_code(result: Any) -> int:
    """1 when a workbook was rejected or could not be checked (someone must act), else 0."""
    return 1 if result.failed or any(p.status == "rejected" for p in result.processed) else 0


@dataclass(frozen=True)
class RunSummary:
    """What a quarterly run produced, read back from its documents and the store."""

    quarter_end: dt.date
    version: str | None
    expected: int
    received: int
    late: int
    missing: list[str]
    rejected: list[str]
    rag: dict[str, int]
    paths: dict[str, Path]
    approved: bool

    @property
    def exit_code(self) -> int:
        """1 when a return for the quarter stands rejected (a lead must resubmit), else 0."""
        return 1 if self.rejected else 0

    def lines(self) -> list[str]:
        from transforms.quarters import quarter_label

        state = "issued" if self.approved else "draft (not approved)"
        lines = [
            f"Data Summary for {quarter_label(self.quarter_end)}, quarter end "
            f"{self.quarter_end.isoformat()}: version {self.version or 'unknown'}, {state}",
            f"Returns: {self.received} received of {self.expected} expected "
            f"({self.late} late, {len(self.missing)} missing, {len(self.rejected)} rejected)",
            "RAG: " + rag_text(self.rag),
        ]
        if self.rejected:
            lines.append(
                "Rejected (the lead must correct and resubmit): " + ", ".join(self.rejected)
            )
        if self.missing:
            lines.append("Missing: " + ", ".join(self.missing))
        lines.append("Documents:")
        lines += [f"  {p}" for p in self.paths.values()]
        return lines


def rag_text(rag: dict[str, int]) -> str:
    """'2 Green, 0 Amber, 1 Red; 21 without a target' (headline measures of the quarter)."""
    rated = ", ".join(f"{rag.get(k, 0)} {k}" for k in RAG_ORDER if k in rag or k != "Not rated")
    untargeted = rag.get("", 0)
    return rated + (f"; {untargeted} without a target" if untargeted else "")


def rag_counts(measures_csv: Path, quarter_end: dt.date) -> dict[str, int]:
    """RAG of the quarter's headline measures (breakdown 'all'); '' counts those untargeted."""
    import csv

    counts: dict[str, int] = {}
    with open(measures_csv, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["breakdown"] == "all" and row["quarter_end"] == quarter_end.isoformat():
                counts[row["rag"]] = counts.get(row["rag"], 0) + 1
    return counts


def document_version(docx: Path) -> str | None:
    """The version the Word report carries (its core property `identifier`)."""
    try:
        with zipfile.ZipFile(docx) as z:
            core = z.read("docProps/core.xml").decode("utf-8")
    except (OSError, KeyError, zipfile.BadZipFile):
        return None
    found = re.search(r"<dc:identifier>([^<]*)</dc:identifier>", core)
    return found.group(1) if found else None


def run_summary(
    quarter_end: dt.date, paths: dict[str, Path], expected: Any, approved: bool
) -> RunSummary:
    """The summary of a quarterly run from its paths and the expected-returns frame."""
    status = expected["status"]
    return RunSummary(
        quarter_end=quarter_end,
        version=document_version(Path(paths["docx"])) if "docx" in paths else None,
        expected=len(expected),
        received=int((status != "missing").sum()),
        late=int(expected["late"].astype(bool).sum()),
        missing=expected.loc[status == "missing", "code"].tolist(),
        rejected=expected.loc[status == "rejected", "code"].tolist(),
        rag=rag_counts(Path(paths["measures_csv"]), quarter_end),
        paths=paths,
        approved=approved,
    )


def expected_returns_now(database_url: str, quarter_end: dt.date) -> Any:
    """One row per expected submitter for the quarter, as the store stands now."""
    from transforms.measures.returns_status import expected_returns
    from transforms.spec import default_spec
    from transforms.store.db import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return expected_returns(conn, quarter_end, dt.datetime.now(dt.UTC), default_spec())
    finally:
        engine.dispose()
