"""What the Word and Excel reports are rendered from, as one plain value.

The report writers never query the store or compute a figure: the quarterly flow gathers
these frames (measures, returns, progress, milestones, data-quality findings) and hands them
over in a `ReportInputs`. The tests build one from literal figures
(`tests/report_examples.py`), so the renderers can be checked without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from transforms.measures.returns_status import RETURNS_COLUMNS
from transforms.measures.targets import CSV_COLUMNS
from transforms.spec import Spec, default_spec

#: The columns of the measures frame and of returns.csv, as their stages define them.
MEASURE_COLUMNS = CSV_COLUMNS
RETURN_COLUMNS = RETURNS_COLUMNS
EXPECTED_COLUMNS = ["code", "name", "kind", "status", "late", "received_at"]
PROGRESS_COLUMNS = ["submitter", "action_id", "status", "progress_update", "completion_date"]
MILESTONE_COLUMNS = ["milestone_id", "action", "due", "text", "status", "completion_date"]
# As transforms.measures.targets.milestone_results gives them: result is met / not met / no data /
# not yet due.
MILESTONE_RESULT_COLUMNS = ["measure_id", "milestone_date", "target", "value", "result"]
WARNING_COLUMNS = ["submitter", "file", "sheet", "location", "rule", "message", "note"]
MISMATCH_COLUMNS = ["quarter_end", "child_ref", "found_in", "missing_from"]
REVISION_COLUMNS = [
    "measure_id",
    "quarter_end",
    "breakdown",
    "old_value",
    "new_value",
    "issued_version",
]


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})


@dataclass(frozen=True)
class ReportInputs:
    """Everything one quarter's documents show; see docs/contract/outputs.md.

    For the public pack (`public=True`) the caller passes `measures` already
    disclosure-controlled: suppressed cells hold `spec.measures.disclosure.symbol`.
    """

    quarter_end: dt.date
    measures: pd.DataFrame
    public: bool = False
    returns: pd.DataFrame = field(default_factory=lambda: _empty(RETURN_COLUMNS))
    expected: pd.DataFrame = field(default_factory=lambda: _empty(EXPECTED_COLUMNS))
    progress: pd.DataFrame = field(default_factory=lambda: _empty(PROGRESS_COLUMNS))
    milestones: pd.DataFrame = field(default_factory=lambda: _empty(MILESTONE_COLUMNS))
    milestone_results: pd.DataFrame = field(
        default_factory=lambda: _empty(MILESTONE_RESULT_COLUMNS)
    )
    warnings: pd.DataFrame = field(default_factory=lambda: _empty(WARNING_COLUMNS))
    mismatches: pd.DataFrame = field(default_factory=lambda: _empty(MISMATCH_COLUMNS))
    revisions: pd.DataFrame = field(default_factory=lambda: _empty(REVISION_COLUMNS))
    version: str = "1"
    generated_on: dt.date | None = None
    spec: Spec = field(default_factory=default_spec)
    #: Set once the report is issued: the cover then shows the approval instead of DRAFT.
    approved_on: dt.date | None = None
    approved_by: str | None = None

    @property
    def generated(self) -> dt.date:
        """The 'data as at' date: the latest receipt (the quarter end if not given)."""
        return self.generated_on or self.quarter_end

    @property
    def symbol(self) -> str:
        """The disclosure-control symbol (`c`)."""
        return self.spec.measures.disclosure.symbol
