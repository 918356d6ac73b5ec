"""Validation: GX suites and pandas rules, each rule by a workbook built to break it."""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path

import pandas as pd
import pytest

from tests.returns_builder import QE, TODAY, Sheets, valid_sheets, write_workbook
from transforms.catalogue import catalogue, load_catalogue
from transforms.findings import STATUS_ACCEPTED, STATUS_REJECTED, STATUS_WARNINGS, Finding
from transforms.intake.rules import (
    RULES_DOC,
    cross_agency_mismatches,
    records_rules,
    rules_markdown,
)
from transforms.intake.sheet_frames import SheetLayout
from transforms.intake.suites import EXPECTATIONS_DIR, build_suites, load_suite_files, suite_json
from transforms.intake.validate import NoPriorData, check_workbook, check_workbooks, run_suite
from transforms.spec import default_spec

SPEC = default_spec()


def _check(sheets: Sheets, tmp_path: Path, name: str = "return.xlsx", **kwargs):
    return check_workbook(write_workbook(sheets, tmp_path / name), today=TODAY, **kwargs)


def _only(result, code: str) -> Finding:
    found = [f for f in result.findings if f.rule == code]
    assert len(found) == 1, [(f.rule, f.location()) for f in result.findings]
    return found[0]


class FakePrior:
    """Literal last-quarter data."""

    def __init__(
        self, items: dict[str, int] | None = None, progress: dict[str, str] | None = None
    ) -> None:
        self.items = items or {}
        self.progress = progress or {}
        self.asked: list[tuple] = []

    def previous_item(self, submitter, sheet, item, quarter_end):
        self.asked.append((submitter, sheet, item, quarter_end))
        return self.items.get(item)

    def previous_progress(self, submitter, quarter_end):
        return dict(self.progress)


# ---------------------------------------------------------------- suites and catalogue
def test_committed_suites_equal_the_generator() -> None:
    built = build_suites()
    files = sorted(p.name for p in EXPECTATIONS_DIR.glob("*.json"))
    assert files == sorted(f"{name}.json" for name in built)
    for name, suite in built.items():
        assert (EXPECTATIONS_DIR / f"{name}.json").read_text(encoding="utf-8") == suite_json(
            suite
        ), f"expectations/{name}.json is stale: run python -m transforms.intake.suites"


def test_gx_keeps_every_expectation_and_codes_are_catalogued() -> None:
    import great_expectations as gx

    rules = catalogue()
    for name, data in load_suite_files().items():
        suite = gx.ExpectationSuite(**json.loads(json.dumps(data)))
        assert len(suite.expectations) == len(data["expectations"]) > 0, name
        for exp in data["expectations"]:
            assert exp["meta"]["rule"] in rules
            assert exp["severity"] in ("critical", "warning")


def test_rules_doc_is_up_to_date() -> None:
    assert RULES_DOC.read_text(encoding="utf-8") == rules_markdown()


