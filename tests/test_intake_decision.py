"""The status decision, from literal facts: no store, no files, no clock.

Each expected outcome is written out by hand from the contract (returns.md: supersession,
deadlines, revisions, an unreadable Cover), not computed by the code under test.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from transforms.intake.decision import Live, Submission, decide

Q2 = dt.date(2020, 9, 30)  # due 21 Oct 2020 (21 days)
ON_TIME = dt.datetime(2020, 10, 5, 9, 0, tzinfo=dt.UTC)
LATE = dt.datetime(2020, 10, 21, 23, 30, tzinfo=dt.UTC)  # 22 Oct 00:30 in London
EARLIER = Live("a" * 64, 3, dt.datetime(2020, 10, 1, 8, 15))  # naive: as SQLite gives it
LATER = Live("c" * 64, 9, dt.datetime(2020, 10, 7, 12, 0))


def sub(status: str = "accepted", **kw: object) -> Submission:
    facts: dict[str, object] = dict(
        sha256="b" * 64,
        seq=5,
        original_name="CSW Q2.xlsx",
        first_seen_at=ON_TIME,
        submitter="CSW",
        quarter_end=Q2,
        checked_status=status,
        errors=0,
        warnings=0,
    )
    facts.update(kw)
    return Submission(**facts)  # type: ignore[arg-type]


def test_first_accepted_return_is_in_force_and_replaces_nothing():
    out = decide(sub(), [], issued=[], deadline_days=21)
    assert (out.status, out.in_force, out.keeps_rows) == ("accepted", True, True)
    assert out.supersedes == () and out.superseded_by is None
    assert not (out.late or out.revision or out.cover_missing)
    assert out.line == "CSW 2020-09-30: accepted — 0 errors, 0 warnings."


def test_accepted_resubmission_supersedes_the_earlier_return():
    out = decide(sub("accepted with warnings", warnings=2), [EARLIER], [], 21)
    assert out.status == "accepted with warnings"
    assert out.supersedes == (EARLIER.sha256,)
    assert out.line == (
        "CSW 2020-09-30: accepted with warnings — 0 errors, 2 warnings. "
        "It replaces your earlier return (received 01 Oct 2020 09:15)."  # BST
    )


def test_return_received_before_one_already_in_force_is_born_superseded():
    out = decide(sub(), [EARLIER, LATER], [], 21)
    assert (out.status, out.superseded_by, out.supersedes) == ("superseded", LATER.sha256, ())
    assert not out.in_force and out.keeps_rows  # its rows are kept, as history
    assert out.line.endswith("A later return you sent for this quarter is in force instead.")


def test_rejected_resubmission_leaves_the_earlier_return_in_force():
    out = decide(sub("rejected", errors=1), [EARLIER], [], 21)
    assert (out.status, out.supersedes, out.keeps_rows) == ("rejected", (), False)
    assert out.line == (
        "CSW 2020-09-30: rejected — 1 error, 0 warnings. Your earlier accepted return "
        "(received 01 Oct 2020 09:15) stays in force."
    )


def test_rejected_first_return_asks_for_a_corrected_one():
    out = decide(sub("rejected", errors=3, warnings=1), [], [], 21)
    assert out.line == (
        "CSW 2020-09-30: rejected — 3 errors, 1 warning. Nothing from this workbook is used: "
        "please correct it and send it again."
    )


def test_clean_workbook_without_a_readable_cover_is_rejected():
    out = decide(sub(submitter=None, quarter_end=None), [EARLIER], [], 21)
    assert (out.status, out.errors, out.cover_missing, out.keeps_rows) == (
        "rejected",
        1,
        True,
        False,
    )
    assert out.supersedes == () and out.superseded_by is None
    assert out.line == (
        "CSW Q2.xlsx: rejected — 1 error, 0 warnings. Nothing from this workbook is used: "
        "please correct it and send it again. The Cover sheet could not be read "
        "(submitter code and quarter end)."
    )


def test_rejected_workbook_without_a_cover_gets_no_extra_error():
    out = decide(sub("rejected", errors=2, submitter=None, quarter_end=None), [], [], 21)
    assert (out.errors, out.cover_missing) == (2, False)


def test_late_is_judged_in_london_time_at_the_deadline():
    late = decide(sub(first_seen_at=LATE), [], [], 21)
    assert late.late and late.line.endswith("Received after the due date (21 Oct 2020).")
    last_minute = dt.datetime(2020, 10, 21, 22, 59, tzinfo=dt.UTC)  # 23:59 in London
    assert not decide(sub(first_seen_at=last_minute), [], [], 21).late
    assert decide(sub(first_seen_at=last_minute), [], [], 20).late  # a shorter deadline


def test_accepted_return_for_an_issued_quarter_is_a_revision():
    out = decide(sub(), [EARLIER], issued=[Q2], deadline_days=21)
    assert out.revision
    assert out.line.endswith(
        "The report for this quarter was already issued: the next report will show the "
        "revised figures."
    )
    rejected = decide(sub("rejected", errors=1), [], issued=[Q2], deadline_days=21)
    assert not rejected.revision


def test_outcome_is_immutable():
    out = decide(sub(), [], [], 21)
    assert dataclasses.is_dataclass(out)
    try:
        out.status = "rejected"  # type: ignore[misc]
    except dataclasses.FrozenInstanceError:
        pass
    else:
        raise AssertionError("Outcome must be frozen")
