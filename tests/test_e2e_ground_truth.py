"""Every measure, for every sample quarter, against the generator's ground truth.

The expected figures are computed here, directly from the generator's child-level and
in-force records with plain pandas written for this test — not by the measure engine — and
compared with what the pipeline computes from the workbooks it filed.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from transforms.measures.targets import measures_table
from transforms.quarters import quarter_range
from transforms.spec import default_spec
from transforms.store.accepted import accepted_data

pytestmark = pytest.mark.e2e

SPEC = default_spec()
QUARTERS = [
    q.isoformat() for q in quarter_range(SPEC.plan.first_quarter, pd.Timestamp("2022-09-30").date())
]

ITEM_RATIOS = {  # measure: (sheet, numerator item, denominator item) as measures.md §2 states
    "S01": ("Short_Breaks", "plans_reviewed_in_timescale", "children_short_breaks_qe"),
    "M01": ("CAMHS", "started_within_18wk", "started_treatment"),
    "C02": ("Child_Protection", "icpcc_in_timescale", "icpcc_held"),
    "C04": ("Child_Protection", "re_registrations_18m", "registrations"),
    "C06": ("Child_Protection", "conferences_views_recorded", "conferences_child_5plus"),
    "A01": ("Care_Leavers", "in_contact", "eligible_aftercare_qe"),
    "A02": ("Care_Leavers", "in_eet", "known_activity"),
    "A04": ("Care_Leavers", "feedback_positive", "feedback_responses"),
    "T01": ("Transitions", "with_transition_plan", "yp_15plus_open"),
    "T02": ("Transitions", "evaluations_positive", "transitions_evaluated"),
}
ITEM_VALUES = {
    "S02": ("Short_Breaks", "children_short_breaks_qe"),
    "C01": ("Child_Protection", "ird_held"),
    "C03": ("Child_Protection", "on_register_qe"),
}
COMMUNITY = {
    "AT_HOME",
    "KINSHIP",
    "FOSTER_LA",
    "FOSTER_PURCHASED",
    "PROSPECTIVE_ADOPTERS",
    "OTHER_COMMUNITY",
}


@pytest.fixture(scope="module")
def computed(sample_store):
    with sample_store["engine"].connect() as conn:
        data = accepted_data(conn)
    frame = measures_table(data, SPEC, pd.Timestamp("2022-09-30").date(), SPEC.plan.first_quarter)
    frame = frame.assign(quarter_end=pd.to_datetime(frame["quarter_end"]).dt.strftime("%Y-%m-%d"))
    return frame.set_index(["measure_id", "quarter_end", "breakdown"])


@pytest.fixture(scope="module")
def truth(sample_store):
    t = sample_store["truth"]
    out = {}
    for name, frame in t.items():
        f = frame.copy()
        if "quarter_end" in f:
            f["quarter_end"] = pd.to_datetime(f["quarter_end"]).dt.strftime("%Y-%m-%d")
        out[name] = f
    return out


def _in_force(truth, submitter: str, quarter: str) -> bool:
    f = truth["in_force"]
    return bool(((f["submitter"] == submitter) & (f["quarter_end"] == quarter)).any())


def _value(computed, measure, quarter, breakdown="all"):
    return computed.loc[(measure, quarter, breakdown)]


def _assert_close(row, expected, what):
    if expected is None:
        assert pd.isna(row["value"]), f"{what}: expected blank, got {row['value']}"
        assert row["reason"], f"{what}: a blank value needs a reason"
    else:
        assert not pd.isna(row["value"]), f"{what}: expected {expected}, got blank"
        assert math.isclose(float(row["value"]), expected, rel_tol=1e-9, abs_tol=1e-9), (
            f"{what}: expected {expected}, got {row['value']}"
        )


def _dt(s):
    return pd.to_datetime(s)


@pytest.mark.parametrize("quarter", QUARTERS)
def test_health_assessment_measures(computed, truth, quarter):
    ha = truth["Health_Assessments"]
    rows = ha[ha["quarter_end"] == quarter]
    if not _in_force(truth, "NHSG", quarter):
        for m in ("H01", "H02", "H03"):
            _assert_close(_value(computed, m, quarter), None, f"{m} {quarter}")
        return
    acc, iha = _dt(rows["date_accommodated"]), _dt(rows["date_iha"])
    ended, notified = _dt(rows["date_episode_ended"]), _dt(rows["date_notified"])
    completed = _dt(rows["date_completed"])
    excluded = ended.notna() & ((ended - acc).dt.days <= 28)
    pending = ~excluded & iha.isna() & ((completed - acc).dt.days <= 28)
    keep = ~excluded & ~pending
    for breakdown, mask in (
        ("all", keep),
        ("at_home", keep & (rows["placement_type"] == "AT_HOME")),
        ("away_from_home", keep & (rows["placement_type"] != "AT_HOME")),
    ):
        den = int(mask.sum())
        n1 = int((mask & ((iha - acc).dt.days <= 28)).sum())
        n2 = int((mask & ((iha - notified).dt.days <= 28)).sum())
        for m, num in (("H01", n1), ("H02", n2)):
            row = _value(computed, m, quarter, breakdown)
            _assert_close(row, 100 * num / den if den else None, f"{m} {quarter} {breakdown}")
            if den:
                assert int(row["numerator"]) == num and int(row["denominator"]) == den
    h01 = _value(computed, "H01", quarter)
    assert int(h01["excluded"]) == int(excluded.sum())
    assert int(h01["pending"]) == int(pending.sum())
    days = (iha - acc).dt.days.dropna()
    _assert_close(
        _value(computed, "H03", quarter),
        float(days.median()) if len(days) else None,
        f"H03 {quarter}",
    )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_item_measures(computed, truth, quarter):
    items = truth["items"]
    q = items[items["quarter_end"] == quarter]

    def item(sheet, name):
        v = q[(q["sheet"] == sheet) & (q["item"] == name)]["value"]
        return None if v.empty or pd.isna(v.iloc[0]) else float(v.iloc[0])

    for m, (sheet, num, den) in ITEM_RATIOS.items():
        owner = SPEC.returns.sheet_owner(sheet)
        n, d = item(sheet, num), item(sheet, den)
        expected = (
            (100 * n / d if (n is not None and d) else None)
            if _in_force(truth, owner, quarter)
            else None
        )
        _assert_close(_value(computed, m, quarter), expected, f"{m} {quarter}")
    for m, (sheet, name) in ITEM_VALUES.items():
        owner = SPEC.returns.sheet_owner(sheet)
        expected = item(sheet, name) if _in_force(truth, owner, quarter) else None
        _assert_close(_value(computed, m, quarter), expected, f"{m} {quarter}")
    if _in_force(truth, "NHSG", quarter):
        n, d = (
            item("CAMHS", "started_within_18wk_care_exp"),
            item("CAMHS", "started_treatment_care_exp"),
        )
        _assert_close(
            _value(computed, "M01", quarter, "care_experienced"),
            100 * n / d if (n is not None and d) else None,
            f"M01 ce {quarter}",
        )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_looked_after_measures(computed, truth, quarter):
    census = truth["LAC_Census"]
    c = census[census["quarter_end"] == quarter]
    starts = truth["LAC_Starts"]
    if not _in_force(truth, "CSW", quarter):
        for m in ("L01", "L02", "L03", "L04", "L05"):
            _assert_close(_value(computed, m, quarter), None, f"{m} {quarter}")
        return
    total = c["children_in_city"] + c["children_outwith_city"]
    _assert_close(_value(computed, "L01", quarter), float(total.sum()), f"L01 {quarter}")
    for _, r in c.iterrows():
        _assert_close(
            _value(computed, "L01", quarter, r["placement_type"]),
            float(r["children_in_city"] + r["children_outwith_city"]),
            f"L01 {quarter} {r['placement_type']}",
        )
    community = total[c["placement_type"].isin(COMMUNITY)].sum()
    _assert_close(_value(computed, "L02", quarter), 100 * community / total.sum(), "L02")
    away = c[c["placement_type"] != "AT_HOME"]
    away_total = (away["children_in_city"] + away["children_outwith_city"]).sum()
    _assert_close(
        _value(computed, "L03", quarter),
        100 * away["children_outwith_city"].sum() / away_total,
        "L03",
    )
    in_house = total[c["placement_type"].isin({"FOSTER_LA", "KINSHIP"})].sum()
    _assert_close(_value(computed, "L04", quarter), float(in_house), "L04")
    _assert_close(
        _value(computed, "L05", quarter), float((starts["quarter_end"] == quarter).sum()), "L05"
    )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_school_measures(computed, truth, quarter):
    school = truth["School_Outcomes"]
    s = school[school["quarter_end"] == quarter].set_index("pupil_group")
    if not _in_force(truth, "EDU", quarter):
        for m in ("G01", "G02"):
            _assert_close(_value(computed, m, quarter), None, f"{m} {quarter}")
        return
    away = s.loc[["LAC_KINSHIP", "LAC_FOSTER", "LAC_RESIDENTIAL"]]
    gap = (
        100 * away["sessions_attended"].sum() / away["sessions_possible"].sum()
        - 100
        * s.loc["LAC_AT_HOME", "sessions_attended"]
        / s.loc["LAC_AT_HOME", "sessions_possible"]
    )
    _assert_close(_value(computed, "G01", quarter), gap, f"G01 {quarter}")
    for group, r in s.iterrows():
        rate = 1000 * r["exclusion_incidents"] / r["pupils"] if r["pupils"] else None
        _assert_close(_value(computed, "G02", quarter, group), rate, f"G02 {quarter} {group}")
    _assert_close(
        _value(computed, "G02", quarter),
        1000 * s.loc["LAC_AT_HOME", "exclusion_incidents"] / s.loc["LAC_AT_HOME", "pupils"],
        f"G02 {quarter}",
    )


@pytest.mark.parametrize("quarter", QUARTERS)
def test_progress_measure(computed, truth, quarter):
    p = truth["Progress"]
    q = p[(p["quarter_end"] == quarter) & p["status"].notna()]
    expected = 100 * q["status"].isin(["On track", "Complete"]).sum() / len(q) if len(q) else None
    _assert_close(_value(computed, "Q01", quarter), expected, f"Q01 {quarter}")


def test_a_missing_return_is_blank_not_zero(computed, truth):
    missing = [
        (s, q)
        for s in ("CSW", "NHSG", "EDU", "HSCP")
        for q in QUARTERS
        if not _in_force(truth, s, q)
    ]
    assert missing, "the sample should have at least one quarter with no data in force"
    for submitter, quarter in missing:
        sheet_measures = [
            m.id for m in SPEC.measures.measures if SPEC.returns.sheet_owner(m.sheet) == submitter
        ]
        for m in sheet_measures:
            row = _value(computed, m, quarter)
            assert pd.isna(row["value"]) and row["reason"] == "return not received", (m, quarter)
