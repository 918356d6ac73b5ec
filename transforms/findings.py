"""The result model shared by every check: pre-flight, parsing, GX suites and pandas rules.

One `Finding` is one problem a lead can fix, located as Excel shows it. The same list feeds
the feedback workbook, `datasummary check`, the ledger counts and the data-quality annex.
`value` is the value found, shown to the submitter in their own feedback only: it may be
child-level, so it must never go to logs, Prefect parameters or artifacts.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pandas as pd

Severity = Literal["error", "warning"]

STATUS_ACCEPTED = "accepted"
STATUS_WARNINGS = "accepted with warnings"
STATUS_REJECTED = "rejected"
STATUS_SUPERSEDED = "superseded"
#: The statuses of a return that counts: its data is in the figures.
IN_FORCE = (STATUS_ACCEPTED, STATUS_WARNINGS)


@dataclass(frozen=True)
class Finding:
    """One problem in one workbook, in plain words, located by sheet and cell or row."""

    severity: Severity
    rule: str  # rule code from the catalogue, e.g. "V-COUNT"
    message: str  # plain words: what is wrong and what to do
    sheet: str | None = None  # sheet name as found in the workbook
    cell: str | None = None  # "B7" when one cell is at fault
    row: int | None = None  # Excel row number when a row is at fault
    column: str | None = None  # column name from the specification
    value: str | None = None  # value found (submitter feedback only; never logged)
    expected: str | None = None  # what was expected, in plain words

    def location(self) -> str:
        """'Cover!B3', 'LAC_Starts row 12' or 'workbook', as a person would read it."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        if self.sheet and self.row:
            return f"{self.sheet} row {self.row}"
        if self.sheet:
            return self.sheet
        return "workbook"


def status_for(findings: list[Finding]) -> str:
    """accepted / accepted with warnings / rejected, from the findings' severities."""
    if any(f.severity == "error" for f in findings):
        return STATUS_REJECTED
    if findings:
        return STATUS_WARNINGS
    return STATUS_ACCEPTED


@dataclass
class Cover:
    """The authoritative Cover sheet values (None where unreadable)."""

    submitter: str | None = None
    quarter_end: dt.date | None = None
    template_version: str | None = None
    completed_by: str | None = None
    email: str | None = None
    date_completed: dt.date | None = None


@dataclass
class ParsedReturn:
    """A workbook read per the specification: cover, typed sheet frames and findings.

    `sheets` maps the specification's sheet name to a frame with an `excel_row` column and the
    specification's columns, typed: counts and ints `Int64`, dates `datetime64[ns]`, codes in
    their canonical spelling, text `str` (missing as NA). Frames are only trustworthy when
    `status` is not rejected.
    """

    file_name: str
    cover: Cover = field(default_factory=Cover)
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    sheet_order: list[str] = field(default_factory=list)  # sheet titles in workbook order

    @property
    def status(self) -> str:
        """The submission status the findings give."""
        return status_for(self.findings)

    @property
    def errors(self) -> int:
        """Number of error findings."""
        return sum(f.severity == "error" for f in self.findings)

    @property
    def warnings(self) -> int:
        """Number of warning findings."""
        return sum(f.severity == "warning" for f in self.findings)
