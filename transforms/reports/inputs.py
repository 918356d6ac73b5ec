"""What the Word and Excel reports are rendered from, as one plain value.

The report writers never query the store or compute a figure: the quarterly flow gathers
these frames (measures, returns, progress, milestones, data-quality findings) and hands them
over in a `ReportInputs`. Tests and smoke runs build one from literal frames
(`example_inputs()`), so the renderers can be checked without a database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import pandas as pd

from transforms.quarters import shift_quarters
from transforms.spec import Spec, default_spec

MEASURE_COLUMNS = [
    "measure_id",
    "quarter_end",
    "breakdown",
    "numerator",
    "denominator",
    "value",
    "unit",
    "target",
    "trajectory",
    "rag",
    "trend",
    "trend_year",
    "signal",
    "excluded",
    "pending",
    "reason",
]
RETURN_COLUMNS = [
    "file",
    "sha256",
    "submitter",
    "quarter_end",
    "status",
    "errors",
    "warnings",
    "late",
    "revision",
    "received_at",
]
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


# ------------------------------------------------------------------ example (tests, smoke)
QE = dt.date(2020, 9, 30)
_QUARTERS = [shift_quarters(QE, -k) for k in range(7, -1, -1)]  # 2018-12-31 .. 2020-09-30

# (numerator, denominator) per quarter, oldest first
_SERIES: dict[str, list[tuple[int | None, int | None]]] = {
    "H01": [(12, 40), (13, 41), (15, 44), (14, 38), (19, 43), (20, 42), (22, 44), (25, 40)],
    "S01": [(60, 80), (61, 80), (63, 80), (66, 82), (70, 84), (73, 85), (76, 86), (78, 86)],
    "M01": [
        (102, 120),
        (99, 118),
        (104, 121),
        (108, 124),
        (101, 119),
        (106, 122),
        (110, 126),
        (109, 125),
    ],
    "C04": [(5, 38), (6, 40), (5, 44), (7, 39), (5, 45), (6, 42), (5, 40), (3, 41)],
    "Q01": [(None, None)] * 4 + [(6, 12), (7, 12), (8, 13), (9, 12)],
}
_COUNTS: dict[str, list[float | None]] = {
    "L01": [548, 551, 560, 566, 571, 569, 565, 562],
    "H03": [41.0, 39.5, 38.0, 36.0, 33.0, 31.5, 30.0, 24.5],
    "G01": [6.8, 6.4, 6.9, 6.1, 5.6, 5.9, 5.2, 4.8],
}
_UNITS = {
    "H01": "percent",
    "S01": "percent",
    "M01": "percent",
    "C04": "percent",
    "Q01": "percent",
    "L01": "count",
    "H03": "days",
    "G01": "pp",
}
_L01_BREAKDOWN = {
    "AT_HOME": 140,
    "KINSHIP": 120,
    "FOSTER_LA": 150,
    "FOSTER_PURCHASED": 80,
    "RES_LA_HOME": 70,
    "OTHER_RESIDENTIAL": 2,
}


def _trajectory(spec: Spec, mid: str, q: dt.date, base_q: dt.date, base_v: float) -> float | None:
    """Straight lines from the baseline to each milestone (fixture only; measures.md §4)."""
    m = spec.measures.measure(mid)
    if m.standing_target is not None:
        return m.standing_target
    if not m.targets or q < base_q:
        return None
    points = [(base_q, base_v)] + [(t.date, t.value) for t in m.targets]
    for (d0, v0), (d1, v1) in zip(points, points[1:], strict=False):
        if d0 <= q <= d1:
            return v0 + (v1 - v0) * (q - d0).days / (d1 - d0).days
    return points[-1][1]


def _target(spec: Spec, mid: str, q: dt.date) -> float | None:
    m = spec.measures.measure(mid)
    if m.standing_target is not None:
        return m.standing_target
    later = [t for t in m.targets if t.date >= q]
    if later:
        return later[0].value
    return m.targets[-1].value if m.targets else None


def _rag(value: float | None, ref: float | None, direction: str, denominator: int | None) -> str:
    if ref is None:
        return ""
    if value is None or (denominator is not None and denominator < 10):
        return "Not rated"
    worse_by = (ref - value) if direction == "up" else (value - ref)
    if worse_by <= 0:
        return "Green"
    return "Amber" if worse_by <= 5 else "Red"


def _trend(prev: float | None, cur: float | None, unit: str, direction: str) -> str:
    if prev is None or cur is None:
        return ""
    diff = cur - prev
    small = abs(diff) < 1.0 if unit in ("percent", "pp") else abs(diff) < 0.05 * abs(prev)
    if direction == "ctx":
        return "stable" if small else ("up" if diff > 0 else "down")
    if small:
        return "stable"
    better = diff > 0 if direction == "up" else diff < 0
    return "improving" if better else "worsening"


def example_measures(spec: Spec | None = None) -> pd.DataFrame:
    """A realistic unsuppressed measures frame: 8 quarters of 8 measures, with breakdowns."""
    spec = spec or default_spec()
    rows: list[dict] = []
    for mid, unit in _UNITS.items():
        m = spec.measures.measure(mid)
        if mid in _SERIES:
            pairs = _SERIES[mid]
            values = [None if n is None else 100.0 * n / d for n, d in pairs]
        else:
            pairs = [(None, None)] * len(_QUARTERS)
            values = _COUNTS[mid]
        base = next((q, v) for q, v in zip(_QUARTERS, values, strict=True) if v is not None)
        for i, q in enumerate(_QUARTERS):
            n, d = pairs[i]
            v = values[i]
            traj = _trajectory(spec, mid, q, *base) if m.has_target else None
            rag = _rag(v, traj, m.direction, d) if m.has_target else ""
            prev = values[i - 1] if i else None
            year = values[i - 4] if i >= 4 else None
            rows.append(
                {
                    "measure_id": mid,
                    "quarter_end": q,
                    "breakdown": "all",
                    "numerator": n,
                    "denominator": d,
                    "value": v,
                    "unit": unit,
                    "target": _target(spec, mid, q) if m.has_target else None,
                    "trajectory": traj,
                    "rag": rag,
                    "trend": _trend(prev, v, unit, m.direction),
                    "trend_year": _trend(year, v, unit, m.direction),
                    "signal": "trend" if (mid == "H01" and q == QE) else "",
                    "excluded": 4 if mid == "H01" else None,
                    "pending": 2 if mid == "H01" else None,
                    "reason": "no Progress returns before 2019/20" if v is None else "",
                }
            )
    rows += [
        {
            "measure_id": "H01",
            "quarter_end": QE,
            "breakdown": "at_home",
            "numerator": 3,
            "denominator": 7,
            "value": 300.0 / 7,
            "unit": "percent",
        },
        {
            "measure_id": "H01",
            "quarter_end": QE,
            "breakdown": "away_from_home",
            "numerator": 22,
            "denominator": 33,
            "value": 2200.0 / 33,
            "unit": "percent",
        },
        {
            "measure_id": "M01",
            "quarter_end": QE,
            "breakdown": "care_experienced",
            "numerator": 10,
            "denominator": 12,
            "value": 1000.0 / 12,
            "unit": "percent",
            "reason": "small base",
        },
    ]
    rows += [
        {
            "measure_id": "L01",
            "quarter_end": QE,
            "breakdown": code,
            "value": float(v),
            "unit": "count",
        }
        for code, v in _L01_BREAKDOWN.items()
    ]
    df = pd.DataFrame(rows, columns=MEASURE_COLUMNS)
    for c in ("numerator", "denominator", "excluded", "pending"):
        df[c] = df[c].astype("Int64")
    for c in ("value", "target", "trajectory"):
        df[c] = df[c].astype("Float64")
    for c in ("rag", "trend", "trend_year", "signal", "reason"):
        df[c] = df[c].fillna("").astype(str)
    return df.sort_values(["measure_id", "quarter_end", "breakdown"], ignore_index=True)


def example_public_measures(measures: pd.DataFrame, symbol: str = "c") -> pd.DataFrame:
    """The example frame as the disclosure step would hand it over (fixture rules only)."""
    out = measures.copy()
    for c in ("numerator", "denominator", "value"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)

    def hide(mask: pd.Series, cols: tuple[str, ...]) -> None:
        for c in cols:
            out.loc[mask, c] = symbol

    small_n = measures["numerator"].between(1, 4).fillna(False)
    small_count = (measures["unit"].eq("count") & measures["value"].between(1, 4)).fillna(False)
    hide(small_n, ("numerator", "value"))
    hide(small_count, ("value",))
    # secondary suppression so the hidden cells cannot be found by subtraction
    at = (measures["quarter_end"] == QE) & (measures["measure_id"] == "H01")
    hide(at & measures["breakdown"].eq("away_from_home"), ("numerator", "value"))
    l01 = (measures["quarter_end"] == QE) & (measures["measure_id"] == "L01")
    hide(l01 & measures["breakdown"].eq("RES_LA_HOME"), ("value",))
    return out


def example_inputs(public: bool = False, spec: Spec | None = None) -> ReportInputs:
    """A realistic quarter (Q2 2020/21) for tests and smoke runs: leads' text contains
    `&`, `<`, `>` and a leading `=`; one count of 3 is suppressed in the public pack."""
    spec = spec or default_spec()
    measures = example_measures(spec)
    if public:
        measures = example_public_measures(measures, spec.measures.disclosure.symbol)
    ts = pd.Timestamp
    expected = pd.DataFrame(
        [
            ("CSW", "accepted", False, ts("2020-10-15 09:12")),
            ("NHSG", "accepted with warnings", True, ts("2020-10-26 16:40")),
            ("EDU", "accepted", False, ts("2020-10-19 11:02")),
            ("HSCP", "rejected", False, ts("2020-10-20 14:30")),
            ("ICSB", "accepted", False, ts("2020-10-21 10:00")),
            ("CPC", "accepted", False, ts("2020-10-14 08:55")),
            ("CPIG", "accepted with warnings", False, ts("2020-10-21 17:05")),
            ("IJB", "missing", False, pd.NaT),
            ("BIU", "accepted", False, ts("2020-10-12 12:00")),
        ],
        columns=["code", "status", "late", "received_at"],
    )
    subs = {s.code: s for s in spec.returns.submitters}
    expected.insert(1, "name", [subs[c].name if c in subs else c for c in expected["code"]])
    expected.insert(2, "kind", [subs[c].kind if c in subs else "lead" for c in expected["code"]])
    returns = pd.DataFrame(
        [
            (
                f"{r.code}_Q2_2020.xlsx",
                f"{i:02d}" * 32,
                r.code,
                QE,
                r.status,
                1 if r.status == "rejected" else 0,
                2 if "warnings" in r.status else 0,
                r.late,
                False,
                r.received_at,
            )
            for i, r in enumerate(expected.itertuples())
            if r.status != "missing"
        ],
        columns=RETURN_COLUMNS,
    )
    progress = pd.DataFrame(
        [
            (
                "ICSB",
                "2.1",
                "On track",
                "CAMHS waiting-list initiative & school counselling "
                "expanded; waits > 18 weeks down to 12.",
                pd.NaT,
            ),
            (
                "CPC",
                "2.2",
                "On track",
                'Views recorded at 88% of conferences (<90% aim); "Mind of My Own" app live.',
                pd.NaT,
            ),
            (
                "ICSB",
                "3.1",
                "At risk",
                "Out-of-area placements remain high; commissioning review under way.",
                pd.NaT,
            ),
            ("CPIG", "3.2", "On track", "Attendance gap narrowing: see EDU return.", pd.NaT),
            (
                "CPIG",
                "3.3",
                "Complete",
                "=Workshop held 28/11/2019 & charter agreed; IHAs within "
                "4 weeks <50% last year, now > target",
                ts("2019-12-12"),
            ),
            (
                "CPIG",
                "3.4",
                "Off track",
                "Reviews delayed by staff absence; recovery plan agreed with team leads.",
                pd.NaT,
            ),
            (
                "CPIG",
                "4.1",
                "On track",
                "+Pathway co-ordinator post filled; contact rates up.",
                pd.NaT,
            ),
            (
                "ICSB",
                "5.1",
                "Complete",
                "QAF implemented October 2019; first annual report due October 2020.",
                ts("2019-10-28"),
            ),
            ("BIU", "5.2", "On track", "#N/A", pd.NaT),
            (
                "ICSB",
                "5.3",
                "Complete",
                "Communication Strategy agreed 30/10/2019.",
                ts("2019-10-30"),
            ),
            ("BIU", "5.4", "On track", "@BIU quarterly Data Summary now automated.", pd.NaT),
        ],
        columns=PROGRESS_COLUMNS,
    )
    milestones = pd.DataFrame(
        [
            (m.id, m.action, m.due, m.text, status, done)
            for m, (status, done) in zip(
                spec.plan.milestones,
                [
                    ("missed", dt.date(2019, 12, 12)),
                    ("met", dt.date(2019, 12, 12)),
                    ("met", dt.date(2019, 10, 28)),
                    ("met", dt.date(2019, 10, 30)),
                    ("not yet due", None),
                ],
                strict=False,
            )
        ],
        columns=MILESTONE_COLUMNS,
    )
    milestone_results = pd.DataFrame(
        [
            ("H01", QE, 50.0, 62.5, "met"),
            ("S01", QE, 100.0, 7800.0 / 86, "not met"),
        ],
        columns=MILESTONE_RESULT_COLUMNS,
    )
    warnings = pd.DataFrame(
        [
            (
                "NHSG",
                "NHSG_Q2_2020.xlsx",
                "Health_Assessments",
                "row 14",
                "W-DATE-LATE",
                "Date of assessment is more than 90 days after accommodation",
                "Child moved area & was assessed in <Highland>",
            ),
            (
                "CPIG",
                "CPIG_Q2_2020.xlsx",
                "Progress",
                "row 3",
                "W-TEXT-LONG",
                "Progress update is longer than 1,000 characters",
                "",
            ),
        ],
        columns=WARNING_COLUMNS,
    )
    mismatches = pd.DataFrame(
        [
            (QE, "AB12CD34", "NHSG Health_Assessments", "CSW LAC_Starts"),
        ],
        columns=MISMATCH_COLUMNS,
    )
    revisions = pd.DataFrame(
        [
            ("H01", dt.date(2020, 6, 30), "all", 47.5, 50.0, "2020-06-30 v1"),
        ],
        columns=REVISION_COLUMNS,
    )
    return ReportInputs(
        quarter_end=QE,
        measures=measures,
        public=public,
        returns=returns,
        expected=expected,
        progress=progress,
        milestones=milestones,
        milestone_results=milestone_results,
        warnings=warnings,
        mismatches=mismatches,
        revisions=revisions,
        version="2020-09-30 v1",
        generated_on=dt.date(2020, 10, 28),
        spec=spec,
    )
