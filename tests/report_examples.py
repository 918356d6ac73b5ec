"""The example quarter the report tests render: `example_inputs()` (Q2 2020/21, eight
measures over eight quarters, leads' text with `&`, `<`, `>` and a leading `=`) and
`many_measures_inputs()` (every spec measure with a series, so the small multiples run over
several pages and every table is long).

The measures frame is built the way the pipeline builds it: literal numerators and
denominators (or values, for counts, medians and gaps) per quarter go through the real
status step (`transforms.measures.targets.add_status`: target in force, trajectory, RAG,
trend, run-chart signal), the public pack's frame through the real disclosure control, and
the measure target milestones through `targets.milestone_results`. Nothing here states a
RAG, a target or a trend.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from transforms.measures.disclosure import public_measures
from transforms.measures.targets import add_status, milestone_results
from transforms.quarters import shift_quarters
from transforms.reports.inputs import (
    MEASURE_COLUMNS,
    MILESTONE_COLUMNS,
    MISMATCH_COLUMNS,
    PROGRESS_COLUMNS,
    RETURN_COLUMNS,
    REVISION_COLUMNS,
    WARNING_COLUMNS,
    ReportInputs,
)
from transforms.spec import Spec, default_spec

QE = dt.date(2020, 9, 30)
QUARTERS = [shift_quarters(QE, -k) for k in range(7, -1, -1)]  # 2018-12-31 .. 2020-09-30

#: (numerator, denominator) per quarter, oldest first.
SERIES: dict[str, list[tuple[int | None, int | None]]] = {
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
#: Values per quarter of the measures without a numerator (counts, medians, gaps).
VALUES: dict[str, list[float]] = {
    "L01": [548, 551, 560, 566, 571, 569, 565, 562],
    "H03": [41.0, 39.5, 38.0, 36.0, 33.0, 31.5, 30.0, 24.5],
    "G01": [6.8, 6.4, 6.9, 6.1, 5.6, 5.9, 5.2, 4.8],
}
L01_BREAKDOWN = {
    "AT_HOME": 140,
    "KINSHIP": 120,
    "FOSTER_LA": 150,
    "FOSTER_PURCHASED": 80,
    "RES_LA_HOME": 70,
    "OTHER_RESIDENTIAL": 2,
}
#: The quarter's breakdowns: (measure, breakdown, numerator, denominator, reason).
BREAKDOWNS = [
    ("H01", "at_home", 3, 7, None),
    ("H01", "away_from_home", 22, 33, None),
    ("M01", "care_experienced", 10, 12, "small base"),
]


def _row(mid: str, q: dt.date, breakdown: str, n: int | None, d: int | None, **kw: object) -> dict:
    value = None if n is None or d is None else 100.0 * n / d
    return {
        "measure_id": mid,
        "quarter_end": pd.Timestamp(q),
        "breakdown": breakdown,
        "numerator": n,
        "denominator": d,
        "value": kw.pop("value", value),
        **kw,
    }


def _figures(spec: Spec) -> pd.DataFrame:
    """The figures step's output for the example: headline series and the quarter's
    breakdowns, with exclusions and pending records on H01, before any status."""
    rows = []
    for mid, pairs in SERIES.items():
        for q, (n, d) in zip(QUARTERS, pairs, strict=True):
            reason = "no Progress returns before 2019/20" if n is None else None
            extra = {"excluded": 4, "pending": 2} if mid == "H01" else {}
            rows.append(_row(mid, q, "all", n, d, reason=reason, **extra))
    for mid, values in VALUES.items():
        for q, v in zip(QUARTERS, values, strict=True):
            rows.append(_row(mid, q, "all", None, None, value=float(v)))
    for mid, bd, n, d, reason in BREAKDOWNS:
        rows.append(_row(mid, QE, bd, n, d, reason=reason))
    for code, v in L01_BREAKDOWN.items():
        rows.append(_row("L01", QE, code, None, None, value=float(v)))
    frame = pd.DataFrame(rows)
    frame["unit"] = [spec.measures.measure(m).unit for m in frame["measure_id"]]
    for c in ("numerator", "denominator", "excluded", "pending"):
        frame[c] = frame[c].astype("Int64")
    frame["value"] = frame["value"].astype("float64")
    return frame


def example_measures(spec: Spec | None = None) -> pd.DataFrame:
    """A realistic unsuppressed measures frame: 8 quarters of 8 measures, with breakdowns,
    target, trajectory, RAG, trend and signal from `targets.add_status`."""
    spec = spec or default_spec()
    return add_status(_figures(spec), spec, QE)[MEASURE_COLUMNS]


def example_milestone_results(spec: Spec | None = None) -> pd.DataFrame:
    """The measure target milestones of the example, judged by `targets.milestone_results`."""
    spec = spec or default_spec()
    return milestone_results(example_measures(spec), spec)


def example_inputs(public: bool = False, spec: Spec | None = None) -> ReportInputs:
    """A realistic quarter (Q2 2020/21) for tests and smoke runs: leads' text contains
    `&`, `<`, `>` and a leading `=`; the public pack's measures are disclosure-controlled."""
    spec = spec or default_spec()
    measures = example_measures(spec)
    if public:
        measures = public_measures(measures, spec)
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
    milestone_results = example_milestone_results(spec)
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


def many_measures_inputs(public: bool = False, **changes) -> ReportInputs:
    """The example quarter with H01's headline series copied to every spec measure that
    has none (Red and Amber alternately, with run-chart signals), so there are 24 charts."""
    base = example_inputs(spec=changes.pop("spec", None))
    spec = base.spec
    frame = base.measures.copy()
    h01 = frame[(frame["measure_id"] == "H01") & (frame["breakdown"] == "all")]
    have = set(frame["measure_id"])
    copies = []
    for k, m in enumerate(mm for mm in spec.measures.measures if mm.id not in have):
        c = h01.copy()
        c["measure_id"] = m.id
        last = c["quarter_end"] == c["quarter_end"].max()
        c.loc[last, "rag"] = "Red" if k % 2 == 0 else "Amber"
        c.loc[last, "signal"] = "shift" if k % 3 == 0 else "trend"
        copies.append(c)
    frame = pd.concat([frame, *copies], ignore_index=True)
    if public:
        frame = public_measures(frame, spec)
    return dataclasses.replace(base, measures=frame, public=public, **changes)