def _placeholders(template: str) -> set[str]:
    """The `{names}` a message template uses."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogue_covers_spec_date_rules_and_uses_known_placeholders() -> None:
    rules = load_catalogue()
    for sheet in SPEC.returns.sheets.values():
        for rule in sheet.date_rules:
            assert rules[rule.code].severity == rule.severity
    for rule in rules.values():
        assert _placeholders(rule.message) <= {"where", "sheet", "column", "item", "detail"}


def test_run_suite_on_literal_frame_names_rows_per_source() -> None:
    frame = pd.DataFrame(
        {
            "source": ["a", "a", "b", "b"],
            "excel_row": [2, 3, 2, 3],
            "pupil_group": pd.Series(
                ["ALL_PUPILS", "ALL_PUPILS", "ALL_PUPILS", "NOPE"], dtype="str"
            ),
            "pupils": pd.array([1, None, 1, 1], dtype="Int64"),
            "sessions_possible": pd.array([10, 10, 10, 10], dtype="Int64"),
            "sessions_attended": pd.array([5, 11, 5, 5], dtype="Int64"),
            "exclusion_incidents": pd.array([0, 0, -1, 0], dtype="Int64"),
            "quarter_end": pd.Series(["2020-09-30"] * 4, dtype="str"),
            "cover_date_completed": pd.Series([pd.NaT] * 4, dtype="datetime64[ns]"),
        }
    )
    got = {
        (r.source, r.excel_row, r.rule) for r in run_suite("School_Outcomes", frame).itertuples()
    }
    assert got == {
        ("a", 2, "V-DUPLICATE"),
        ("a", 3, "V-DUPLICATE"),  # same source only
        ("a", 3, "V-REQUIRED"),
        ("a", 3, "V-LE"),
        ("b", 2, "V-RANGE"),
        ("b", 3, "V-CODE"),
    }


# ---------------------------------------------------------------- valid returns
@pytest.mark.parametrize("submitter", [s.code for s in SPEC.returns.submitters])
def test_valid_return_for_every_submitter_is_accepted(tmp_path: Path, submitter: str) -> None:
    result = _check(valid_sheets(submitter), tmp_path)
    assert result.status == STATUS_ACCEPTED, result.findings
    assert set(result.sheets) == set(SPEC.returns.submitter(submitter).sheets)


def test_many_workbooks_in_one_run_match_one_by_one(tmp_path: Path) -> None:
    good = write_workbook(valid_sheets("CSW"), tmp_path / "good.xlsx")
    sheets = valid_sheets("CSW")
    sheets["LAC_Starts"][2][0] = "CS0000"  # duplicate within this workbook
    bad = write_workbook(sheets, tmp_path / "bad.xlsx")
    empty = tmp_path / "empty.xlsx"
    empty.write_bytes(b"")
    batch = check_workbooks([good, (bad, "CSW Q2.xlsx"), empty], today=TODAY)
    assert [r.status for r in batch] == [STATUS_ACCEPTED, STATUS_REJECTED, STATUS_REJECTED]
    assert batch[1].file_name == "CSW Q2.xlsx"
    single = check_workbook(bad, today=TODAY)
    assert sorted(batch[1].findings, key=repr) == sorted(single.findings, key=repr)
    assert {f.row for f in single.findings if f.rule == "V-DUPLICATE"} == {2, 3}


# ---------------------------------------------------------------- GX rules by workbook
@pytest.mark.parametrize(
    ("sheet", "row", "col", "value", "code", "cell"),
    [
        ("LAC_Census", 3, 1, None, "V-REQUIRED", "B3"),
        ("LAC_Census", 3, 0, "FOSTER", "V-CODE", "A3"),
        ("LAC_Census", 4, 0, "AT_HOME", "V-DUPLICATE", "A4"),
        ("LAC_Starts", 2, 2, 18, "V-RANGE", "C2"),
        ("LAC_Starts", 2, 0, "CS-01", "V-CHILD-REF", "A2"),
        ("LAC_Starts", 3, 1, dt.datetime(2020, 6, 30), "V-INSIDE-QUARTER", "B3"),
        ("LAC_Starts", 3, 5, dt.datetime(2020, 7, 1), "LS-D01", "F3"),
        ("LAC_Starts", 4, 3, "Q", "V-CODE", "D4"),
        ("Child_Protection", 2, 0, "ird_heldx", "V-ITEM", "A2"),
        ("Child_Protection", 3, 2, -1, "V-RANGE", "C3"),
    ],
)
def test_csw_gx_rules(tmp_path: Path, sheet, row, col, value, code, cell) -> None:
    sheets = valid_sheets("CSW")
    sheets[sheet][row - 1][col] = value
    result = _check(sheets, tmp_path)
    found = [f for f in result.findings if f.rule == code]
    assert found and found[-1].cell == cell and found[-1].sheet == sheet, result.findings
    assert result.status == STATUS_REJECTED


@pytest.mark.parametrize(
    ("row", "col", "value", "code", "severity"),
    [
        (2, 2, dt.datetime(2020, 7, 2), "HA-D01", "error"),
        (2, 2, dt.datetime(2020, 8, 31), "HA-D02", "warning"),
        (3, 3, dt.datetime(2020, 7, 1), "HA-D03", "error"),
        (3, 3, dt.datetime(2020, 10, 13), "HA-D04", "error"),
        (4, 4, dt.datetime(2020, 7, 4), "HA-D05", "error"),
        (4, 1, dt.datetime(2020, 10, 1), "V-INSIDE-QUARTER", "error"),
    ],
)
def test_health_assessment_date_rules(tmp_path: Path, row, col, value, code, severity) -> None:
    sheets = valid_sheets("NHSG")
    sheets["Health_Assessments"][row - 1][col] = value
    result = _check(sheets, tmp_path)
    found = [f for f in result.findings if f.rule == code]
    assert len(found) == 1, result.findings
    assert found[0].row == row and found[0].severity == severity
    assert found[0].value == value.date().isoformat()


def test_days_after_rule_counts_whole_days_and_skips_blanks() -> None:
    """HA-D02 warns when the notification is more than 28 whole days (floored) after."""
    start = pd.Timestamp("2020-07-01")
    notified = [
        start + pd.Timedelta(days=28),
        start + pd.Timedelta(days=28, hours=23),
        start + pd.Timedelta(days=29),
        pd.NaT,
        start + pd.Timedelta(days=40),
    ]
    accommodated = [start, start, start, start, pd.NaT]
    frame = pd.DataFrame(
        {
            "excel_row": [2, 3, 4, 5, 6],
            "date_accommodated": pd.array(accommodated, dtype="datetime64[ns]"),
            "date_notified": pd.array(notified, dtype="datetime64[ns]"),
        },
        index=[10, 11, 12, 13, 14],
    )  # not a default index
    layout = SheetLayout(
        name="Health_Assessments", title="HA", columns={"date_accommodated": 2, "date_notified": 3}
    )
    found = records_rules("Health_Assessments", frame, layout, SPEC)
    assert [(f.rule, f.cell, f.value) for f in found] == [("HA-D02", "C4", "2020-07-30")]


def test_school_sessions_attended_not_above_possible(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][2][3] = 6001
    result = _check(sheets, tmp_path)
    f = _only(result, "V-LE")
    assert (f.cell, f.value, f.column) == ("D3", "6001", "sessions_attended")


def test_blank_count_in_table_is_an_error(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    sheets["School_Outcomes"][5][4] = None
    assert _only(_check(sheets, tmp_path), "V-REQUIRED").cell == "E6"


# ---------------------------------------------------------------- pandas rules
def test_items_missing_and_le(tmp_path: Path) -> None:
    sheets = valid_sheets("HSCP")
    del sheets["Transitions"][3]  # transitions_completed
    sheets["Transitions"][2][2] = 11  # with_transition_plan > 10
    result = _check(sheets, tmp_path)
    assert _only(result, "R-ITEM-MISSING").message.endswith("must appear once.")
    assert "transitions_completed" in _only(result, "R-ITEM-MISSING").message
    le = _only(result, "R-ITEM-LE")
    assert (le.cell, le.value) == ("C3", "11")
    assert result.status == STATUS_REJECTED


def test_duplicate_item(tmp_path: Path) -> None:
    sheets = valid_sheets("HSCP")
    sheets["Transitions"].append(list(sheets["Transitions"][1]))
    result = _check(sheets, tmp_path)
    assert {f.row for f in result.findings if f.rule == "V-DUPLICATE"} == {2, 7}


def test_blank_value_needs_a_note(tmp_path: Path) -> None:
    sheets = valid_sheets("HSCP")
    sheets["Transitions"][1][2] = None
    sheets["Transitions"][2][2] = None  # le rule skipped when blank
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_WARNINGS
    found = [(f.cell, f.severity) for f in result.findings if f.rule == "R-VALUE-NO-NOTE"]
    assert found == [("C2", "warning"), ("C3", "warning")]
    sheets["Transitions"][1][3] = "system down"
    sheets["Transitions"][2][3] = "as above"
    noted = _check(sheets, tmp_path, name="noted.xlsx")
    assert noted.status == STATUS_ACCEPTED, noted.findings
    assert pd.isna(noted.sheets["Transitions"]["value"].iloc[0])  # never zero


def test_category_missing(tmp_path: Path) -> None:
    sheets = valid_sheets("EDU")
    del sheets["School_Outcomes"][2]
    f = _only(_check(sheets, tmp_path), "R-CATEGORY-MISSING")
    assert "LAC_KINSHIP" in f.message


def test_empty_record_sheet_is_a_nil_return_warning(tmp_path: Path) -> None:
    sheets = valid_sheets("NHSG")
    sheets["Health_Assessments"] = sheets["Health_Assessments"][:1]
    result = _check(sheets, tmp_path)
    assert result.status == STATUS_WARNINGS
    assert "nil return" in _only(result, "R-NIL-RETURN").message
    assert result.sheets["Health_Assessments"].empty


def test_progress_actions_exactly_once(tmp_path: Path) -> None:
    sheets = valid_sheets("CPIG")
    assert len(sheets["Progress"]) == 5  # header + 3.2, 3.3, 3.4, 4.1
    sheets["Progress"][4][0] = "2.1"  # 4.1 missing, 2.1 not CPIG's
    sheets["Progress"].append(list(sheets["Progress"][1]))  # 3.2 twice
    result = _check(sheets, tmp_path)
    assert "4.1" in _only(result, "R-ACTION-MISSING").message
    assert _only(result, "R-ACTION-UNKNOWN").cell == "A5"
    assert {f.row for f in result.findings if f.rule == "V-DUPLICATE"} == {2, 6}


def test_progress_status_and_update_rules(tmp_path: Path) -> None:
    sheets = valid_sheets("CPIG")
    rows = sheets["Progress"]
    rows[1][2] = " on TRACK "  # canonical "On track"
    rows[2][2] = "Finished"  # unknown status
    rows[3][3] = None  # update missing, not complete
    rows[4][2], rows[4][3], rows[4][4] = "Complete", None, None  # complete without date
    result = _check(sheets, tmp_path)
    assert result.sheets["Progress"]["status"].iloc[0] == "On track"
    assert _only(result, "V-CODE").cell == "C3"
    updates = sorted(f.cell for f in result.findings if f.rule == "R-PROGRESS-UPDATE")
    assert updates == ["D4", "D5"]
    assert _only(result, "R-COMPLETION-DATE").cell == "E5"


def test_progress_update_optional_when_complete_twice(tmp_path: Path) -> None:
    sheets = valid_sheets("CPIG")
    sheets["Progress"][4][2:5] = ["Complete", None, dt.datetime(2020, 6, 15)]
    prior = FakePrior(progress={"4.1": "Complete"})
    result = _check(sheets, tmp_path, prior=prior)
    assert result.status == STATUS_ACCEPTED, result.findings
    first_time = _check(sheets, tmp_path, name="again.xlsx", prior=FakePrior())
    assert _only(first_time, "R-PROGRESS-UPDATE").cell == "D5"


def test_completion_date_must_be_blank_unless_complete(tmp_path: Path) -> None:
    sheets = valid_sheets("BIU")
    sheets["Progress"][1][4] = dt.datetime(2020, 9, 1)
    f = _only(_check(sheets, tmp_path), "R-COMPLETION-DATE")
    assert (f.cell, f.value) == ("E2", "2020-09-01")


@pytest.mark.parametrize(("previous", "warned"), [(None, False), (10, False), (30, True)])
def test_register_continuity(tmp_path: Path, previous, warned) -> None:
    # valid sheets: registrations 10, deregistrations 10, on_register_qe 10
    prior = FakePrior(items={} if previous is None else {"on_register_qe": previous})
    result = _check(valid_sheets("CSW"), tmp_path, prior=prior)
    found = [f for f in result.findings if f.rule == "R-REGISTER-CONTINUITY"]
    assert bool(found) == warned
    assert ("CSW", "Child_Protection", "on_register_qe", QE) in prior.asked
    if warned:
        assert found[0].cell == "C8" and found[0].severity == "warning"
        assert result.status == STATUS_WARNINGS


def test_no_prior_data() -> None:
    assert NoPriorData().previous_item("CSW", "Child_Protection", "x", QE) is None
    assert NoPriorData().previous_progress("CPC", QE) == {}


def test_messages_do_not_quote_child_level_values(tmp_path: Path) -> None:
    sheets = valid_sheets("CSW")
    sheets["LAC_Starts"][1][0] = "ZZ-SECRET9"
    result = _check(sheets, tmp_path)
    f = _only(result, "V-CHILD-REF")
    assert f.value == "ZZ-SECRET9"
    assert all("SECRET" not in g.message for g in result.findings)


# ---------------------------------------------------------------- report level
def test_cross_agency_mismatches() -> None:
    q2, q3 = pd.Timestamp(2020, 9, 30), pd.Timestamp(2020, 12, 31)
    starts = pd.DataFrame(
        {"quarter_end": [q2, q2, q2, q3], "child_ref": ["A001", "b002", "C003", "D004"]}
    )
    health = pd.DataFrame({"quarter_end": [q2, q2, q2], "child_ref": ["A001", " B002 ", "E005"]})
    got = cross_agency_mismatches(starts, health)
    assert list(got.columns) == ["quarter_end", "child_ref", "found_in", "missing_from"]
    assert got.to_dict("records") == [
        {
            "quarter_end": q2,
            "child_ref": "C003",
            "found_in": "LAC_Starts",
            "missing_from": "Health_Assessments",
        },
        {
            "quarter_end": q2,
            "child_ref": "E005",
            "found_in": "Health_Assessments",
            "missing_from": "LAC_Starts",
        },
    ]  # q3: NHSG sent nothing
    assert cross_agency_mismatches(starts, health.iloc[0:0]).empty
