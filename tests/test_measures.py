"""The measure engine on literal frames; expected figures worked by hand in the comments."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from transforms.measures.figures import compute_measures
from transforms.spec import default_spec

SPEC = default_spec()
Q2 = dt.date(2020, 9, 30)
Q1 = dt.date(2020, 6, 30)
Q3 = dt.date(2020, 12, 31)
D = pd.Timestamp


def _cover(submitter: str, quarter: dt.date, completed: str, n: int) -> dict:
    return {
        "sha256": [f"{submitter}{quarter}"] * n,
        "submitter": [submitter] * n,
        "quarter_end": [D(quarter)] * n,
        "date_completed": [D(completed)] * n,
        "excel_row": list(range(2, n + 2)),
    }


def items(
    submitter: str, quarter: dt.date, values: dict, completed: str = "2020-10-15"
) -> pd.DataFrame:
    n = len(values)
    return pd.DataFrame(
        {
            **_cover(submitter, quarter, completed, n),
            "item": list(values),
            "description": ["d"] * n,
            "value": pd.array(list(values.values()), dtype="Int64"),
            "notes": pd.array([None] * n, dtype="str"),
        }
    )


def table(
    submitter: str,
    quarter: dt.date,
    key: str,
    rows: dict,
    columns: list[str],
    completed: str = "2020-10-15",
) -> pd.DataFrame:
    n = len(rows)
    frame = pd.DataFrame({**_cover(submitter, quarter, completed, n), key: list(rows)})
    for i, col in enumerate(columns):
        frame[col] = pd.array([v[i] for v in rows.values()], dtype="Int64")
    return frame


def _dates(values: list[str | None]) -> pd.Series:
    return pd.to_datetime(pd.Series(values, dtype="object"))


def health(quarter: dt.date, rows: list[tuple], completed: str = "2020-10-15") -> pd.DataFrame:
    """rows: (ref, accommodated, notified, iha, ended, placement_type)."""
    n = len(rows)
    cols = list(zip(*rows, strict=True)) if rows else [[]] * 6
    return pd.DataFrame(
        {
            **_cover("NHSG", quarter, completed, n),
            "child_ref": pd.array(list(cols[0]), dtype="str"),
            "date_accommodated": _dates(list(cols[1])),
            "date_notified": _dates(list(cols[2])),
            "date_iha": _dates(list(cols[3])),
            "date_episode_ended": _dates(list(cols[4])),
            "placement_type": pd.array(list(cols[5]), dtype="str"),
        }
    )


HEALTH_Q2 = [
    # ref    accommodated  notified      iha           ended         placement
    ("A001", "2020-07-01", "2020-07-02", "2020-07-20", None, "AT_HOME"),  # 19d met; H02 18
    ("B001", "2020-07-01", "2020-07-10", "2020-08-05", None, "KINSHIP"),  # 35d not; H02 26
    ("C001", "2020-07-05", "2020-07-06", None, "2020-07-20", "FOSTER_LA"),  # ended 15d: excl
    ("D001", "2020-09-25", "2020-09-26", None, None, "AT_HOME"),  # pending (20d)
    ("E001", "2020-08-01", "2020-08-03", None, None, "RES_LA_HOME"),  # not met
    ("F001", "2020-07-01", "2020-07-01", "2020-07-10", "2020-07-29", "AT_HOME"),  # ended 28d
    ("G001", "2020-07-01", "2020-07-01", "2020-07-29", None, "FOSTER_LA"),  # exactly 28: met
    ("H001", "2020-09-17", "2020-09-18", None, None, "KINSHIP"),  # pending (28d)
    ("I001", "2020-09-16", "2020-09-16", None, "2020-10-20", "AT_HOME"),  # 29d: not pending
    ("J001", "2020-09-20", "2020-09-20", None, "2020-09-25", "AT_HOME"),  # ended first
]

CENSUS = {  # placement: (in city, outwith)
    "AT_HOME": (30, 0),
    "KINSHIP": (20, 5),
    "FOSTER_LA": (25, 5),
    "FOSTER_PURCHASED": (10, 10),
    "PROSPECTIVE_ADOPTERS": (2, 0),
    "OTHER_COMMUNITY": (0, 0),
    "RES_LA_HOME": (8, 0),
    "RES_VOLUNTARY_HOME": (0, 4),
    "RES_SCHOOL": (0, 6),
    "SECURE": (0, 1),
    "CRISIS_CARE": (0, 0),
    "OTHER_RESIDENTIAL": (1, 0),
}
SCHOOL = {  # pupils, possible, attended, exclusions
    "LAC_AT_HOME": (40, 4000, 3400, 6),
    "LAC_KINSHIP": (30, 3000, 2800, 1),
    "LAC_FOSTER": (50, 5000, 4700, 2),
    "LAC_RESIDENTIAL": (10, 1000, 800, 5),
    "ALL_PUPILS": (20000, 2_000_000, 1_900_000, 300),
}
CP_ITEMS = {
    "ird_held": 40,
    "icpcc_held": 12,
    "icpcc_in_timescale": 9,
    "registrations": 10,
    "re_registrations_18m": 1,
    "deregistrations": 8,
    "on_register_qe": 90,
    "conferences_child_5plus": 0,
    "conferences_views_recorded": 0,
}
CL_ITEMS = {
    "eligible_aftercare_qe": 80,
    "in_contact": 60,
    "receiving_aftercare_qe": 50,
    "known_activity": 40,
    "in_eet": 22,
    "feedback_responses": 7,
    "feedback_positive": 5,
}


def progress(submitter: str, quarter: dt.date, rows: list[tuple]) -> pd.DataFrame:
    n = len(rows)
    return pd.DataFrame(
        {
            **_cover(submitter, quarter, "2020-10-10", n),
            "action_id": pd.array([r[0] for r in rows], dtype="str"),
            "action": pd.array(["text"] * n, dtype="str"),
            "status": pd.array([r[1] for r in rows], dtype="str"),
            "progress_update": pd.array(["u"] * n, dtype="str"),
            "completion_date": _dates([r[2] if len(r) > 2 else None for r in rows]),
        }
    )


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    census_cols = ["children_in_city", "children_outwith_city"]
    school_cols = ["pupils", "sessions_possible", "sessions_attended", "exclusion_incidents"]
    cp_q3 = dict(CP_ITEMS, icpcc_in_timescale=None)  # not available in Q3
    return {
        # CSW sent Q2 and Q3; Q3 LAC_Starts is an accepted nil return.
        "LAC_Census": pd.concat(
            [table("CSW", q, "placement_type", CENSUS, census_cols) for q in (Q2, Q3)],
            ignore_index=True,
        ),
        "LAC_Starts": pd.DataFrame(
            {
                **_cover("CSW", Q2, "2020-10-15", 3),
                "child_ref": pd.array(["A001", "B001", "X001"], dtype="str"),
                "start_date": _dates(["2020-07-01"] * 3),
                "age_at_start": pd.array([3, 4, 5], dtype="Int64"),
                "sex": pd.array(["M", "F", "X"], dtype="str"),
                "placement_type": pd.array(["AT_HOME"] * 3, dtype="str"),
                "date_notified_to_health": _dates([None] * 3),
            }
        ),
        "Child_Protection": pd.concat(
            [items("CSW", Q2, CP_ITEMS), items("CSW", Q3, cp_q3)], ignore_index=True
        ),
        "Short_Breaks": pd.concat(
            [
                items(
                    "CSW", Q2, {"children_short_breaks_qe": 12, "plans_reviewed_in_timescale": 9}
                ),
                items("CSW", Q3, {"children_short_breaks_qe": 0, "plans_reviewed_in_timescale": 0}),
            ],
            ignore_index=True,
        ),
        "Care_Leavers": pd.concat([items("CSW", q, CL_ITEMS) for q in (Q2, Q3)], ignore_index=True),
        # NHSG sent Q2 and Q3; Q3's Health_Assessments is empty.
        "Health_Assessments": health(Q2, HEALTH_Q2),
        "CAMHS": pd.concat(
            [
                items(
                    "NHSG",
                    Q2,
                    {
                        "started_treatment": 50,
                        "started_within_18wk": 45,
                        "waiting_over_18wk_qe": 7,
                        "started_treatment_care_exp": 8,
                        "started_within_18wk_care_exp": 5,
                    },
                ),
                items(
                    "NHSG",
                    Q3,
                    {
                        "started_treatment": 0,
                        "started_within_18wk": 0,
                        "waiting_over_18wk_qe": 7,
                        "started_treatment_care_exp": 0,
                        "started_within_18wk_care_exp": 0,
                    },
                ),
            ],
            ignore_index=True,
        ),
        "School_Outcomes": table("EDU", Q2, "pupil_group", SCHOOL, school_cols),
        "Transitions": items(
            "HSCP",
            Q2,
            {
                "yp_15plus_open": 20,
                "with_transition_plan": None,
                "transitions_completed": 4,
                "transitions_evaluated": 3,
                "evaluations_positive": 2,
            },
        ),
        "Progress": pd.concat(
            [
                progress("ICSB", Q2, [("5.1", "On track"), ("5.3", "Complete", "2020-08-01")]),
                progress(
                    "CPIG",
                    Q2,
                    [
                        ("3.1", "At risk"),
                        ("3.2", "On track"),
                        ("3.3", "Off track"),
                        ("3.4", "Complete", "2020-09-01"),
                    ],
                ),
            ],
            ignore_index=True,
        ),
    }


@pytest.fixture(scope="module")
def frame(data) -> pd.DataFrame:
    return compute_measures(data, SPEC, [Q1, Q2, Q3])


def row(frame: pd.DataFrame, mid: str, q: dt.date, breakdown: str = "all") -> pd.Series:
    hit = frame.loc[
        (frame["measure_id"] == mid)
        & (frame["quarter_end"] == D(q))
        & (frame["breakdown"] == breakdown)
    ]
    assert len(hit) == 1, (mid, q, breakdown, len(hit))
    return hit.iloc[0]


def check(r: pd.Series, num, den, value, reason=None) -> None:
    assert pd.isna(r["numerator"]) if num is None else r["numerator"] == num, r.to_dict()
    assert pd.isna(r["denominator"]) if den is None else r["denominator"] == den, r.to_dict()
    if value is None:
        assert pd.isna(r["value"]), r.to_dict()
    else:
        assert r["value"] == pytest.approx(value, rel=1e-12), r.to_dict()
    assert pd.isna(r["reason"]) if reason is None else r["reason"] == reason, r.to_dict()


def test_every_measure_and_quarter_present(frame):
    ids = [m.id for m in SPEC.measures.measures]
    assert sorted(frame["measure_id"].unique()) == sorted(ids)
    heads = frame.loc[frame["breakdown"] == "all"]
    assert len(heads) == len(ids) * 3
    assert str(frame["numerator"].dtype) == "Int64" and frame["value"].dtype == "float64"


def test_h01_hand_worked(frame):
    # excluded (ended <= 28d): C, F, J; pending: D (20d), H (28d). Cohort left: A B E G I.
    # met within 28d of accommodation: A (19), G (28) -> 2 / 5.
    r = row(frame, "H01", Q2)
    check(r, 2, 5, 40.0)
    assert (r["excluded"], r["pending"]) == (3, 2)
    # at home: F, J excluded, D pending; A met, I not -> 1/2
    r = row(frame, "H01", Q2, "at_home")
    check(r, 1, 2, 50.0)
    assert (r["excluded"], r["pending"]) == (2, 1)
    # away: C excluded, H pending; G met, B and E not -> 1/3
    r = row(frame, "H01", Q2, "away_from_home")
    check(r, 1, 3, 100 / 3)
    assert (r["excluded"], r["pending"]) == (1, 1)


def test_h02_same_exclusions_other_clock(frame):
    # from notification: A 18 met, B 26 met, G 28 met, E and I not -> 3 / 5
    r = row(frame, "H02", Q2)
    check(r, 3, 5, 60.0)
    assert (r["excluded"], r["pending"]) == (3, 2)
    check(row(frame, "H02", Q2, "away_from_home"), 2, 3, 200 / 3)


def test_h03_median_days(frame):
    # rows with an IHA: A 19, B 35, F 9, G 28 -> median 23.5, no exclusions
    check(row(frame, "H03", Q2), None, 4, 23.5)


def test_missing_return_is_blank_not_zero(frame):
    for mid in ("H01", "H03", "S01", "S02", "L01", "L05", "G01", "G02", "M01", "C01", "Q01"):
        check(row(frame, mid, Q1), None, None, None, "return not received")
    check(row(frame, "H01", Q1, "at_home"), None, None, None, "return not received")
    check(row(frame, "L01", Q1, "KINSHIP"), None, None, None, "return not received")
    # EDU, HSCP and leads sent nothing for Q3
    check(row(frame, "G01", Q3), None, None, None, "return not received")
    check(row(frame, "T01", Q3), None, None, None, "return not received")
    check(row(frame, "Q01", Q3), None, None, None, "return not received")


def test_nil_record_return_is_zero_and_empty_cohort_is_blank(frame):
    check(row(frame, "L05", Q3), None, None, 0.0)  # accepted, empty: a true zero
    check(row(frame, "L05", Q2), None, None, 3.0)
    r = row(frame, "H01", Q3)  # NHSG sent CAMHS, no children
    check(r, 0, 0, None, "none in the denominator")
    assert (r["excluded"], r["pending"]) == (0, 0)
    check(row(frame, "H03", Q3), None, 0, None, "none in the denominator")


def test_items(frame):
    check(row(frame, "S01", Q2), 9, 12, 75.0)
    check(row(frame, "S02", Q2), None, None, 12.0)
    check(row(frame, "S01", Q3), 0, 0, None, "none in the denominator")
    check(row(frame, "S02", Q3), None, None, 0.0)  # a reported zero stays zero
    check(row(frame, "C02", Q2), 9, 12, 75.0)
    check(row(frame, "C02", Q3), None, 12, None, "not available")
    check(row(frame, "C04", Q2), 1, 10, 10.0)
    check(row(frame, "C06", Q2), 0, 0, None, "none in the denominator")
    check(row(frame, "C01", Q2), None, None, 40.0)
    check(row(frame, "C03", Q2), None, None, 90.0)
    check(row(frame, "A01", Q2), 60, 80, 75.0)
    check(row(frame, "A02", Q2), 22, 40, 55.0)
    check(row(frame, "A04", Q2), 5, 7, 500 / 7)
    check(row(frame, "T01", Q2), None, 20, None, "not available")
    check(row(frame, "T02", Q2), 2, 3, 200 / 3)


def test_m01_with_care_experienced(frame):
    check(row(frame, "M01", Q2), 45, 50, 90.0)
    check(row(frame, "M01", Q2, "care_experienced"), 5, 8, 62.5)
    check(row(frame, "M01", Q3, "care_experienced"), 0, 0, None, "none in the denominator")


def test_lac_census(frame):
    # totals: in city 96, outwith 31 -> 127
    check(row(frame, "L01", Q2), None, None, 127.0)
    check(row(frame, "L01", Q2, "FOSTER_PURCHASED"), None, None, 20.0)
    check(row(frame, "L01", Q2, "CRISIS_CARE"), None, None, 0.0)
    assert len(frame.loc[(frame["measure_id"] == "L01") & (frame["quarter_end"] == D(Q2))]) == 13
    # community: 30 + 25 + 30 + 20 + 2 + 0 = 107
    check(row(frame, "L02", Q2), 107, 127, 100 * 107 / 127)
    # away from home 127 - 30 = 97; of those outwith 31
    check(row(frame, "L03", Q2), 31, 97, 100 * 31 / 97)
    check(row(frame, "L04", Q2), None, None, 55.0)


def test_school(frame):
    # away pooled 8300/9000, at home 3400/4000
    check(row(frame, "G01", Q2), None, None, 100 * 8300 / 9000 - 85.0)
    check(row(frame, "G02", Q2), 6, 40, 150.0)
    check(row(frame, "G02", Q2, "ALL_PUPILS"), 300, 20000, 15.0)
    check(row(frame, "G02", Q2, "LAC_KINSHIP"), 1, 30, 1000 / 30)
    assert set(frame.loc[(frame["measure_id"] == "G02"), "breakdown"]) == {
        "all",
        "LAC_AT_HOME",
        "LAC_KINSHIP",
        "LAC_FOSTER",
        "LAC_RESIDENTIAL",
        "ALL_PUPILS",
    }


def test_q01_progress(frame):
    # On track or Complete: 5.1, 5.3, 3.2, 3.4 of 6 reported
    check(row(frame, "Q01", Q2), 4, 6, 400 / 6)


def test_other_submitter_rows_do_not_count_as_received():
    # EDU's School_Outcomes exists; NHSG sent nothing: H01 must not be computed as 0/0.
    school = table(
        "EDU",
        Q2,
        "pupil_group",
        SCHOOL,
        ["pupils", "sessions_possible", "sessions_attended", "exclusion_incidents"],
    )
    out = compute_measures({"School_Outcomes": school}, SPEC, [Q2])
    check(row(out, "H01", Q2), None, None, None, "return not received")
    check(row(out, "L05", Q2), None, None, None, "return not received")


def test_quarters_shared_among_forked_children_give_the_frame_computed_in_one_process(
    data,
) -> None:
    """Enough quarters to fork for: the same rows, in the same order, with the same types."""
    from transforms.measures.figures import MIN_QUARTERS_TO_FORK
    from transforms.quarters import shift_quarters

    quarters = [shift_quarters(Q1, i) for i in range(-4, MIN_QUARTERS_TO_FORK)]
    alone = compute_measures(data, SPEC, quarters, processes=1)
    shared = compute_measures(data, SPEC, quarters, processes=2)
    assert set(alone["quarter_end"]) == {D(q) for q in quarters}
    pd.testing.assert_frame_equal(shared, alone)


def test_a_measure_that_fails_in_a_child_fails_here_too(
    data, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A child's error is not lost: its quarters are computed again here, and raise."""
    from transforms.measures import figures
    from transforms.quarters import shift_quarters

    def broken(m, q):
        raise RuntimeError("kind failed")

    monkeypatch.setitem(figures.KINDS, "item_ratio", broken)
    quarters = [shift_quarters(Q1, i) for i in range(figures.MIN_QUARTERS_TO_FORK)]
    with pytest.raises(RuntimeError, match="kind failed"):
        compute_measures(data, SPEC, quarters, processes=2)
